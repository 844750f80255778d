"""Plain words and tables for a Trace: what the CLI prints and the status line shows.

Nothing here decides anything; it only describes states that the engine made.
:func:`changes` describes every field of :class:`~labkit.core.state.System`
(a field added to the state without words here is still narrated, by name).
"""
from __future__ import annotations

from ..core.checks import whole
from ..core.invariants import invariant
from ..core.kinds import ACCESS, REUSE
from ..core.state import FREE, NOBODY, REUSED, System, backing

PAGE_WORDS = {"in_use": "in use", "free": "free", "reused": "reused by another owner", "unused": "unused"}


def page_name(model, pfn) -> str:
    return "none" if pfn is None else model.page_names[pfn]


def pte_text(model, pte) -> str:
    """``P``, ``P (read-only)``, ``swap entry for P`` or ``none``."""
    if pte is None:
        return "none"
    name = model.page_names[pte.pfn]
    if pte.swapped:
        return f"swap entry for {name}"
    return name if pte.writable else f"{name} (read-only)"


def spte_text(model, spte) -> str:
    if spte is None:
        return "none"
    marks = [mark for mark, on in (("ref", spte.pinned), ("read-only", not spte.writable)) if on]
    return model.page_names[spte.pfn] + (f" ({', '.join(marks)})" if marks else "")


def focus(model, s):
    """What the table shows: virtual page 0's pte and spte, and page P's count and state."""
    page = s.pages[0]
    return pte_text(model, s.ptes[0]), spte_text(model, s.sptes[0]), page.refcount, page.state


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
    if name == "writable":
        return "no page to map" if value is None else ("yes" if value else "no (read-only)")
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
    return [f"pte[{vpage}] {pte_text(model, a)} -> {pte_text(model, b)}"
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
        if a.cached != b.cached and b.state != FREE:
            parts.append(f"{name} {'enters' if b.cached else 'leaves'} the page cache or swap cache")
        if a.value != b.value:
            parts.append(f"{name} data: store {a.value} -> store {b.value}")
    return parts


def _counter_changes(model, old, new) -> list:
    return [f"{name} {a} -> {b}" for (name, a), (_, b) in zip(old, new) if a != b]


def _lock_change(word):
    def describe(model, old, new) -> list:
        if old == new:
            return []
        return [f"{word(model)} taken" if new != NOBODY else f"{word(model)} released"]
    return describe


def _page_lock_change(model, old, new) -> list:
    if old == new:
        return []
    return [f"lock_page({model.page_names[new]}) taken" if new != NOBODY
            else f"page lock on {model.page_names[old]} released"]


def _store_changes(model, old, new) -> list:
    return [f"the CPU's last store to address {vpage}: {b}" for vpage, (a, b) in enumerate(zip(old, new)) if a != b]


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
    "page_lock": _page_lock_change,
    "stores": _store_changes,
    "threads": lambda model, old, new: [],
}
#: The order the words come in: what the figure shows first, then locks.
FIELD_ORDER = ("ptes", "sptes", "pages", "stores", "counters", "ptl", "mmu_lock", "mmap_sem", "page_lock", "threads")


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
    step = whole("step", step, 0, len(trace.moves), " (the steps of this trace)")
    if step == 0:
        return f"step 0: nothing has run yet ({model.scenario.label()})"
    move = trace.moves[step - 1]
    before = trace.states[step - 1]
    name = trace.schedule[step - 1]
    text = f"step {step}: {name} runs {move.step.action}"
    broken = trace.violations[step - 1]
    if move.step.kind == ACCESS:
        text = _access_words(trace, step, before, move)
    elif move.step.kind == REUSE and not broken:
        text = _reuse_words(trace, step, before, move) or text
    if broken:
        text += " — " + ", ".join(_violation_words(trace, step, v) for v in broken)
    return text


def _reuse_words(trace, step, before, move):
    """The allocator handing out a freed page nothing maps any more: what free memory is for, told calmly.

    It is alarming only while a secondary entry still maps that page (then
    the words say so, and the guest's later access breaks use_after_free).
    """
    model = trace.model
    for pfn, (old, new) in enumerate(zip(before.pages, move.after.pages)):
        if old.state != new.state and not any(s is not None and s.pfn == pfn for s in before.sptes):
            freed = freed_at(trace, pfn, step)
            when = f", freed at step {freed}" if freed else ""
            function = move.step.action.split(":")[0]
            return (f"step {step}: {trace.schedule[step - 1]} runs {function}: page {model.page_names[pfn]}{when} "
                    f"and mapped by no pte and no {model.secondary.entry}, goes to another task "
                    "(ordinary reuse of free memory)")
    return None


def _access_words(trace, step, before, move) -> str:
    model = trace.model
    vpage = model.guest_targets[before.threads[move.thread].pc]
    spte, entry, who = before.sptes[vpage], model.secondary.entry, model.secondary.user
    if spte is None:
        spte = move.after.sptes[vpage]
        if spte is None:
            return f"step {step}: {who} misses in its {entry} for page {vpage} (it would fault)"
        text = (f"step {step}: {who} misses; {model.secondary.walker} fills its {entry} for page {vpage} "
                f"with page {model.page_names[spte.pfn]}, and {who} reads it")
    else:
        text = f"step {step}: {who} uses page {model.page_names[spte.pfn]} through its {entry}"
    if any(trace.final.stores):        # the CPU stores in this run: say which store's data was read
        value = before.pages[spte.pfn].value
        text += f" (it reads the data of store {value})" if value else " (it reads data no store has changed)"
    name, state = model.page_names[spte.pfn], before.pages[spte.pfn].state
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
        bad = [(v, s) for v, s in enumerate(final.sptes) if s is not None and s.pfn != backing(final, v)]
        vpage, spte = bad[0]
        return (f"stale: at the end the {model.secondary.entry} for page {vpage} still maps "
                f"{model.page_names[spte.pfn]} while the pte maps {pte_text(model, final.ptes[vpage])}")
    if violation == "sleep_in_atomic":
        move = trace.moves[step - 1]
        why = move.step.atomic or "the PTL is held"
        what = "callback must sleep" if move.step.calls else "step may sleep"
        return f"sleep in atomic: {model.secondary.name}'s {what} but {why}"
    if violation == "reclaim_defeated":
        final = trace.states[step]
        kept = [model.page_names[pfn] for pfn in model.reclaimed if final.pages[pfn].cached
                and final.pages[pfn].state == "in_use"]
        return (f"reclaim defeated: page {', '.join(kept)} is still in memory (in the swap cache) because "
                f"the {model.secondary.entry} holds a reference; the next fault maps the same page again")
    if violation in ("stale_read", "store_order"):
        return invariant(violation).words + ": " + _access_words(trace, step, trace.states[step - 1],
                                                               trace.moves[step - 1]).split(": ", 1)[1]
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
