"""cfopt instances: frozen, validated network data, seeded generators and the instance library.

``load(name_or_path)``, ``save(instance, path)``, ``generate(scenario, *, seed, **params)``, ``list_library()``.
Generators register themselves (:func:`instances.generators.register_generator`); :data:`GENERATORS` is the live
registry ``{scenario: generator}``, filled by discovery on first use.
"""
from __future__ import annotations

import inspect

from instances import units
from instances.errors import InputError
from instances.generators import GENERATORS, register_generator
from instances.instance import Instance
from instances.library import LIBRARY_DIR, list_library, load, save


def generate(scenario: str, *, seed: int, **params) -> Instance:
    """A seeded instance of ``scenario`` (a key of :data:`GENERATORS`). Unknown scenarios and parameters raise
    InputError naming them."""
    gen = GENERATORS.get(scenario)
    if gen is None:
        raise InputError("scenario", f"unknown scenario {scenario!r}; known: {', '.join(sorted(GENERATORS))}")
    accepted = [p for p in inspect.signature(gen).parameters if p != "seed"]
    for key in params:
        if key not in accepted:
            raise InputError(key, f"not a parameter of {scenario}; accepted: {', '.join(accepted)}")
    return gen(seed=seed, **params)


def __getattr__(name: str):
    """``instances.ngo2017`` / ``instances.rao2020`` (any module of :mod:`instances.generators`) for older callers."""
    import importlib
    import importlib.util

    if not name.startswith("_") and name.isidentifier() and \
            importlib.util.find_spec(f"instances.generators.{name}") is not None:
        return importlib.import_module(f"instances.generators.{name}")
    raise AttributeError(f"module 'instances' has no attribute {name!r}")


__all__ = ["GENERATORS", "InputError", "Instance", "LIBRARY_DIR", "generate", "list_library", "load",
           "register_generator", "save", "units"]
