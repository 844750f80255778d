"""Schedules described by *when* things happen, not by thread names step by step.

A hand-written schedule (``"fault,fault,vm,..."``) only fits one
configuration: ``pin`` adds a get_page step, ``range_seq`` a sequence read.
The slider in the lab asks a configuration-independent question instead:
after how many of the VM operation's steps does the secondary fault read the
pte, and after how many does it install its entry?  :func:`interleave`
answers it with a schedule for any scenario, built by running the engine, so
the same slider position means the same story under every configuration.

*The VM operation's steps* are the steps of every thread that makes up the
operation (:func:`operation_threads`): ``zap``, ``rmap`` and ``cow`` have one,
``cow2`` three (the two COWs ``vm`` and ``vm2`` and the CPU writer ``cpu``).
Among themselves they run in the order of the store-order example of
Documentation/vm/mmu_notifier.rst (:func:`vm_order`): each COW up to its page
table update (COW_step0 and COW_step1: the pte points at the new page and the
PTL is dropped), A then B; the CPU's stores to A and B; then what is left of
each COW (COW_step2: invalidate_range_end and the last put_page), A then B.
With one thread that order is simply its program.
"""
from __future__ import annotations

from ..core.engine import next_step, run
from ..core.kinds import GET_PAGE, PTE_READ, PTE_SET, UNLOCK
from ..core.checks import whole
from ..core.model import Model
from ..scenario import Scenario, build, checked


def operation_threads(model: Model) -> tuple:
    """The threads that make up the VM operation: every thread before the first secondary fault."""
    first = next((t for t, name in enumerate(model.names) if name.startswith("fault")), len(model.names))
    return tuple(range(first))


def page_table_updated(steps) -> int:
    """How many steps a COW takes up to the pte_unmap_unlock that follows set_pte_at ("COW_step1" done).

    Every step after it is COW_step2 of the documentation's example (range_end,
    the last put_page).  A program with no pte update (the CPU writer, a zap)
    has no second part: the answer is all its steps.
    """
    kinds = [step.kind for step in steps]
    if PTE_SET not in kinds:
        return len(steps)
    set_pte = kinds.index(PTE_SET)
    return 1 + next((i for i, step in enumerate(steps) if i > set_pte and step.kind == UNLOCK and step.hook is None),
                    len(steps) - 1)


def vm_order(model: Model) -> tuple:
    """The VM operation's steps in the slider's order, as thread numbers: step ``k`` is run by ``vm_order[k-1]``."""
    threads = operation_threads(model)
    split = {t: page_table_updated(model.programs[t].steps) for t in threads}
    first = tuple(t for t in threads for _ in range(split[t]))
    return first + tuple(t for t in threads for _ in range(len(model.programs[t].steps) - split[t]))


def vm_steps(model: Model) -> tuple:
    """``(thread, step)`` for each of the VM operation's steps, in :func:`vm_order`."""
    done = {}
    steps = []
    for t in vm_order(model):
        steps.append((t, model.programs[t].steps[done.get(t, 0)]))
        done[t] = done.get(t, 0) + 1
    return tuple(steps)


def vm_length(scenario: Scenario) -> int:
    """How many steps the VM operation takes when it runs alone (cow2: both COWs and the CPU writer together)."""
    return len(vm_order(build(checked(scenario, "vm_length"))))


def after(scenario: Scenario, hook: str = "", kind: str = "") -> int:
    """How many VM steps have run once ``hook``'s callback has returned, or once the first ``kind`` step ran.

    Presets name their slider placement by what has happened ("after
    range_start", "after the free"), so a model that adds a step elsewhere
    (a caller's mmap_sem, say) moves the number, not the story.
    """
    steps = [step for _, step in vm_steps(build(checked(scenario, "after")))]
    found = [n for n, step in enumerate(steps, start=1) if (hook and step.hook == hook) or
             (kind and step.kind == kind)]
    if not found:
        raise ValueError(f"{scenario.label()}: the VM operation has no {hook or kind} step")
    return found[-1] if hook else found[0]


def position(name: str, value, total: int) -> int:
    """A slider position checked where it enters: a whole number (NumPy's too) from 0 to ``total``, as an int."""
    return whole(name, value, 0, total, " (the VM operation's steps)")


def interleave(scenario: Scenario, read_after: int, install_after: int, guest_after=None) -> tuple:
    """A schedule where the fault reads the pte after ``read_after`` VM steps, installs after ``install_after``.

    The guest accesses once the fault is done and at least ``guest_after``
    VM steps have run (default: ``install_after``); the allocator goes last.
    A thread that would be blocked yields to the others, so any pair of
    numbers gives a complete, valid schedule.  ``guest_after`` is None or a
    position like the other two.
    """
    model = build(checked(scenario, "interleave"))
    total = len(vm_order(model))
    read_after = position("read_after", read_after, total)
    install_after = position("install_after", install_after, total)
    if guest_after is not None:
        guest_after = position("guest_after", guest_after, total)
    if install_after < read_after:
        raise ValueError(f"install_after={install_after} is before read_after={read_after}; "
                         "the fault installs what it read")
    guest_after = install_after if guest_after is None else guest_after
    moves = run(model, placement(model, read_after, install_after, guest_after))
    return tuple(model.names[move.thread] for move in moves)


def placement(model: Model, read_after: int, install_after: int, guest_after: int):
    """The policy behind :func:`interleave`: who should run now, best first; the others follow so nobody deadlocks.

    Every thread is in the list, so a run ends only when every thread has
    finished or is blocked for good: the VM operation's threads (in
    :func:`vm_order`'s preference: a COW that has updated its page table
    yields to those that have not, and to the CPU writer), the faults, the
    guest, then the rest (the allocator).
    """
    operation = operation_threads(model)
    split = {t: page_table_updated(model.programs[t].steps) for t in operation}
    faults = [t for t, name in enumerate(model.names) if name.startswith("fault")]
    guest = model.index("guest")
    others = [t for t in range(len(model.programs)) if t not in operation and t not in faults and t != guest]

    def policy(model, state, moves) -> list:
        vm_steps = sum(1 for move in moves if move.thread in operation)
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
        vm = sorted(operation, key=lambda t: (state.threads[t].pc >= split[t], t))
        return wanted + [t for t in vm + faults + [guest] + others if t not in wanted]
    return policy


def fills_in_one_step(model: Model) -> bool:
    """The fault reads the pte and fills its entry in one step (an IOMMU's translation, walked in hardware).

    Then the slider's first handle places that step, and the second only
    when the device reads (the guest goes once the fault is done and at
    least ``install_after`` VM steps have run).
    """
    faults = [t for t, name in enumerate(model.names) if name.startswith("fault")]
    return bool(faults) and "begin" not in model.programs[faults[0]].labels


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
