"""The instance library: ``instances/library/<name>.json`` files with a card (DESIGN.md §1, instances/).

A card (:mod:`instances.cards`) states which problems an instance serves, the certified optimum per problem and the
solver (with version) that proved it. A paper that lives outside the tree (a plugin) keeps its instances in its own
directory — by convention ``<plugin package>/library/`` for a package named in ``$CFOPT_PLUGINS``, or any directory
registered with :func:`register_library_dir` — and ``load(name)`` finds its names too (the main library wins on a
clash). ``load`` accepts a library name or a path to a JSON file; ``list_library`` summarises the library
in the shape printed by ``cfopt instances list --json``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from instances.errors import InputError
from instances import cards
from instances.instance import Instance

LIBRARY_DIR = Path(__file__).parent / "library"


#: further library directories registered by plugin papers (searched after :data:`LIBRARY_DIR`)
EXTRA_DIRS: list[Path] = []


def _dir(library_dir: str | Path | None) -> Path:
    return Path(LIBRARY_DIR if library_dir is None else library_dir)


def register_library_dir(path: str | Path) -> Path:
    """Add a directory of library instances (a plugin paper's ``library/``); returns it as a Path."""
    path = Path(path).resolve()
    if path not in EXTRA_DIRS and path != Path(LIBRARY_DIR).resolve():
        EXTRA_DIRS.append(path)
    return path


def plugin_library_dirs() -> list[Path]:
    """The ``library/`` directories of the plugin packages named in ``$CFOPT_PLUGINS`` (the convention for a paper
    outside the tree; found without importing the plugin)."""
    import importlib.util

    from instances.generators import plugin_modules

    out = []
    for name in plugin_modules():
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec is not None else []:
            if (Path(loc) / "library").is_dir():
                out.append((Path(loc) / "library").resolve())
    return out


def library_dirs() -> list[Path]:
    """The main library directory, then the registered ones and the plugins' ``library/`` directories."""
    main = Path(LIBRARY_DIR)
    out = [main]
    for d in EXTRA_DIRS + plugin_library_dirs():
        if d != main.resolve() and d not in out:
            out.append(d)
    return out


def find(name: str) -> Path | None:
    """The file of library instance ``name`` in the first directory of :func:`library_dirs` holding it."""
    for d in library_dirs():
        if (d / f"{name}.json").is_file():
            return d / f"{name}.json"
    return None


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
    dirs = [_dir(library_dir)] if library_dir is not None else library_dirs()
    names = sorted({n for d in dirs for n in library_names(d)})
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
    return Instance.load(next(d / f"{text}.json" for d in dirs if (d / f"{text}.json").is_file()))


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
        summary = cards.summary(inst.card)
        out.append({"name": name, "problems": summary["problems"], "sizes": inst.sizes,
                    "optimum": summary["optimum"], "certified_by": summary["certified_by"],
                    "content_hash": inst.content_hash})
    return out
