"""The papers: one package (or module) per paper under ``experiments/papers/<slug>`` registers its problems,
methods, figures and library specs when imported (DESIGN.md §1, experiments/).

:func:`discover` imports every module and package below ``experiments.papers`` with ``pkgutil`` (so a paper's
``figures`` and ``library`` modules register too), then every plugin package named in the environment variable
``CFOPT_PLUGINS`` (comma-separated module names, e.g. ``CFOPT_PLUGINS=mylab.paper_x``), with everything below
it. A plugin is a paper that lives outside the tree: the same registration calls, no shared file edited
(``experiments.registry.register``, ``experiments.reproduce.register_figure``,
``experiments.certify.register_library_spec``, ``instances.generators.register_generator``). The plugin must be
importable (on ``sys.path``, e.g. installed or run from its parent directory).

:func:`discover` imports each root once per process and re-reads ``CFOPT_PLUGINS`` at every call. A plugin that
cannot be imported raises InputError naming ``CFOPT_PLUGINS`` (a misspelt plugin is an error, not a missing paper).
"""
from __future__ import annotations

from instances.generators import discover as discover_generators
from instances.generators import import_plugin, import_tree, plugin_modules

_imported: list[str] = []


def discover() -> list[str]:
    """Import every paper module under ``experiments.papers`` (once) and every ``$CFOPT_PLUGINS`` package not
    imported yet (the variable is read at every call), each with everything below it; the roots imported so far.
    Generators are discovered as well (:func:`instances.generators.discover`)."""
    discover_generators()
    for root in [__name__] + plugin_modules():
        if root not in _imported:
            _imported.append(root)
            try:
                import_plugin(root, import_tree)
            except BaseException:
                _imported.remove(root)
                raise
    return list(_imported)


__all__ = ["discover"]
