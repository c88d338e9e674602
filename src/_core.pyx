# cython: language_level=3, boundscheck=False, wraparound=False
"""fastact._core: the compiled ufuncs, built from the C kernel table.

This module is deliberately thin: it selects the SIMD level's loop table
(src/dispatch.c), creates one NumPy ufunc per row of src/kernels.def, and
exposes the thread controls. The Python-facing API lives in fastact/.
"""
from libc.stdlib cimport malloc
from cpython.ref cimport PyObject
cimport numpy as cnp
import operator

cnp.import_array()
cnp.import_ufunc()

cdef extern from "fastact.h":
    ctypedef void (*fa_loop_fn)(char **, const cnp.npy_intp *, const cnp.npy_intp *, void *)
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


def _build():
    cdef const char *level = NULL
    cdef const char *error = NULL
    cdef const fa_loop_fn *loops = fa_select_loops(&level, &error)
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
