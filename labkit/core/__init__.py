"""The model core: a state, steps, one run loop and the invariants.

Nothing here knows a page table from a notifier.  ``state`` is the whole
system as one hashable value; ``program`` links steps (pure functions from
state to state) into threads; ``kinds`` names what a step does; ``model`` is
a scenario made runnable; ``engine`` runs steps, the only place a program
counter moves; ``invariants`` decides what counts as broken.  The kernel's
parts (``labkit.kernel``) are written in these terms.
"""
