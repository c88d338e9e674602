# cython: language_level=3, boundscheck=False, wraparound=False
"""fastact._core: the compiled ufuncs, built from the C kernel table.

This module is deliberately thin: it selects the SIMD level's loop table
(src/dispatch.c), creates one NumPy ufunc per row of src/kernels.def, and
exposes the thread controls. The Python-facing API lives in fastact/.
"""
from libc.stdlib cimport free, malloc
from cpython.ref cimport PyObject
cimport numpy as cnp
import operator

cnp.import_array()
cnp.import_ufunc()

cdef extern from "fastact.h":
    ctypedef void (*fa_loop_fn)(char **, const cnp.npy_intp *, const cnp.npy_intp *, void *) noexcept nogil
    ctypedef struct fa_kernel_info:
        const char *name
        const char *group
        const char *types
        const char *signature
        const char *params
        const char *checks
        const char *doc
        int ndata
        int saved
        int backward
    const fa_kernel_info fa_kernels[]
    const int fa_nkernels
    int FA_NTYPES
    int FA_SAVED_OUTPUT
    const fa_loop_fn *fa_select_loops(const char **level, const char **error)
    const char *fa_compiled_levels()
    const char *fa_supported_levels()
    int fa_get_num_threads() nogil
    int fa_set_num_threads(int n) nogil
    int fa_have_threads()
    long fa_thread_stats(int which)
    void fa_get_thread_tuning(cnp.npy_intp *min_work, double *min_ns, double *chunk_ns)
    void fa_set_thread_tuning(cnp.npy_intp min_work, double min_ns, double chunk_ns)

cdef extern from *:
    # Set by CMakeLists.txt for `python -m fastact info`.
    const char *FA_COMPILER
    const char *FA_BUILD_FLAGS

cdef extern from "numpy/ufuncobject.h":
    # Only the fields we touch; the real struct is NumPy's.
    ctypedef struct UFuncStruct "PyUFuncObject":
        int nin
        const char *name
        void *type_resolver
    int PyUFunc_DefaultTypeResolver(UFuncStruct *ufunc, int casting,
                                    cnp.PyArrayObject **operands, PyObject *type_tup,
                                    cnp.PyArray_Descr **out_dtypes) except -1


cdef int _type_resolver(UFuncStruct *ufunc, int casting, cnp.PyArrayObject **operands,
                        PyObject *type_tup, cnp.PyArray_Descr **out_dtypes) except -1:
    """NumPy's default resolution, with an error that names the function and
    the offending dtypes (NumPy's says only 'not supported for the input
    types')."""
    try:
        return PyUFunc_DefaultTypeResolver(ufunc, casting, operands, type_tup, out_dtypes)
    except TypeError as exc:
        dtypes = ", ".join(str((<object>operands[i]).dtype)
                           for i in range(ufunc.nin) if operands[i] != NULL)
        raise TypeError(
            f"fastact.{ufunc.name.decode()}: unsupported input dtype ({dtypes}); "
            "fastact computes on real floating point (float16, float32, float64) "
            "and converts integers and booleans as np.exp does") from exc


cdef object _make_ufunc(const fa_kernel_info *info, const fa_loop_fn *loops):
    """One ufunc (a gufunc if the row has a signature) with a loop per float
    dtype. info.types spells the operands: T is the loop's dtype, d float64
    (parameters, so they never change the output dtype), p intp."""
    spec = info.types.decode()
    inputs, outputs = spec.split("->")
    cdef int nin = len(inputs), nout = len(outputs)
    cdef int nargs = nin + nout
    cdef int t, k
    cdef char floats[3]
    floats[0] = cnp.NPY_FLOAT16
    floats[1] = cnp.NPY_FLOAT
    floats[2] = cnp.NPY_DOUBLE
    fixed = {"d": cnp.NPY_DOUBLE, "p": cnp.NPY_INTP}
    cdef char *types = <char *>malloc(FA_NTYPES * nargs)
    cdef void **data = <void **>malloc(FA_NTYPES * sizeof(void *))
    if types == NULL or data == NULL:
        raise MemoryError()
    for t in range(FA_NTYPES):
        data[t] = NULL
        for k, code in enumerate(inputs + outputs):
            types[t * nargs + k] = floats[t] if code == "T" else fixed[code]
    # The ufunc keeps pointers to loops, data and types for its lifetime,
    # which is the process's: these allocations are never freed.
    uf = cnp.PyUFunc_FromFuncAndDataAndSignature(
        <cnp.PyUFuncGenericFunction *>loops, data, types, FA_NTYPES, nin, nout,
        cnp.PyUFunc_None, info.name, info.doc, 0, info.signature)
    (<UFuncStruct *><PyObject *>uf).type_resolver = <void *>_type_resolver
    return uf


# The chosen level's loop table (FA_NTYPES loops per row of fa_kernels), for
# the fast paths below, which call a row's loop without a ufunc.
cdef const fa_loop_fn *_LOOPS = NULL


def _build():
    global _LOOPS
    cdef const char *level = NULL
    cdef const char *error = NULL
    cdef const fa_loop_fn *loops = fa_select_loops(&level, &error)
    _LOOPS = loops
    cdef const fa_kernel_info *info
    cdef int i
    if loops == NULL:
        import os
        compiled = fa_compiled_levels().decode().replace(",", ", ")
        supported = fa_supported_levels().decode().replace(",", ", ")
        raise ImportError(
            f"fastact: FASTACT_SIMD={os.environ.get('FASTACT_SIMD')!r}: {error.decode()}. "
            f"Levels in this build: {compiled}; this CPU supports: {supported}. "
            "Set FASTACT_SIMD to one of those, or unset it to pick the best automatically.")
    ufuncs = {}
    table = []
    for i in range(fa_nkernels):
        info = &fa_kernels[i]
        name = info.name.decode()
        uf = _make_ufunc(info, loops + FA_NTYPES * i)
        # Pickle (and Dask's workers) find a ufunc by module and name; say
        # where, instead of letting pickle scan every module in sys.modules.
        uf.__module__ = __name__
        ufuncs[name] = uf
        table.append(dict(
            name=name, group=info.group.decode(), types=info.types.decode(),
            signature=info.signature.decode() if info.signature != NULL else None,
            ndata=info.ndata, params=info.params.decode(), checks=info.checks.decode(),
            saved="output" if info.saved == FA_SAVED_OUTPUT else "input",
            backward=bool(info.backward)))
    return level.decode(), ufuncs, tuple(table)


_SIMD_LEVEL, _UFUNCS, KERNEL_TABLE = _build()
KERNEL_INDEX = {row["name"]: i for i, row in enumerate(KERNEL_TABLE)}  # a row's loops: _LOOPS[3 i ...]
globals().update(_UFUNCS)
COMPILED_LEVELS = tuple(fa_compiled_levels().decode().split(","))
SUPPORTED_LEVELS = tuple(fa_supported_levels().decode().split(","))  # by this CPU, best last
HAVE_THREADS = bool(fa_have_threads())  # False: a build without pthreads runs serially
BUILD_INFO = {"compiler": FA_COMPILER.decode(), "flags": FA_BUILD_FLAGS.decode()}


def simd_level() -> str:
    """Name of the SIMD level whose kernels run: 'baseline', 'avx2' or 'avx512'."""
    return _SIMD_LEVEL


def get_num_threads() -> int:
    """Threads a large call may use (the calling thread included).

    The default is FASTACT_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs
    this process may run on; 1 in a build without the thread pool."""
    return fa_get_num_threads()


def set_num_threads(n) -> None:
    """Set the threads a large call may use (n >= 1), for the whole process.

    Calls that would take less than ~10 us on one thread always run on one;
    results never depend on the thread count. threadpoolctl can do the same
    (see fastact.register_threadpoolctl)."""
    if isinstance(n, bool):
        raise TypeError("set_num_threads: n must be an integer, got bool")
    n = operator.index(n)
    if n < 1 or fa_set_num_threads(n) != 0:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")


def _thread_stats() -> dict:
    """The pool's counters (tests, diagnostics): workers started, parallel jobs,
    chunks run by workers, the callers' total wait for chunks in flight on
    workers (ns), and the waits over 100 us."""
    return {"workers": fa_thread_stats(0), "jobs": fa_thread_stats(1),
            "worker_chunks": fa_thread_stats(2), "caller_wait_ns": fa_thread_stats(3),
            "long_waits": fa_thread_stats(4)}


def _thread_tuning(min_work=None, min_ns=None, chunk_ns=None) -> tuple:
    """Get (and with arguments, set) when a call goes parallel: at least
    min_work elements and min_ns of estimated serial work, chunks of about
    chunk_ns. Returns the previous (min_work, min_ns, chunk_ns). For tests."""
    cdef cnp.npy_intp w
    cdef double ns, cns
    fa_get_thread_tuning(&w, &ns, &cns)
    old = (w, ns, cns)
    if min_work is not None or min_ns is not None or chunk_ns is not None:
        fa_set_thread_tuning(w if min_work is None else min_work,
                             ns if min_ns is None else min_ns,
                             cns if chunk_ns is None else chunk_ns)
    return old


# --------------------------------------------------------------------------
# Fast paths. A NumPy ufunc call costs ~0.3 us before its loop runs (argument
# parsing, dtype resolution, the iterator; a gufunc ~1 us), as much as the
# work itself on 100 elements. For the common case -- exact ndarrays, native
# float dtypes, C-contiguous, same shapes, out None or a matching array that
# does not partly overlap an input, scalar float parameters -- the functions
# below call the row's loop directly, with the very loop and strides NumPy
# would use, so results are bit-identical. They return None for anything
# else (nothing computed, nothing checked): the caller then takes the ufunc.
# --------------------------------------------------------------------------

cdef enum:
    _NOGIL_MIN = 1 << 14  # elements from which a call releases the GIL (~50 ns)


cdef inline int _slot(object a) noexcept:
    """The loop slot (0 float16, 1 float32, 2 float64) of an exact ndarray of
    at least one dimension, C-contiguous, aligned, native byte order; -1 if
    the fast paths do not take it."""
    if type(a) is not cnp.ndarray:
        return -1
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if (cnp.PyArray_NDIM(arr) == 0 or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or not cnp.PyArray_ISALIGNED(arr) or cnp.PyArray_ISBYTESWAPPED(arr)):
        return -1
    cdef int t = cnp.PyArray_TYPE(arr)
    if t == cnp.NPY_FLOAT:
        return 1
    if t == cnp.NPY_DOUBLE:
        return 2
    if t == cnp.NPY_FLOAT16:
        return 0
    return -1


cdef inline bint _same_dims(cnp.ndarray a, int ndim, const cnp.npy_intp *dims) noexcept:
    if cnp.PyArray_NDIM(a) != ndim:
        return False
    cdef int i
    cdef cnp.npy_intp *d = cnp.PyArray_DIMS(a)
    for i in range(ndim):
        if d[i] != dims[i]:
            return False
    return True


cdef inline bint _apart(cnp.ndarray o, object a, bint same_ok) noexcept:
    """o and the (contiguous) input a share no memory, or (same_ok: an
    element-wise loop) are the same array exactly."""
    if a is None:
        return True
    cdef cnp.ndarray b = <cnp.ndarray>a
    cdef char *po = <char *>cnp.PyArray_DATA(o)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    if po == pb and same_ok and cnp.PyArray_NBYTES(o) == cnp.PyArray_NBYTES(b):
        return True
    return po + cnp.PyArray_NBYTES(o) <= pb or pb + cnp.PyArray_NBYTES(b) <= po


cdef object _output(object out, int t, int typenum, int ndim, const cnp.npy_intp *dims,
                    object a0, object a1, object a2, bint same_ok):
    """out=None: a new array; else out itself if the loop can write it as
    is (exact ndarray, the dtype, the shape, writeable, apart from the
    inputs a0..a2); else None."""
    if out is None:
        return cnp.PyArray_EMPTY(ndim, <cnp.npy_intp *>dims, typenum, 0)
    if _slot(out) != t:
        return None
    cdef cnp.ndarray o = <cnp.ndarray>out
    if (not cnp.PyArray_ISWRITEABLE(o) or not _same_dims(o, ndim, dims) or not _apart(o, a0, same_ok)
            or not _apart(o, a1, same_ok) or not _apart(o, a2, same_ok)):
        return None
    return o


cdef inline void _run(fa_loop_fn fn, char **args, cnp.npy_intp *dims, cnp.npy_intp *steps,
                      cnp.npy_intp work) noexcept:
    if work >= _NOGIL_MIN:
        with nogil:
            fn(args, dims, steps, NULL)
    else:
        fn(args, dims, steps, NULL)


def _elementwise(int row, int nd, int np, a0, a1, out, double p0=0.0, double p1=0.0):
    """Element-wise row `row`: nd data arrays (a0, a1; a1 None when nd == 1)
    and np float parameters (p0, p1) -> the result, or None (see above)."""
    return _elementwise_c(row, nd, np, a0, a1, out, p0, p1)


cdef object _elementwise_c(int row, int nd, int np, a0, a1, out, double p0, double p1):
    cdef int t = _slot(a0)
    if t < 0 or (nd == 2 and _slot(a1) != t):
        return None
    cdef cnp.ndarray x = <cnp.ndarray>a0
    cdef int ndim = cnp.PyArray_NDIM(x)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(x)
    if nd == 2 and not _same_dims(<cnp.ndarray>a1, ndim, dims):
        return None
    y = _output(out, t, cnp.PyArray_TYPE(x), ndim, dims, a0, a1 if nd == 2 else None, None, True)
    if y is None:
        return None
    cdef char *args[5]
    cdef cnp.npy_intp steps[5]
    cdef double params[2]
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(x), size = cnp.PyArray_ITEMSIZE(x)
    cdef int k
    params[0] = p0
    params[1] = p1
    args[0] = <char *>cnp.PyArray_DATA(x)
    if nd == 2:
        args[1] = <char *>cnp.PyArray_DATA(<cnp.ndarray>a1)
    for k in range(nd):
        steps[k] = size
    for k in range(np):
        args[nd + k] = <char *>&params[k]
        steps[nd + k] = 0
    args[nd + np] = <char *>cnp.PyArray_DATA(<cnp.ndarray>y)
    steps[nd + np] = size
    _run(_LOOPS[row * FA_NTYPES + t], args, &n, steps, n)
    return y


cdef inline bint _labels_ok(object labels, int zdim, const cnp.npy_intp *zdims) noexcept:
    """intp class labels shaped like z without its last axis, each in [0, n)."""
    if type(labels) is not cnp.ndarray:
        return False
    cdef cnp.ndarray lab = <cnp.ndarray>labels
    if (cnp.PyArray_TYPE(lab) != cnp.NPY_INTP or not cnp.PyArray_IS_C_CONTIGUOUS(lab)
            or not cnp.PyArray_ISALIGNED(lab) or cnp.PyArray_ISBYTESWAPPED(lab)
            or not _same_dims(lab, zdim - 1, zdims)):
        return False
    cdef const cnp.npy_intp *p = <const cnp.npy_intp *>cnp.PyArray_DATA(lab)
    cdef cnp.npy_intp i, n = zdims[zdim - 1], size = cnp.PyArray_SIZE(lab)
    cdef bint ok = True
    for i in range(size):  # one pass, no early exit: vectorises
        ok &= (p[i] >= 0) & (p[i] < n)
    return ok


def _rows(int row, int kind, a0, a1, a2, out, double p=0.0):
    """Row-wise row `row` over the last axis, by signature kind:
    0 (n),()->(n) x, param; 1 (n),(n),()->(n) grad, y, param;
    2 (n),()->() z, labels; 3 (),(n),()->(n) grad, z, labels.
    Labels: intp, each in [0, n) (else None: the caller's checks report it)."""
    cdef object data = a1 if kind == 3 else a0  # the operand with the rows
    cdef int t = _slot(data)
    if t < 0:
        return None
    cdef cnp.ndarray x = <cnp.ndarray>data
    cdef int ndim = cnp.PyArray_NDIM(x)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(x)
    cdef cnp.npy_intp n = dims[ndim - 1], size = cnp.PyArray_ITEMSIZE(x), total = cnp.PyArray_SIZE(x)
    if total == 0:
        return None
    if kind == 1 and (_slot(a1) != t or not _same_dims(<cnp.ndarray>a1, ndim, dims)):
        return None
    if kind >= 2 and (ndim < 2 or not _labels_ok(a1 if kind == 2 else a2, ndim, dims)):
        return None
    if kind == 3 and (_slot(a0) != t or not _same_dims(<cnp.ndarray>a0, ndim - 1, dims)):
        return None
    y = _output(out, t, cnp.PyArray_TYPE(x), ndim - 1 if kind == 2 else ndim, dims, a0, a1, a2, False)
    if y is None:
        return None
    cdef char *args[4]
    cdef cnp.npy_intp steps[7]
    cdef cnp.npy_intp rdims[2]
    cdef char *yp = <char *>cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef char *xp = <char *>cnp.PyArray_DATA(x)
    rdims[0] = total // n
    rdims[1] = n
    if kind == 0:
        args[0], args[1], args[2] = xp, <char *>&p, yp
        steps[0], steps[1], steps[2], steps[3], steps[4] = n * size, 0, n * size, size, size
    elif kind == 1:
        args[0], args[1], args[2], args[3] = xp, <char *>cnp.PyArray_DATA(<cnp.ndarray>a1), <char *>&p, yp
        steps[0], steps[1], steps[2], steps[3] = n * size, n * size, 0, n * size
        steps[4], steps[5], steps[6] = size, size, size
    elif kind == 2:
        args[0], args[1], args[2] = xp, <char *>cnp.PyArray_DATA(<cnp.ndarray>a1), yp
        steps[0], steps[1], steps[2], steps[3] = n * size, sizeof(cnp.npy_intp), size, size
    else:
        args[0], args[1] = <char *>cnp.PyArray_DATA(<cnp.ndarray>a0), xp
        args[2], args[3] = <char *>cnp.PyArray_DATA(<cnp.ndarray>a2), yp
        steps[0], steps[1], steps[2], steps[3] = size, n * size, sizeof(cnp.npy_intp), n * size
        steps[4], steps[5] = size, size
    _run(_LOOPS[row * FA_NTYPES + t], args, rdims, steps, total)
    return y


cdef enum:
    _WEIGHT_STACK = 256  # channels whose float64 weights fit on the stack


cdef int _weights(object weight, cnp.npy_intp channels, double *buf, cnp.npy_intp cap,
                  double **w) except -2:
    """prelu's weight as float64 values: 1 (one for all), `channels` (one per
    channel; *w points at them, in buf or the array itself), or -1 when the
    fast path does not take it (other types, shapes, dtypes)."""
    if type(weight) is float:
        buf[0] = <double>weight
        w[0] = buf
        return 1
    if type(weight) is not cnp.ndarray:
        return -1
    cdef cnp.ndarray a = <cnp.ndarray>weight
    cdef int typenum = cnp.PyArray_TYPE(a)
    cdef cnp.npy_intp size = cnp.PyArray_SIZE(a), i
    if (cnp.PyArray_NDIM(a) > 1 or not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISALIGNED(a)
            or cnp.PyArray_ISBYTESWAPPED(a) or (size != 1 and size != channels)):
        return -1
    if typenum == cnp.NPY_DOUBLE:
        w[0] = <double *>cnp.PyArray_DATA(a)
    elif typenum == cnp.NPY_FLOAT and size <= cap:
        for i in range(size):
            buf[i] = (<const float *>cnp.PyArray_DATA(a))[i]
        w[0] = buf
    else:
        return -1
    return 1 if size == 1 else 2  # 2: one per channel


cdef int _prelu_operands(object x, object weight, double *buf, double **w,
                         cnp.npy_intp *c) except -2:
    """For the prelu fast paths: x's channels (*c: axis 1, or 1) and the
    weight (_weights: 1 one value, 2 one per channel), or -1 when x or the
    weight is not the common case (or x is empty)."""
    if _slot(x) < 0 or cnp.PyArray_SIZE(<cnp.ndarray>x) == 0:
        return -1
    cdef cnp.ndarray a = <cnp.ndarray>x
    c[0] = cnp.PyArray_DIMS(a)[1] if cnp.PyArray_NDIM(a) >= 2 else 1
    return _weights(weight, c[0], buf, _WEIGHT_STACK, w)


def _prelu(x, weight, out):
    """fastact.prelu's common case, or None: a scalar weight takes the
    element-wise loop (hoisted parameter), a weight per channel the
    (m, c, k) loop of prelu.def."""
    cdef double buf[_WEIGHT_STACK]
    cdef double *w = NULL
    cdef cnp.npy_intp c
    cdef int kind = _prelu_operands(x, weight, buf, &w, &c)
    if kind < 0:
        return None
    if kind == 1:
        return _elementwise_c(_PRELU_ROW, 1, 1, x, None, out, w[0], 0.0)
    cdef int t = _slot(x)
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int ndim = cnp.PyArray_NDIM(a)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp total = cnp.PyArray_SIZE(a), size = cnp.PyArray_ITEMSIZE(a)
    y = _output(out, t, cnp.PyArray_TYPE(a), ndim, dims, x, None, None, True)
    if y is None:
        return None
    cdef cnp.npy_intp m = dims[0], k = total // (m * c)
    cdef char *args[3]
    cdef cnp.npy_intp steps[8]
    cdef cnp.npy_intp rdims[3]
    args[0], args[1], args[2] = <char *>cnp.PyArray_DATA(a), <char *>w, <char *>cnp.PyArray_DATA(<cnp.ndarray>y)
    rdims[0], rdims[1], rdims[2] = m, c, k
    steps[0], steps[1], steps[2] = c * k * size, 0, c * k * size
    steps[3], steps[4], steps[5], steps[6], steps[7] = k * size, size, sizeof(double), k * size, size
    _run(_LOOPS[_PRELU_CHANNELS_ROW * FA_NTYPES + t], args, rdims, steps, total)
    return y


def _prelu_backward(grad, x, weight, out_x, out_w):
    """fastact.prelu_backward's common case -> (grad_x, grad_weight), or None.
    grad_weight: the (m, c, k) reduction of prelu.def rounded once to x's
    dtype, shaped as the weight (a float: 0-d; an array: its 0 or 1
    dimensions); a scalar weight sees x as (m, 1, c k). float16 and odd
    out= take the caller's path."""
    cdef double buf[_WEIGHT_STACK]
    cdef double *w = NULL
    cdef cnp.npy_intp c
    cdef int kind = _prelu_operands(x, weight, buf, &w, &c)
    cdef int t = _slot(x)
    if kind < 0 or t < 1 or _slot(grad) != t:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int ndim = cnp.PyArray_NDIM(a)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(a)
    if not _same_dims(<cnp.ndarray>grad, ndim, dims):
        return None
    cdef cnp.npy_intp total = cnp.PyArray_SIZE(a), size = cnp.PyArray_ITEMSIZE(a)
    cdef int typenum = cnp.PyArray_TYPE(a)
    cdef int wdim = cnp.PyArray_NDIM(<cnp.ndarray>weight) if type(weight) is cnp.ndarray else 0
    cdef cnp.npy_intp wdims[1]
    cdef cnp.npy_intp cw = c if kind == 2 else 1
    wdims[0] = cw
    gw = _output(out_w, t, typenum, wdim, wdims, grad, x, None, False)
    if gw is None:
        return None
    gx = _output(out_x, t, typenum, ndim, dims, grad, x, None, True)
    if gx is None or (out_w is not None and not _apart(<cnp.ndarray>gx, gw, False)):
        return None
    cdef cnp.npy_intp m = dims[0] if ndim >= 2 else 1
    cdef cnp.npy_intp k = total // (m * cw)
    cdef double sbuf[_WEIGHT_STACK]
    cdef double *gw64 = sbuf
    if cw > _WEIGHT_STACK:
        gw64 = <double *>malloc(cw * sizeof(double))
        if gw64 == NULL:
            raise MemoryError()
    cdef char *args[5]
    cdef cnp.npy_intp steps[16]
    cdef cnp.npy_intp rdims[4]
    cdef cnp.npy_intp i, row = cw * k * size
    args[0], args[1], args[2] = <char *>cnp.PyArray_DATA(<cnp.ndarray>grad), <char *>cnp.PyArray_DATA(a), <char *>w
    args[3], args[4] = <char *>cnp.PyArray_DATA(<cnp.ndarray>gx), <char *>gw64
    rdims[0], rdims[1], rdims[2], rdims[3] = 1, m, cw, k
    for i in range(5):
        steps[i] = 0
    # core steps: grad (m,c,k), x (m,c,k), weight (c), grad_x (m,c,k), grad_weight (c)
    steps[5], steps[6], steps[7] = row, k * size, size
    steps[8], steps[9], steps[10] = row, k * size, size
    steps[11] = sizeof(double) if kind == 2 else 0
    steps[12], steps[13], steps[14] = row, k * size, size
    steps[15] = sizeof(double)
    try:
        _run(_LOOPS[_PRELU_CHANNELS_BACKWARD_ROW * FA_NTYPES + t], args, rdims, steps, total)
        if t == 1:
            for i in range(cw):
                (<float *>cnp.PyArray_DATA(<cnp.ndarray>gw))[i] = <float>gw64[i]
        else:
            for i in range(cw):
                (<double *>cnp.PyArray_DATA(<cnp.ndarray>gw))[i] = gw64[i]
    finally:
        if gw64 != sbuf:
            free(gw64)
    return gx, gw


cdef int _PRELU_ROW = KERNEL_INDEX["prelu"]
cdef int _PRELU_CHANNELS_ROW = KERNEL_INDEX["_prelu_channels"]
cdef int _PRELU_CHANNELS_BACKWARD_ROW = KERNEL_INDEX["_prelu_channels_backward"]
