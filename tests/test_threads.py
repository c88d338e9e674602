"""The thread pool (src/threads.c): results identical on any thread count,
workers really used, concurrent calls from Python threads, fork, the
default thread count, and threadpoolctl.

Timing never appears in an assertion. The pool decides to go parallel by
the estimated serial time of a call; the tests lower that threshold with
``_core._thread_tuning`` so that threads run on small, quick arrays.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fastact
from fastact import _core, reference
from function_cases import activation_params
from inputs import DIRECTIONS, FLOAT_DTYPES, arguments, dtype_id

pytestmark = pytest.mark.skipif(not _core.HAVE_THREADS, reason="built without the thread pool")

N = 50_003  # odd: a vector remainder at the end; ~12 chunks when forced


@pytest.fixture
def forced():
    """Threads on every call above a few thousand elements, small chunks."""
    before_tuning = _core._thread_tuning(min_work=4096, min_ns=0.0, chunk_ns=1.0)
    before_threads = fastact.get_num_threads()
    try:
        yield
    finally:
        _core._thread_tuning(*before_tuning)
        fastact.set_num_threads(before_threads)


def _bits(a) -> bytes:
    if isinstance(a, tuple):  # prelu_backward: (grad_x, grad_weight)
        return b"".join(map(_bits, a))
    return np.ascontiguousarray(a).tobytes()


def _elementwise(act) -> bool:
    return not act.rowwise


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(_elementwise))
def test_bit_identical_on_every_thread_count(act, direction, dtype, rng, forced) -> None:
    """Same bytes (NaN payloads and signed zeros included) on 1, 2 and 3
    threads, contiguous and from an unaligned start."""
    args = arguments(act, direction, dtype, (N + 3,), rng, act.params)
    fn = getattr(act, direction)
    for offset in (0, 3):  # 3: the start is not aligned to a vector
        # (prelu's weight is not sliced: it has one value per channel)
        view = tuple(a[offset : offset + N] if len(a) == N + 3 else a for a in args)
        fastact.set_num_threads(1)
        expected = _bits(fn(*view, **act.params))
        for threads in (2, 3):
            fastact.set_num_threads(threads)
            for _ in range(3):
                assert _bits(fn(*view, **act.params)) == expected, f"{threads} threads, offset {offset}"


def _rowwise_args(act, direction, rng):
    try:
        return arguments(act, direction, np.float32, (3001, 33), rng, act.params)
    except Exception as exc:  # a row-wise function with its own argument shapes
        pytest.skip(f"no generic inputs for {act.name}: {exc}")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("act", activation_params(lambda act: act.rowwise) or [pytest.param(None, marks=pytest.mark.skip("no row-wise function yet"))])
def test_rowwise_split_by_rows_is_bit_identical(act, direction, rng, forced) -> None:
    args = _rowwise_args(act, direction, rng)
    fn = getattr(act, direction)
    fastact.set_num_threads(1)
    expected = fn(*args, **act.params)
    expected = expected if isinstance(expected, tuple) else (expected,)
    fastact.set_num_threads(2)
    got = fn(*args, **act.params)
    got = got if isinstance(got, tuple) else (got,)
    assert [_bits(g) for g in got] == [_bits(e) for e in expected]


def test_workers_really_run(forced) -> None:
    """On a busy 2-core machine a worker may be descheduled for a while (the
    caller then does the work itself, by design), so allow some seconds."""
    fastact.set_num_threads(2)
    x = np.linspace(-8, 8, 200_000, dtype=np.float32)
    expected = reference.sigmoid(x)
    before = _core._thread_stats()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        np.testing.assert_allclose(fastact.sigmoid(x), expected, rtol=1e-6, atol=1e-30)
        now = _core._thread_stats()
        if now["worker_chunks"] > before["worker_chunks"]:
            break
    assert now["workers"] >= 1
    assert now["jobs"] > before["jobs"]
    assert now["worker_chunks"] > before["worker_chunks"], "no chunk ran on a worker"


def test_small_calls_stay_serial() -> None:
    """With the default thresholds a small call never wakes the pool."""
    before_threads = fastact.get_num_threads()
    try:
        fastact.set_num_threads(2)
        x = np.ones(1000, np.float32)
        before = _core._thread_stats()["jobs"]
        for _ in range(100):
            fastact.sigmoid(x)
        assert _core._thread_stats()["jobs"] == before
    finally:
        fastact.set_num_threads(before_threads)


def test_many_threads_more_than_cores(forced) -> None:
    fastact.set_num_threads(1)
    x = np.linspace(-30, 30, 300_001)
    expected = _bits(fastact.tanh(x))
    fastact.set_num_threads(8)
    for _ in range(5):
        assert _bits(fastact.tanh(x)) == expected
    fastact.set_num_threads(2)  # fewer helpers than workers: the others stay out
    for _ in range(5):
        assert _bits(fastact.tanh(x)) == expected


def test_concurrent_calls_from_python_threads(forced) -> None:
    """Several Python threads call large (parallel) functions at once: one
    call owns the pool, the others run serially in their own thread; every
    result is right and nothing deadlocks."""
    fastact.set_num_threads(2)
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(-10, 10, 60_000 + 64 * k).astype(np.float32) for k in range(4)]
    fastact.set_num_threads(1)
    expected = [(_bits(fastact.sigmoid(x)), _bits(fastact.relu_backward(x, x))) for x in inputs]
    fastact.set_num_threads(2)
    errors: list[str] = []

    def hammer(k: int) -> None:
        x = inputs[k]
        out = np.empty_like(x)
        for i in range(40):
            if _bits(fastact.sigmoid(x, out=out)) != expected[k][0]:
                errors.append(f"thread {k} sigmoid, iteration {i}")
            if _bits(fastact.relu_backward(x, x)) != expected[k][1]:
                errors.append(f"thread {k} relu_backward, iteration {i}")

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "deadlock: a calling thread never finished"
    assert not errors, errors[:5]


def test_set_num_threads_while_other_threads_call(forced) -> None:
    """Changing the thread count during calls (threadpoolctl may do so from
    any thread) is safe."""
    x = np.linspace(-5, 5, 80_000, dtype=np.float32)
    fastact.set_num_threads(1)
    expected = _bits(fastact.silu(x)) if hasattr(fastact, "silu") else _bits(fastact.sigmoid(x))
    fn = fastact.silu if hasattr(fastact, "silu") else fastact.sigmoid
    stop = threading.Event()
    bad: list[int] = []

    def caller() -> None:
        while not stop.is_set():
            if _bits(fn(x)) != expected:
                bad.append(1)

    t = threading.Thread(target=caller)
    t.start()
    try:
        for i in range(200):
            fastact.set_num_threads(1 + i % 3)
    finally:
        stop.set()
        t.join(timeout=60)
    assert not t.is_alive() and not bad


def _run(code: str, env: dict | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("FASTACT_NUM_THREADS", "OMP_NUM_THREADS")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=os.path.dirname(os.path.abspath(__file__)),  # not the source tree
        **kwargs,
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_while_the_pool_runs() -> None:
    """A child forked while the parent's pool is running (even in the middle
    of another thread's parallel call) gets a fresh pool and never hangs."""
    proc = _run(
        """
        import os, threading, numpy as np, fastact as fa
        from fastact import _core
        _core._thread_tuning(min_work=4096, min_ns=0.0, chunk_ns=1.0)
        fa.set_num_threads(2)
        x = np.linspace(-9, 9, 200_003, dtype=np.float32)
        expected = fa.sigmoid(x).tobytes()
        assert _core._thread_stats()["workers"] >= 1
        stop = threading.Event()
        def hammer():
            while not stop.is_set():
                assert fa.sigmoid(x).tobytes() == expected
        t = threading.Thread(target=hammer)
        t.start()
        try:
            for i in range(10):
                pid = os.fork()
                if pid == 0:
                    ok = all(fa.sigmoid(x).tobytes() == expected for _ in range(20))
                    ok = ok and _core._thread_stats()["workers"] >= 1  # its own new pool
                    os._exit(0 if ok else 3)
                _, status = os.waitpid(pid, 0)
                assert os.waitstatus_to_exitcode(status) == 0, status
        finally:
            stop.set()
            t.join()
        print("forks ok")
        """,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "forks ok" in proc.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_multiprocessing_fork_pool() -> None:
    proc = _run(
        """
        import multiprocessing as mp, numpy as np, fastact as fa
        x = np.linspace(-9, 9, 1_000_003, dtype=np.float32)
        expected = fa.sigmoid(x)          # the parent's pool is started
        def work(seed):
            return bool(np.array_equal(fa.sigmoid(x), expected))
        with mp.get_context("fork").Pool(2) as pool:
            assert all(pool.map(work, range(8)))
        print("pool ok")
        """,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pool ok" in proc.stdout


SHOW_THREADS = "import fastact; print(fastact.get_num_threads())"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FASTACT_NUM_THREADS": "3"}, 3),
        ({"OMP_NUM_THREADS": "5"}, 5),
        ({"OMP_NUM_THREADS": "4,2"}, 4),
        ({"FASTACT_NUM_THREADS": "2", "OMP_NUM_THREADS": "7"}, 2),
        ({}, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
    ],
    ids=["fastact", "omp", "omp_nested", "fastact_first", "cores"],
)
def test_default_thread_count(env, expected) -> None:
    proc = _run(SHOW_THREADS, env)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == expected


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no sched_setaffinity")
def test_default_follows_the_cpu_affinity() -> None:
    proc = _run(SHOW_THREADS, preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == 1


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_count_in_the_environment(value) -> None:
    proc = _run(SHOW_THREADS, {"FASTACT_NUM_THREADS": value})
    assert proc.returncode != 0
    assert "FASTACT_NUM_THREADS" in proc.stderr


# --------------------------------------------------------------------------
# threadpoolctl (optional: `pip install threadpoolctl`)
# --------------------------------------------------------------------------


def _threadpoolctl():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl < 3.5 has no register()")
    return threadpoolctl


def _fastact_entries(threadpoolctl) -> list[dict]:
    return [info for info in threadpoolctl.threadpool_info() if info["internal_api"] == "fastact"]


def test_threadpoolctl_sees_and_limits_fastact() -> None:
    threadpoolctl = _threadpoolctl()
    assert fastact.register_threadpoolctl() is True
    assert fastact.register_threadpoolctl() is True  # idempotent
    before = fastact.get_num_threads()
    try:
        fastact.set_num_threads(2)
        (entry,) = _fastact_entries(threadpoolctl)
        assert entry["user_api"] == "fastact"
        assert entry["num_threads"] == 2
        assert os.path.realpath(entry["filepath"]) == os.path.realpath(_core.__file__)
        assert entry["version"] == fastact.__version__
        with threadpoolctl.threadpool_limits(limits=1):
            assert fastact.get_num_threads() == 1
        assert fastact.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=1, user_api="fastact"):
            assert fastact.get_num_threads() == 1
        assert fastact.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            assert fastact.get_num_threads() == 2  # not ours
        controller = threadpoolctl.ThreadpoolController().select(internal_api="fastact")
        with controller.limit(limits=1):
            assert fastact.get_num_threads() == 1
    finally:
        fastact.set_num_threads(before)


def test_threadpoolctl_imported_first_registers_at_import() -> None:
    _threadpoolctl()
    proc = _run(
        """
        import threadpoolctl, fastact
        entries = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "fastact"]
        print(len(entries), entries[0]["num_threads"] if entries else None, fastact.get_num_threads())
        """,
        {"FASTACT_NUM_THREADS": "2"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "2", "2"]


def test_fastact_does_not_import_threadpoolctl() -> None:
    proc = _run("import sys, fastact; print('threadpoolctl' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# --------------------------------------------------------------------------
# The pool's C code under ThreadSanitizer (needs a C compiler with libtsan)
# --------------------------------------------------------------------------

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
STRESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "pool_stress.c")


@pytest.mark.skipif(not os.path.exists(os.path.join(SRC, "threads.c")), reason="not run from a checkout")
@pytest.mark.skipif(sys.platform == "win32", reason="pthreads only")
@pytest.mark.parametrize("wait", ["futex", "condvar"])
def test_pool_under_thread_sanitizer(wait, tmp_path) -> None:
    """The pool's C code on its own (tests/c/pool_stress.c), with its futex
    waits and with the condition-variable fallback of other systems."""
    import shutil

    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "pool_stress"
    build = subprocess.run(
        [cc, "-O1", "-g", "-fsanitize=thread", "-DFA_HAVE_PTHREADS=1", "-I", SRC,
         *(["-DFA_NO_FUTEX=1"] if wait == "condvar" else []),
         os.path.join(SRC, "threads.c"), STRESS, "-lpthread", "-lm", "-o", str(exe)],
        capture_output=True, text=True, timeout=120,
    )
    if build.returncode != 0:
        pytest.skip(f"cannot build with -fsanitize=thread: {build.stderr[-500:]}")
    # The stress binary has its own (TSan) runtime: drop a preloaded one, such
    # as the ASan runtime tools/sanitize.sh preloads into Python.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300,
                         env={**env, "TSAN_OPTIONS": "halt_on_error=1"})
    if "FATAL: ThreadSanitizer: unexpected memory mapping" in run.stderr:
        pytest.skip("ThreadSanitizer cannot run here (ASLR layout)")
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    assert "pool_stress ok" in run.stdout
    assert "WARNING: ThreadSanitizer" not in run.stderr
