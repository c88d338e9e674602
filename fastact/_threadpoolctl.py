"""threadpoolctl support: fastact's thread pool as a threadpoolctl library.

threadpoolctl finds thread pools by scanning the shared libraries loaded in
the process and matching each file name against its controllers. fastact's
pool lives in the compiled extension ``fastact/_core.*.so``, which exports
``fastact_get_num_threads`` / ``fastact_set_num_threads`` for this purpose;
the controller below matches that file (by the ``_core`` prefix, confirmed by
those symbols, so another package's ``_core`` module is never taken for it).

Registration needs threadpoolctl >= 3.5 (``threadpoolctl.register``). It is
automatic when threadpoolctl is imported before fastact; otherwise call
``fastact.register_threadpoolctl()`` once. Then::

    from threadpoolctl import threadpool_info, threadpool_limits
    threadpool_info()                     # lists {"internal_api": "fastact", ...}
    with threadpool_limits(limits=1):     # fastact runs on one thread here
        ...
    with threadpool_limits(limits=1, user_api="fastact"):   # only fastact
        ...

Nothing here is imported unless asked: fastact never imports threadpoolctl
on its own.
"""

from __future__ import annotations

import os

from . import _core

USER_API = "fastact"
_registered = False


def register_threadpoolctl() -> bool:
    """Make threadpoolctl see and limit fastact's threads.

    Returns True when fastact is registered (now or earlier), False when
    threadpoolctl is not installed or too old (< 3.5, no ``register``).
    Calling it again does nothing.
    """
    global _registered
    if _registered:
        return True
    try:
        import threadpoolctl
    except ImportError:
        return False
    register = getattr(threadpoolctl, "register", None)
    base = getattr(threadpoolctl, "LibController", None)
    if register is None or base is None:
        return False

    class FastactController(base):  # type: ignore[misc,valid-type]
        """fastact's thread pool (fastact.set_num_threads / get_num_threads)."""

        user_api = USER_API
        internal_api = USER_API
        # The extension's file name up to the first dot: "_core".
        filename_prefixes = (os.path.basename(_core.__file__).split(".")[0].lower(),)
        check_symbols = ("fastact_get_num_threads", "fastact_set_num_threads")

        def get_num_threads(self):
            get = getattr(self.dynlib, "fastact_get_num_threads", None)
            return None if get is None else get()

        def set_num_threads(self, num_threads):
            set_ = getattr(self.dynlib, "fastact_set_num_threads", None)
            if set_ is not None:
                set_(max(1, int(num_threads)))

        def get_version(self):
            from ._version import __version__

            return __version__

    register(FastactController)
    _registered = True
    return True
