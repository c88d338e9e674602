"""The default thread count: FASTACT_NUM_THREADS, else OMP_NUM_THREADS,
else the CPUs this process may run on (one thread in a build without the
thread pool)."""
import os
import sys

from . import _core


def _default_threads() -> int:
    if not _core.HAVE_THREADS:
        return 1
    for var in ("FASTACT_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value:
            try:
                n = int(value.split(",")[0])  # OMP_NUM_THREADS may list nesting levels
            except ValueError:
                raise ValueError(f"fastact: {var}={value!r} is not a positive integer") from None
            if n < 1:
                raise ValueError(f"fastact: {var}={value!r} is not a positive integer")
            return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_core.set_num_threads(_default_threads())

# threadpoolctl: register fastact's pool only if threadpoolctl is already
# imported (no import cost otherwise); fastact.register_threadpoolctl() does
# it on demand.
if "threadpoolctl" in sys.modules:
    from ._threadpoolctl import register_threadpoolctl

    register_threadpoolctl()
