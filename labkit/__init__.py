"""labkit: a model of Linux's primary MMU, a secondary MMU and the mmu_notifier chain.

The lab walks Andrea Arcangeli's reply to Christoph Lameter of 31 Jan 2008
(<20080131105241.GH7185@v2.random>) about page refcounting and
invalidate_page versus invalidate_range_start/end.

    >>> import labkit
    >>> trace = labkit.simulate(labkit.Scenario(op="zap", scheme="range", refmode="off"),
    ...                         "fault,fault,fault,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,fault,fault,fault,guest")

The package is in layers, each importing only from the ones before it:

``labkit.core``     state, steps, the run loop, the invariants (knows no kernel)
``labkit.kernel``   the kernel's parts: pages, locks, the VM operations, the
                    secondary fault, the secondaries, the notifier schemes, the eras
``labkit.scenario`` one configuration, validated, and the model built from it
``labkit.search``   running it: ``simulate``, schedules by *when*, ``explore``, ``verdicts``
``labkit.tables``   telling it: narration, tables for the notebooks, costs, exercises
``labkit.widgets``  seeing it: the timeline ``Lab``, ``Compare``, the heat map, the cost panel
``labkit.cli``      typing it: ``python -m labkit``

What a notebook needs is importable from here; :mod:`labkit.kit` has what a
notebook cell needs to write a notifier scheme of its own.
"""
from __future__ import annotations

import importlib

#: Where each public name lives.  Nothing is imported until it is first used (PEP 562), so that
#: ``python -m labkit`` reaches its own Ctrl-C handling a few milliseconds after Python starts.
_FROM = {
    **dict.fromkeys(("INVARIANTS",), ".core.invariants"),
    **dict.fromkeys(("Call", "Step"), ".core.program"),
    **dict.fromkeys(("SCHEMES", "Scheme", "register_scheme"), ".kernel.schemes"),
    **dict.fromkeys(("SECONDARIES",), ".kernel.secondaries"),
    **dict.fromkeys(("CALLERS", "ERAS", "OPS", "REFMODES", "RELEASES", "Scenario", "build"), ".scenario"),
    **dict.fromkeys(("Exploration", "explore"), ".search.explore"),
    **dict.fromkeys(("after", "interleave", "vm_length"), ".search.schedules"),
    **dict.fromkeys(("Trace", "simulate"), ".search.trace"),
    **dict.fromkeys(("kernel_note", "verdicts"), ".search.verdicts"),
}
#: Modules reachable as attributes (``labkit.costs``, ``labkit.kit``, ``labkit.core``, ...).
_MODULES = {"kit": ".kit", **{name: f".tables.{name}" for name in
                              ("costs", "exercises", "export", "history", "matrix", "narrate", "stories", "tour")},
            **{name: f".{name}" for name in ("core", "kernel", "scenario", "search", "tables", "widgets", "cli")}}

__all__ = ["Scenario", "Scheme", "Step", "Call", "Trace", "simulate", "build", "register_scheme",
           "Exploration", "explore", "verdicts", "kernel_note", "interleave", "vm_length", "after",
           "SCHEMES", "SECONDARIES", "OPS", "REFMODES", "ERAS", "RELEASES", "CALLERS", "INVARIANTS",
           "kit", "costs", "exercises", "export", "history", "matrix", "narrate", "stories", "tour"]


def __getattr__(name: str):
    if name in _FROM:
        value = getattr(importlib.import_module(_FROM[name], __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name], __name__)
    else:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
