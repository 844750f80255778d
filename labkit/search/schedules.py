"""Schedules described by *when* things happen, not by thread names step by step.

A hand-written schedule (``"fault,fault,vm,..."``) only fits one
configuration: ``pin`` adds a get_page step, ``range_seq`` a sequence read.
The slider in the lab asks a configuration-independent question instead:
after how many of the VM operation's steps does the secondary fault read the
pte, and after how many does it install its entry?  :func:`interleave`
answers it with a schedule for any scenario, built by running the engine, so
the same slider position means the same story under every configuration.
"""
from __future__ import annotations

from ..core.engine import next_step, run
from ..core.kinds import GET_PAGE, PTE_READ, UNLOCK
from ..core.messages import shown
from ..core.model import Model
from ..scenario import Scenario, build, checked


def vm_length(scenario: Scenario) -> int:
    """How many steps the VM operation takes when it runs alone."""
    return len(build(checked(scenario, "vm_length")).programs[0].steps)


def after(scenario: Scenario, hook: str = "", kind: str = "") -> int:
    """How many VM steps have run once ``hook``'s callback has returned, or once the first ``kind`` step ran.

    Presets name their slider placement by what has happened ("after
    range_start", "after the free"), so a model that adds a step elsewhere
    (a caller's mmap_sem, say) moves the number, not the story.
    """
    steps = build(scenario).programs[0].steps
    found = [n for n, step in enumerate(steps, start=1) if (hook and step.hook == hook) or
             (kind and step.kind == kind)]
    if not found:
        raise ValueError(f"{scenario.label()}: the VM operation has no {hook or kind} step")
    return found[-1] if hook else found[0]


def interleave(scenario: Scenario, read_after: int, install_after: int, guest_after=None) -> tuple:
    """A schedule where the fault reads the pte after ``read_after`` VM steps, installs after ``install_after``.

    The guest accesses once the fault is done and at least ``guest_after``
    VM steps have run (default: ``install_after``); the allocator goes last.
    A thread that would be blocked yields to the others, so any pair of
    numbers gives a complete, valid schedule.  ``guest_after`` is None or a
    position like the other two.
    """
    model = build(checked(scenario, "interleave"))
    total = len(model.programs[0].steps)
    positions = (("read_after", read_after), ("install_after", install_after))
    for name, value in positions + ((("guest_after", guest_after),) if guest_after is not None else ()):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= total:
            raise ValueError(f"{name}={shown(value)}: must be a whole number from 0 to {total} (the VM's steps)")
    if install_after < read_after:
        raise ValueError(f"install_after={install_after} is before read_after={read_after}; "
                         "the fault installs what it read")
    guest_after = install_after if guest_after is None else guest_after
    moves = run(model, placement(model, read_after, install_after, guest_after))
    return tuple(model.names[move.thread] for move in moves)


def placement(model: Model, read_after: int, install_after: int, guest_after: int):
    """The policy behind :func:`interleave`: who should run now, best first; the others follow so nobody deadlocks."""
    faults = [model.index(n) for n in model.names if n.startswith("fault")]
    guest = model.index("guest")
    rest = [0] + faults + [guest] + list(range(guest + 1, len(model.programs)))

    def policy(model, state, moves) -> list:
        vm_steps = sum(1 for move in moves if move.thread == 0)
        wanted = []
        for t in faults:
            if next_step(model, state, t) is None:
                continue
            reading = not _read_done(model, state, t)
            if vm_steps >= (read_after if reading else install_after):
                wanted.append(t)
        faults_done = all(next_step(model, state, t) is None for t in faults)
        if faults_done and vm_steps >= guest_after:
            wanted.append(guest)
        return wanted + [t for t in rest if t not in wanted]
    return policy


def _read_done(model: Model, state, t: int) -> bool:
    """The fault has read the pte in this attempt and dropped what it held for the read."""
    program = model.programs[t]
    pc = state.threads[t].pc
    if "begin" not in program.labels:       # an IOMMU's translation reads and fills in one step
        return pc > 0
    begin = program.labels["begin"]
    kinds = [program.steps[i].kind for i in range(begin, pc)]
    if PTE_READ not in kinds:
        return False
    step = program.steps[pc]
    # off_under_ptl keeps the PTL: its read phase ends at the pte read itself
    return not (step.kind in (GET_PAGE, UNLOCK) and state.ptl == t)
