"""Plain words and tables for a Trace: what the CLI prints and the status line shows.

Nothing here decides anything; it only describes states that the engine made.
:func:`changes` describes every field of :class:`~labkit.core.state.System`
(a field added to the state without words here is still narrated, by name).
"""
from __future__ import annotations

from ..core.invariants import invariant
from ..core.kinds import ACCESS
from ..core.state import FREE, NOBODY, REUSED, System

PAGE_WORDS = {"in_use": "in use", "free": "free", "reused": "reused by another owner", "unused": "unused"}


def page_name(model, pfn) -> str:
    return "none" if pfn is None else model.page_names[pfn]


def spte_text(model, spte) -> str:
    if spte is None:
        return "none"
    return model.page_names[spte.pfn] + (" (ref)" if spte.pinned else "")


def focus(model, s):
    """What the table shows: virtual page 0's pte and spte, and page P's count and state."""
    page = s.pages[0]
    return page_name(model, s.ptes[0]), spte_text(model, s.sptes[0]), page.refcount, page.state


def events(trace):
    """The run as a table, one row per step: thread, kernel function, and the figure's focus after it."""
    import pandas as pd

    model = trace.model
    rows = []
    for number, (name, move, broken) in enumerate(zip(trace.schedule, trace.moves, trace.violations), start=1):
        pte, spte, refcount, state = focus(model, move.after)
        rows.append({
            "step": number, "thread": name, "action": move.step.action,
            "pte": pte, "spte": spte, "refcount": refcount, "page_state": state,
            "violation": ",".join(broken), "site": move.step.site,
        })
    columns = ["step", "thread", "action", "pte", "spte", "refcount", "page_state", "violation", "site"]
    return pd.DataFrame(rows, columns=columns)


def _local_text(model, name, value) -> str:
    if name in ("pfn", "ref"):
        return page_name(model, value)
    if name == "gathered":
        return "[" + ", ".join(model.page_names[pfn] for pfn in value) + "]"
    return str(value)


def local_changes(model, before, after, t) -> list:
    """What thread ``t`` now remembers: the pfn it read, the reference it holds, the seq it saved."""
    old, new = dict(before.threads[t].local), dict(after.threads[t].local)
    parts = []
    for name in sorted(new):
        if old.get(name, None) != new[name] and not (name == "ref" and new[name] is None and name not in old):
            parts.append(f"{model.names[t]} remembers {name} = {_local_text(model, name, new[name])}")
    return parts


def _pte_changes(model, old, new) -> list:
    return [f"pte[{vpage}] {page_name(model, a)} -> {page_name(model, b)}"
            for vpage, (a, b) in enumerate(zip(old, new)) if a != b]


def _spte_changes(model, old, new) -> list:
    return [f"{model.secondary.entry}[{vpage}] {spte_text(model, a)} -> {spte_text(model, b)}"
            for vpage, (a, b) in enumerate(zip(old, new)) if a != b]


def _page_changes(model, old, new) -> list:
    parts = []
    for pfn, (a, b) in enumerate(zip(old, new)):
        name = model.page_names[pfn]
        if a.refcount != b.refcount:
            parts.append(f"{name} refcount {a.refcount} -> {b.refcount}")
        if a.state != b.state:
            parts.append(f"{name} {PAGE_WORDS[a.state]} -> {PAGE_WORDS[b.state]}")
    return parts


def _counter_changes(model, old, new) -> list:
    return [f"{name} {a} -> {b}" for (name, a), (_, b) in zip(old, new) if a != b]


def _lock_change(word):
    def describe(model, old, new) -> list:
        if old == new:
            return []
        return [f"{word(model)} taken" if new != NOBODY else f"{word(model)} released"]
    return describe


def _mmap_sem_change(model, old, new) -> list:
    if old == new:
        return []
    if new == -1:
        return ["mmap_sem taken for writing"]
    if old == -1:
        return ["mmap_sem released (writer)"]
    return [f"mmap_sem readers {old} -> {new}"]


#: How each System field's change is put in words.  Threads' program counters
#: are not shared state: a step's own locals are told by ``local_changes``.
FIELD_WORDS = {
    "pages": _page_changes,
    "ptes": _pte_changes,
    "sptes": _spte_changes,
    "counters": _counter_changes,
    "ptl": _lock_change(lambda model: "PTL"),
    "mmu_lock": _lock_change(lambda model: model.secondary.lock),
    "mmap_sem": _mmap_sem_change,
    "threads": lambda model, old, new: [],
}
#: The order the words come in: what the figure shows first, then locks.
FIELD_ORDER = ("ptes", "sptes", "pages", "counters", "ptl", "mmu_lock", "mmap_sem", "threads")


def changes(model, before: System, after: System, t=None) -> str:
    """The visible difference between two states, in short words (and thread ``t``'s locals, if given)."""
    parts = [] if t is None else local_changes(model, before, after, t)
    order = FIELD_ORDER + tuple(name for name in System._fields if name not in FIELD_ORDER)
    for name in order:
        old, new = getattr(before, name), getattr(after, name)
        describe = FIELD_WORDS.get(name)
        if describe is not None:
            parts += describe(model, old, new)
        elif old != new:
            parts.append(f"{name} {old!r} -> {new!r}")
    return "; ".join(parts) if parts else "no shared state changed"


def freed_at(trace, pfn: int, upto: int):
    """The last step (1-based, at most ``upto``) at which page ``pfn`` became free."""
    found = None
    for number in range(1, upto + 1):
        before, after = trace.states[number - 1].pages[pfn], trace.states[number].pages[pfn]
        if after.state == FREE and before.state != FREE:
            found = number
    return found


def status(trace, step: int) -> str:
    """One line in plain words about step ``step`` (0 = before anything ran)."""
    model = trace.model
    if not 0 <= step <= len(trace.moves):
        raise ValueError(f"step {step} is outside this trace (0 to {len(trace.moves)})")
    if step == 0:
        return f"step 0: nothing has run yet ({model.scenario.label()})"
    move = trace.moves[step - 1]
    before = trace.states[step - 1]
    name = trace.schedule[step - 1]
    text = f"step {step}: {name} runs {move.step.action}"
    broken = trace.violations[step - 1]
    if move.step.kind == ACCESS:
        text = _access_words(trace, step, before, move)
    if broken:
        text += " — " + ", ".join(_violation_words(trace, step, v) for v in broken)
    return text


def _access_words(trace, step, before, move) -> str:
    model = trace.model
    vpage = model.guest_targets[before.threads[move.thread].pc]
    spte = before.sptes[vpage]
    who = model.secondary.user
    if spte is None:
        return f"step {step}: {who} misses in its {model.secondary.entry} for page {vpage} (it would fault)"
    name = model.page_names[spte.pfn]
    state = before.pages[spte.pfn].state
    text = f"step {step}: {who} uses page {name} through its {model.secondary.entry}"
    if state in (FREE, REUSED):
        freed = freed_at(trace, spte.pfn, step)
        when = f" at step {freed}" if freed else ""
        text += f", but page {name} was freed{when}"
        if state == REUSED:
            text += " and handed to another owner"
    return text


def violation_words(trace, violation) -> str:
    """Plain words for ``violation`` at the step where this trace first breaks it."""
    step = trace.first_violation(violation)
    if step is None:
        return f"this run does not break {violation}"
    if violation == "use_after_free":
        return status(trace, step).split(" — ")[0]
    return f"step {step}: " + _violation_words(trace, step, violation)


def _violation_words(trace, step, violation) -> str:
    model = trace.model
    if violation == "stale":
        final = trace.states[step]
        bad = [(v, s) for v, s in enumerate(final.sptes) if s is not None and s.pfn != final.ptes[v]]
        vpage, spte = bad[0]
        return (f"stale: at the end the {model.secondary.entry} for page {vpage} still maps "
                f"{model.page_names[spte.pfn]} while the pte maps {page_name(model, final.ptes[vpage])}")
    if violation == "sleep_in_atomic":
        move = trace.moves[step - 1]
        return f"sleep in atomic: {model.secondary.name}'s callback must sleep but {move.step.atomic}"
    return invariant(violation).words


def numbered_steps(trace) -> list:
    """``explain`` output: one line per step with thread, kernel function and state change."""
    lines = []
    for number, (name, move) in enumerate(zip(trace.schedule, trace.moves), start=1):
        before = trace.states[number - 1]
        lines.append(f"{number:3d}. [{name}] {move.step.action}")
        if move.step.kind == ACCESS:
            detail = _access_words(trace, number, before, move).split(": ", 1)[1]
        else:
            detail = changes(trace.model, before, move.after, move.thread)
        lines.append(f"       {detail}")
    return lines
