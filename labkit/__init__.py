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
from . import kit
from .core.invariants import INVARIANTS
from .core.program import Call, Step
from .kernel.schemes import SCHEMES, Scheme, register_scheme
from .kernel.secondaries import SECONDARIES
from .scenario import CALLERS, ERAS, OPS, REFMODES, RELEASES, Scenario, build
from .search.explore import Exploration, explore
from .search.schedules import after, interleave, vm_length
from .search.trace import Trace, simulate
from .search.verdicts import kernel_note, verdicts
from .tables import costs, exercises, export, history, matrix, narrate, stories, tour

__all__ = ["Scenario", "Scheme", "Step", "Call", "Trace", "simulate", "build", "register_scheme",
           "Exploration", "explore", "verdicts", "kernel_note", "interleave", "vm_length", "after",
           "SCHEMES", "SECONDARIES", "OPS", "REFMODES", "ERAS", "RELEASES", "CALLERS", "INVARIANTS",
           "kit", "costs", "exercises", "export", "history", "matrix", "narrate", "stories", "tour"]
