"""cfopt instances: frozen, validated network data, seeded generators and the instance library.

``load(name_or_path)``, ``save(instance, path)``, ``generate(scenario, *, seed, **params)``, ``list_library()``.
"""
from __future__ import annotations

import inspect

from instances import units

from instances.generators import ngo2017

from instances.generators import rao2020
from instances.errors import InputError
from instances.instance import Instance
from instances.library import LIBRARY_DIR, list_library, load, save

#: Scenario name -> generator ``f(*, seed, **params) -> Instance``.
GENERATORS = {"ngo2017": ngo2017.generate, "rao2020": rao2020.generate}


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


__all__ = ["GENERATORS", "InputError", "Instance", "LIBRARY_DIR", "generate", "list_library", "load", "save",
           "units"]
