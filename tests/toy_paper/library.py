"""The toy paper's certified library: ``library/toy-01.json`` (``cfopt library certify --only toy-01``)."""
from __future__ import annotations

from pathlib import Path

from experiments.certify import Certified, LibrarySpec, entry, register_library_spec

LIBRARY_DIR = Path(__file__).parent / "library"
SPECS = {"toy-01": dict(seed=3, aps=2, users=2)}


def certify(name: str, time_limit: float | None) -> Certified:
    import experiments
    import instances

    inst = instances.generate("toy2", name=name, **SPECS[name])
    res = experiments.solve("toy-maxmin", inst, "exact", time_limit=time_limit)
    return Certified(inst, {"toy-maxmin": entry(res, generated_by=f"cfopt library certify --only {name}",
                                                notes={"objective": "max-min SINR, linear"})},
                     report={"optimum": res.objective})


LIBRARY = register_library_spec(LibrarySpec(paper="toy", names=tuple(SPECS), certify=certify, time_limit=60.0,
                                            library_dir=LIBRARY_DIR))
