"""labkit: a model of Linux's primary MMU, a secondary MMU and the mmu_notifier chain.

The lab walks Andrea Arcangeli's reply to Christoph Lameter of 31 Jan 2008
(<20080131105241.GH7185@v2.random>) about page refcounting and
invalidate_page versus invalidate_range_start/end.

    >>> import labkit
    >>> trace = labkit.simulate(labkit.Scenario(op="zap", scheme="range", refmode="off"),
    ...                         "fault,fault,fault,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,fault,fault,fault,guest")
"""
from .invariants import INVARIANTS
from .operations import CALLERS, ERAS, OPS, RELEASES
from .fault import REFMODES
from .program import Call, Step
from .scenario import Scenario, build
from .schemes import SCHEMES, Scheme, register_scheme
from .secondary import SECONDARIES
from .trace import Trace, simulate
from .explore import Exploration, explore
from .verdicts import verdicts

__all__ = ["Scenario", "Scheme", "Step", "Call", "Trace", "simulate", "build", "register_scheme",
           "Exploration", "explore", "verdicts",
           "SCHEMES", "SECONDARIES", "OPS", "REFMODES", "ERAS", "RELEASES", "CALLERS", "INVARIANTS"]
