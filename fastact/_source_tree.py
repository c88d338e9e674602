"""Importing fastact from its own (unbuilt) source checkout.

``python -m fastact bench`` run in the repository root puts the checkout
first on sys.path, so Python finds the source ``fastact/`` whose compiled
module lives only in the installed wheel. Rather than fail, point the
package at the installed copy (which has the same files plus _core), or
say plainly what to do when there is none.
"""
from __future__ import annotations

import importlib.machinery
import os
import sys


def _has_core(directory: str) -> bool:
    return importlib.machinery.PathFinder.find_spec("_core", [directory]) is not None


def use_installed_if_unbuilt(package_path: list[str]) -> None:
    """Replace package_path (the package's ``__path__``) by the installed
    copy's when this directory has no compiled ``_core``."""
    here = os.path.dirname(os.path.abspath(__file__))
    if _has_core(here):
        return
    checkout = os.path.realpath(os.path.dirname(here))
    elsewhere = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != checkout]
    spec = importlib.machinery.PathFinder.find_spec("fastact", elsewhere)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not any(_has_core(loc) for loc in locations):
        raise ImportError(
            f"fastact is being imported from its source tree ({here}), which has no "
            "compiled module, and no installed fastact was found: run `pip install .` "
            "first (or run Python from another directory)")
    package_path[:] = locations
