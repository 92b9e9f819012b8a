"""The instance library: ``instances/library/<name>.json`` files with a card (DESIGN.md §1, instances/).

A card states which problems an instance serves, the certified optimum per problem and the solver (with version)
that proved it. ``load`` accepts a library name or a path to a JSON file; ``list_library`` summarises the library
in the shape printed by ``cfopt instances list --json``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from instances.errors import InputError
from instances.instance import Instance, _thaw

LIBRARY_DIR = Path(__file__).parent / "library"


def _dir(library_dir: str | Path | None) -> Path:
    return Path(LIBRARY_DIR if library_dir is None else library_dir)


def library_names(library_dir: str | Path | None = None) -> list[str]:
    """Sorted names (file stems) of the stored instances; [] when the library is empty or absent."""
    d = _dir(library_dir)
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def load(name_or_path: str | Path, *, library_dir: str | Path | None = None) -> Instance:
    """An instance from a JSON file path, or by name from the library.

    Anything ending in ``.json`` or containing a path separator is a path; otherwise a library name.
    A missing file or unknown name raises ``InputError("instance", ...)`` listing the known names.
    """
    text = str(name_or_path)
    names = library_names(library_dir)
    known = f"known: {', '.join(names)}" if names else "the library is empty"
    is_path = isinstance(name_or_path, Path) or text.endswith(".json") or "/" in text or "\\" in text
    if not text.strip():
        raise InputError("instance", f"empty name; {known}")
    if is_path:
        path = Path(text)
        if not path.is_file():
            raise InputError("instance", f"no such file {text}")
        return Instance.load(path)
    if text not in names:
        raise InputError("instance", f"unknown instance {text!r}; {known}")
    return Instance.load(_dir(library_dir) / f"{text}.json")


def save(instance: Instance, path: str | Path) -> Path:
    """Write ``instance`` as JSON to ``path`` (see :meth:`Instance.save`)."""
    if not isinstance(instance, Instance):
        raise InputError("instance", f"expected an Instance, got {type(instance).__name__}")
    return instance.save(path)


def list_library(library_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One entry per stored instance: ``{name, problems, sizes, optimum, certified_by}`` (plus ``content_hash``).

    ``sizes`` is ``{M, K, antennas, tau_p, tau_c}``. Every file is loaded and validated, so a broken library file
    raises InputError naming the field and the file.
    """
    out = []
    for name in library_names(library_dir):
        inst = Instance.load(_dir(library_dir) / f"{name}.json")
        card = inst.card
        out.append({"name": name, "problems": list(card.get("problems", ())), "sizes": inst.sizes,
                    "optimum": _thaw(card.get("optimum", {})), "certified_by": _thaw(card.get("certified_by", {})),
                    "content_hash": inst.content_hash})
    return out
