"""Seeded instance generators, registered by name (DESIGN.md §1, instances/).

A generator is a function ``generate(*, seed, **params) -> Instance`` whose keyword signature (annotations and
defaults) documents its parameters; ``cfopt instances make SCENARIO -p key=value`` and the study checker read it.
A module registers its generator with the decorator::

    @register_generator("ngo2017")
    def generate(*, aps: int, users: int, seed: int, ...) -> Instance: ...

:func:`discover` imports every module of this package (``pkgutil``) and of the plugin packages named in the
environment variable ``CFOPT_PLUGINS`` (their ``<plugin>.generators`` module or package; see
:mod:`experiments.papers`), so a new generator is a new file here (or
in a plugin) and no list has to be edited. :data:`GENERATORS` is filled on first use.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Iterator, MutableMapping

#: environment variable naming plugin packages (comma-separated module names) that register papers or generators
PLUGINS_ENV = "CFOPT_PLUGINS"

_REGISTRY: dict[str, Callable[..., object]] = {}
_discovered = False
_plugins_done: set[str] = set()


def register_generator(name: str) -> Callable[[Callable], Callable]:
    """Decorator registering ``fn`` as the generator of scenario ``name`` (the same function registered twice,
    e.g. on a module reload, is fine; two functions under one name raise ValueError)."""
    def deco(fn: Callable) -> Callable:
        old = _REGISTRY.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"generator {name!r} registered twice ({old.__module__} and {fn.__module__})")
        _REGISTRY[name] = fn
        return fn
    return deco


def plugin_modules() -> list[str]:
    """The module names listed in ``$CFOPT_PLUGINS`` (comma-separated, blanks ignored)."""
    return [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]


def import_tree(package: str) -> list[str]:
    """Import ``package`` and, when it is a package, every module and sub-package below it (``pkgutil``); the
    names imported, in order. Modules whose name starts with ``_`` are skipped."""
    mod = importlib.import_module(package)
    names = [package]
    path = getattr(mod, "__path__", None)
    if path is None:
        return names
    for info in sorted(pkgutil.walk_packages(path, prefix=package + "."), key=lambda i: i.name):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def import_plugin(plugin: str, what: Callable[[str], object]) -> None:
    """``what(plugin)`` (an import), with a failure to import the plugin itself turned into
    ``InputError("CFOPT_PLUGINS", ...)`` (one line naming it, exit code 2 at the command line)."""
    from instances.errors import InputError

    try:
        what(plugin)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (plugin == exc.name or plugin.startswith(exc.name + ".")):
            raise InputError(PLUGINS_ENV, f"cannot import plugin {plugin!r} ({exc}); is its parent directory "
                                          "on sys.path / PYTHONPATH?") from None
        raise


def _import_plugin_generators(plugin: str) -> None:
    """Import ``<plugin>.generators`` (a module or a package, with everything below it) when the plugin has one;
    the plugin's other modules (problems, figures) are imported by :func:`experiments.papers.discover`."""
    import importlib.util

    importlib.import_module(plugin)
    if importlib.util.find_spec(f"{plugin}.generators") is not None:
        import_tree(f"{plugin}.generators")


def discover() -> dict[str, Callable[..., object]]:
    """Import this package's modules (once) and every plugin of ``$CFOPT_PLUGINS`` not imported yet (the variable
    is read at every call, so a plugin named later is still found); the registry ``{scenario: generator}``."""
    global _discovered
    if not _discovered:
        _discovered = True
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
    for plugin in plugin_modules():
        if plugin not in _plugins_done:
            import_plugin(plugin, _import_plugin_generators)
            _plugins_done.add(plugin)
    return _REGISTRY


class _Generators(MutableMapping):
    """``instances.GENERATORS``: a live view of the registry that triggers discovery on first access."""

    def __getitem__(self, key: str):
        return discover()[key]

    def __setitem__(self, key: str, fn) -> None:
        register_generator(key)(fn)

    def __delitem__(self, key: str) -> None:
        del _REGISTRY[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(discover()))

    def __len__(self) -> int:
        return len(discover())

    def __repr__(self) -> str:
        return f"GENERATORS({sorted(discover())})"


GENERATORS = _Generators()

__all__ = ["GENERATORS", "PLUGINS_ENV", "discover", "import_plugin", "import_tree", "plugin_modules",
           "register_generator"]
