"""What a notebook cell needs to write a notifier scheme of its own.

A scheme is data: for each hook, a tuple of *step templates* (functions
from a :class:`Call` to a :class:`Step`), plus what the fault remembers before
its pte walk and the check it makes before installing.  The templates below
are the ones the built-in schemes are made of; a new one is a function that
returns a ``Step`` whose ``run`` is a pure ``(System, thread) -> System``.

    >>> from labkit.kit import Scheme, register_scheme, spin_lock, zap, spin_unlock
    >>> register_scheme(Scheme(name="mine", summary="zap on every hook",
    ...                        invalidate_page=(spin_lock, zap, spin_unlock)))   # doctest: +SKIP

The mmu_interval_notifier user of notebook 07 and ``tests/test_custom_schemes.py``
are written with nothing but this module.
"""
from .core.kinds import ACCESS, CHECK, COUNTER, INSTALL, OTHER, READ_BEGIN, ZAP
from .core.program import Call, Step
from .core.state import System, counter, local, with_counter, with_local, with_spte
from .kernel.pages import get_page, put_page
from .kernel.schemes import (
                             COUNT,
                             SEQ,
                             Scheme,
                             decrement,
                             increment,
                             mmu_notifier_retry,
                             read_counter,
                             register_scheme,
                             sequence_moved,
                             spin_lock,
                             spin_unlock,
                             zap,
)

__all__ = ["Scheme", "register_scheme", "Step", "Call", "System",
           "spin_lock", "spin_unlock", "zap", "increment", "decrement", "read_counter",
           "mmu_notifier_retry", "sequence_moved", "SEQ", "COUNT",
           "counter", "local", "with_counter", "with_local", "with_spte", "get_page", "put_page",
           "ACCESS", "CHECK", "COUNTER", "INSTALL", "OTHER", "READ_BEGIN", "ZAP"]
