"""fastact: fast, numerically stable activation functions for NumPy.

Every activation has a forward ``fastact.<name>`` and a backward (the
vector-Jacobian product) ``fastact.<name>_backward``. Functions without
parameters are NumPy ufuncs (``out=``, ``where=``, broadcasting, any
strides); functions with parameters take them as keywords with defaults.

>>> import numpy as np, fastact as fa
>>> x = np.linspace(-3, 3, 7, dtype=np.float32)
>>> y = fa.sigmoid(x)
>>> gx = fa.sigmoid_backward(np.ones_like(y), y)   # from the output
"""
from ._source_tree import use_installed_if_unbuilt as _use_installed_if_unbuilt

_use_installed_if_unbuilt(__path__)  # a source checkout defers to the installed wheel

from ._version import __version__  # noqa: E402
from ._core import get_num_threads, set_num_threads, simd_level  # noqa: E402
from ._registry import PUBLIC as _PUBLIC  # noqa: E402
from . import _threads_init as _threads_init  # noqa: E402,F401  (applies FASTACT_NUM_THREADS)
from ._threadpoolctl import register_threadpoolctl  # noqa: E402

globals().update(_PUBLIC)
del _use_installed_if_unbuilt

from . import diagnostics, nn, reference  # noqa: E402  (fastact.nn etc. as attributes)

__all__ = sorted(_PUBLIC) + ["get_num_threads", "register_threadpoolctl", "set_num_threads", "simd_level",
                                "__version__"]
