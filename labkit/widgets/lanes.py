"""What the timeline draws, computed from a Trace as plain lists (no widgets).

Step ``k`` happens at ``x = k``; the state after step ``k`` lasts from
``x = k`` to the next step, so a bar starts exactly at the dot of the step
that caused it.  The figure follows virtual page 0 and page P, as the event
table does (``labkit.tables.narrate.focus``).  Keeping this separate from the
bqplot code means the tests, and any other renderer of a :class:`Drawing`
(a static SVG, say), get the same picture without a browser.

The lanes, top to bottom, each drawn only from the states the engine made:

``pte[0]``
    the Linux pte of virtual page 0: which page it maps.
``fault remembers`` (one per fault thread)
    what the secondary fault keeps in its local variables between its pte
    read and its install: the pfn it read, the ``mmu_notifier_seq`` it saved
    (KVM's ``mmu_seq``), the GRU's TFH count, the page reference it holds.
    The bar turns to the danger colour once that pfn is no longer mapped by
    any pte or its page was freed: the fault is about to install a stale pfn
    unless its check stops it.
``spte[0]`` (``GRU TLB entry[0]``, ...)
    the secondary MMU's entry for virtual page 0.
``page P``
    page P's state and reference count.
one lane per notifier counter
    ``mmu_notifier_count``, ``mmu_notifier_seq``, ``range_active``, the GRU's
    hardware invalidate count: the value, raised ones in colour.
one lane per lock
    ``PTL``, the driver's lock (``kvm->mmu_lock``), ``mmap_sem`` (munmap
    holds it for writing, madvise and an era's fault walk for reading) and
    the page lock (reclaim's lock_page), each where the configuration takes
    it: who holds it.
one lane per thread
    a dot per step, labelled with the step's own kind
    (:func:`labkit.core.kinds.word`), never with a neighbour's.

Every lane except the threads' is drawn with bars (``bar_*``), so a renderer
that draws bars, dots and their texts draws every lane.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from ..core.engine import in_order, run
from ..core.kinds import GET_PAGE, INSTALL, KINDS, LOCK, PTE_CLEAR, PTE_READ, READ_BEGIN, UNLOCK, word
from ..core.state import FREE, NOBODY, REUSED, local, mapped
from ..search.schedules import fills_in_one_step, operation_threads, vm_steps
from ..tables.narrate import PAGE_WORDS, changes, pte_text
from . import palette

#: Where a fault thread goes when its check fails: it gives the attempt up (labels of ``labkit.kernel.fault``).
RETRY_LABELS = ("retry", "refused")
#: ... and where it goes when the pte it read is of no use (none, a swap entry, read-only for a write).
MISS_LABELS = ("missing", "break_cow")
#: What the fault takes from the pte walk (forgotten when the pte was of no use).
WALKED = ("pfn", "writable", "ref")
#: Local variables of a fault that are bookkeeping, not something it read.
NOT_REMEMBERED = ("attempt", "gathered")


@dataclass
class Drawing:
    """Everything the figure shows for one trace, as lists ready for bqplot marks (or any renderer).

    lanes:       lane names, top to bottom (the y values of every mark).
    steps:       how many steps the trace has.
    span:        the x of the last step (``steps``, unless :func:`aligned` moved the steps).
    bar_x, bar_y, bar_colours, bar_tips:
                 one interval bar each: ``[x0, x1]``, ``[lane, lane]``, colour, hover text.
    bar_text:    per bar, ``(x_centre, lane, text, width)``: the words to write on it if they fit.
    dot_x, dot_y, dot_roles, dot_tips, dot_text:
                 one dot per step on its thread's lane: role (a key of ``palette.ROLES``: what the
                 step touches, ``notifier`` for a callback's steps, ``retry`` for a failed check),
                 hover text, and the step's own word.
    calls:       ``(x, lane, hook)``: the VM operation calls a notifier hook (drawn on the entry lane).
    clears:      ``(x, lane)``: the pte is cleared.
    retries:     ``(x, lane)``: a fault's check (or the GRU's dropin) failed here: it gives this
                 attempt up and faults again.  Its dot says so too (role ``retry``, word ``check ✗ retry``).
    windows:     ``(x0, x1)`` of each invalidate_range_start … invalidate_range_end.
    violations:  ``(x, invariant name)`` for each invariant broken at a step.
    """

    lanes: list
    steps: int
    span: int = 0
    bar_x: list = field(default_factory=list)
    bar_y: list = field(default_factory=list)
    bar_colours: list = field(default_factory=list)
    bar_tips: list = field(default_factory=list)
    bar_text: list = field(default_factory=list)
    dot_x: list = field(default_factory=list)
    dot_y: list = field(default_factory=list)
    dot_roles: list = field(default_factory=list)
    dot_tips: list = field(default_factory=list)
    dot_text: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    clears: list = field(default_factory=list)
    retries: list = field(default_factory=list)
    windows: list = field(default_factory=list)
    violations: list = field(default_factory=list)


# -- the lanes -------------------------------------------------------------------

def fault_threads(model) -> list:
    """The thread numbers of the secondary faults (``fault``, ``fault2``, ...)."""
    return [t for t, name in enumerate(model.names) if name.startswith("fault")]


def remembering_faults(model) -> list:
    """The faults that remember something between steps: a software walk (an IOMMU's hardware fill does not)."""
    return [t for t in fault_threads(model)
            if any(step.kind in (READ_BEGIN, PTE_READ) for step in model.programs[t].steps)]


def memory_lane(model, t: int) -> str:
    return f"{model.names[t]} remembers"


#: Each lock the state records: its lane's name (None: the driver's lock, named by the secondary) and
#: how to read its holder from a state.
LOCKS = (
    ("PTL", lambda model, s: None if s.ptl == NOBODY else model.names[s.ptl]),
    (None, lambda model, s: None if s.mmu_lock == NOBODY else model.names[s.mmu_lock]),
    ("mmap_sem", lambda model, s: None if s.mmap_sem == 0 else f"write ({model.names[0]})" if s.mmap_sem < 0
     else f"read ×{s.mmap_sem}"),
    ("page lock", lambda model, s: None if s.page_lock == NOBODY else model.page_names[s.page_lock]),
)


def _lock_name(model, name) -> str:
    return model.secondary.lock if name is None else name


@lru_cache(maxsize=256)
def _held_locks(model) -> tuple:
    """The locks some thread takes in this configuration: asked of a whole run, each thread in turn.

    Every thread runs its whole program in that run, so every lock it ever
    takes shows; the lane set then stays the same whatever the schedule.
    """
    states = [model.initial] + [move.after for move in run(model, in_order)]
    return tuple(name for name, holder in LOCKS if any(holder(model, s) is not None for s in states))


def lock_lanes(model) -> list:
    """PTL, the driver's lock, mmap_sem (munmap writes it, madvise reads it) and the page lock, where taken."""
    return [_lock_name(model, name) for name in _held_locks(model)]


def lane_names(model) -> list:
    """Every lane of this configuration, top to bottom (the same for every schedule of it)."""
    memory = [memory_lane(model, t) for t in remembering_faults(model)]
    counters = [name for name, _ in model.initial.counters]
    return (["pte[0]"] + memory + [f"{model.secondary.entry}[0]", f"page {model.page_names[0]}"]
            + counters + lock_lanes(model) + list(model.names))


def drawing(trace) -> Drawing:
    model = trace.model
    lanes = lane_names(model)
    d = Drawing(lanes=lanes, steps=len(trace.moves), span=len(trace.moves))
    _pages_and_entries(d, trace)
    for t in remembering_faults(model):
        _memory(d, trace, t)
    _counters(d, trace)
    _locks(d, trace)
    _steps(d, trace)
    _windows(d, trace)
    return d


def _runs(values):
    """(first, last, value) for each run of equal consecutive values."""
    start = 0
    for k in range(1, len(values) + 1):
        if k == len(values) or values[k] != values[start]:
            yield start, k - 1, values[start]
            start = k


def _bar(d, x0, x1, lane, colour, text, tip, gap=0.0):
    """An interval bar from state ``x0`` to ``x1``; ``gap`` leaves a thin space so equal colours stay apart."""
    d.bar_x.append([x0 + gap, x1 - gap])
    d.bar_y.append([lane, lane])
    d.bar_colours.append(colour)
    d.bar_tips.append(tip)
    d.bar_text.append(((x0 + x1) / 2, lane, text, x1 - x0 - 2 * gap))


def _pages_and_entries(d, trace):
    model, states = trace.model, trace.states
    name = model.page_names
    entry = model.secondary.entry
    pte_lane, spte_lane, page_lane = "pte[0]", f"{entry}[0]", f"page {name[0]}"

    for first, last, pte in _runs([s.ptes[0] for s in states]):
        if pte is not None:
            what = f"swap entry ({name[pte.pfn]})" if pte.swapped else name[pte.pfn]
            _bar(d, first, last + 1, pte_lane, palette.PTE, f"pte → {what}",
                 f"steps {first}–{last}: the pte maps {pte_text(model, pte)}")

    def spte_key(s):
        spte = s.sptes[0]
        if spte is None:
            return None
        dangling = s.pages[spte.pfn].state in (FREE, REUSED)
        return spte.pfn, spte.pinned, dangling

    for first, last, key in _runs([spte_key(s) for s in states]):
        if key is None:
            continue
        pfn, pinned, dangling = key
        text = f"→ {name[pfn]}" + (" ref" if pinned else "") + (" FREED" if dangling else "")
        tip = (f"steps {first}–{last}: the {entry} maps page {name[pfn]}"
               + (" and holds a reference" if pinned else "")
               + (f", but page {name[pfn]} has been freed" if dangling else ""))
        _bar(d, first, last + 1, spte_lane, palette.SPTE_DANGLING if dangling else palette.SPTE, text, tip)

    for first, last, page in _runs([s.pages[0] for s in states]):
        if page.state in palette.PAGE:
            words = PAGE_WORDS[page.state]
            _bar(d, first, last + 1, page_lane, palette.PAGE[page.state], f"{words} · ref {page.refcount}",
                 f"steps {first}–{last}: page {name[0]} {words}, refcount {page.refcount}")


# -- what the fault remembers -------------------------------------------------------

def _writes(step, before, t) -> tuple:
    """The local variables ``step`` writes: run it on ``before`` with thread ``t``'s locals emptied.

    Asking the step itself (rather than comparing values) also catches a
    second attempt that reads the same value again.
    """
    thread = before.threads[t]
    probe = before._replace(threads=before.threads[:t] + (thread._replace(local=()),) + before.threads[t + 1:])
    try:
        after = step.run(probe, t)
    except Exception:  # noqa: BLE001 - a step that needs its locals: fall back to what changed
        after = None
    if after is None:
        return ()
    return tuple(name for name, _ in after.threads[t].local if name not in NOT_REMEMBERED)


def _memory_text(model, s, t, names) -> tuple:
    """Short words and a hover sentence for what thread ``t`` remembers in state ``s``."""
    short, long = [], []
    for name in names:
        value = local(s, t, name)
        if name == "pfn":
            page = "none" if value is None else model.page_names[value]
            short.append(f"pfn {page}")
            long.append(f"the pfn it read from the pte ({page})")
        elif name == "writable":
            if not value:
                short.append("read-only")
                long.append("that the pte was read-only")
        elif name == "ref":
            if value is not None:
                short.append(f"ref {model.page_names[value]}")
                long.append(f"a reference to page {model.page_names[value]}")
        else:
            short.append(f"{name} {value}")
            long.append(f"{name} = {value}")
    return " · ".join(short), ", ".join(long)


def _stale(s, t) -> bool:
    """The pfn the fault remembers is no longer mapped by any pte, or its page was freed."""
    pfn = local(s, t, "pfn")
    return pfn is not None and (pfn not in {mapped(pte) for pte in s.ptes} or s.pages[pfn].state in (FREE, REUSED))


def _memory(d, trace, t):
    """From the first thing an attempt reads (seq, TFH, the pte) until its install or its giving up.

    A pte of no use (none, a swap entry, read-only for a write) sends the
    fault to refault and walk again within the same attempt: it forgets the
    pfn, and keeps the seq it saved before the walk (the check compares it).
    """
    model = trace.model
    program = model.programs[t]
    ends = {program.labels[label] for label in RETRY_LABELS if label in program.labels}
    misses = {program.labels[label] for label in MISS_LABELS if label in program.labels}
    lane = memory_lane(model, t)
    remembered: list = []
    keys = [None]
    for k, move in enumerate(trace.moves, start=1):
        after = move.after
        if move.thread == t:
            kind = move.step.kind
            if kind in (READ_BEGIN, PTE_READ):
                written = _writes(move.step, trace.states[k - 1], t)
                remembered = [n for n in remembered if n not in written] + list(written)
            elif kind == GET_PAGE and "ref" not in remembered:
                remembered.append("ref")
            pc = after.threads[t].pc
            if kind == INSTALL or pc in ends or pc >= len(program.steps):
                remembered = []
            elif pc in misses:        # the pte was of no use: it walks again, still holding its seq
                remembered = [name for name in remembered if name not in WALKED]
        if remembered:
            text, tip = _memory_text(model, after, t, remembered)
            keys.append((text, tip, "pfn" in remembered and _stale(after, t)))
        else:
            keys.append(None)
    for first, last, key in _runs(keys):
        if key is not None:
            text, tip, stale = key
            warning = " — no pte maps that page any more, or it was freed" if stale else ""
            _bar(d, first, last + 1, lane, palette.MEMORY_STALE if stale else palette.MEMORY, text,
                 f"steps {first}–{last}: {model.names[t]} remembers {tip}{warning}")


# -- counters and locks -------------------------------------------------------------

def _counters(d, trace):
    for index, (name, _) in enumerate(trace.model.initial.counters):
        values = [s.counters[index][1] for s in trace.states]
        for first, last, value in _runs(values):
            colour = palette.COUNTER_ZERO if value == 0 else palette.COUNTER_RAISED
            _bar(d, first, last + 1, name, colour, str(value), f"steps {first}–{last}: {name} = {value}", gap=0.06)


def _locks(d, trace):
    model = trace.model
    holders = dict(LOCKS)
    for name in _held_locks(model):
        lane = _lock_name(model, name)
        for first, last, holder in _runs([holders[name](model, s) for s in trace.states]):
            if holder is not None:
                _bar(d, first, last + 1, lane, palette.LOCK, holder,
                     f"steps {first}–{last}: {lane} held ({holder})", gap=0.06)


# -- the threads' steps -------------------------------------------------------------

def gives_up(model, move) -> bool:
    """This fault step failed its check (or the GRU dropped its dropin): the attempt is given up."""
    program = model.programs[move.thread]
    pc = move.after.threads[move.thread].pc
    return (move.step.kind not in (LOCK, UNLOCK)
            and any(program.labels.get(label) == pc for label in RETRY_LABELS))


def _steps(d, trace):
    model = trace.model
    entry_lane = f"{model.secondary.entry}[0]"
    for k, (name, move, broken) in enumerate(zip(trace.schedule, trace.moves, trace.violations), start=1):
        step = move.step
        d.dot_x.append(k)
        d.dot_y.append(name)
        tip = f"step {k} · {name} · {step.action} — {changes(model, trace.states[k - 1], move.after, move.thread)}"
        text = word(step)
        retry = gives_up(model, move)
        d.dot_roles.append("retry" if retry else "notifier" if step.hook else KINDS[step.kind].touches)
        if retry:
            d.retries.append((k, name))
            text += " ✗ retry"
            tip += " — the check fails: this attempt is given up and the fault starts again"
        if broken:
            tip += " — BROKEN: " + ", ".join(broken)
        d.dot_tips.append(tip)
        d.dot_text.append(text)
        if step.calls:
            d.calls.append((k, entry_lane, step.calls))
        if step.kind == PTE_CLEAR and trace.states[k - 1].ptes[0] != move.after.ptes[0]:
            d.clears.append((k, "pte[0]"))      # the lanes follow address 0: cow2's second COW clears another
        for invariant in broken:
            d.violations.append((k, invariant))


def _windows(d, trace):
    """Each invalidate_range_start … invalidate_range_end, from its first step to the end's last step."""
    start = None
    for k, move in enumerate(trace.moves, start=1):
        hook = move.step.hook
        if move.step.calls == "invalidate_range_start" and start is None:
            start = k
        if hook == "invalidate_range_end" and start is not None:
            following = trace.moves[k].step.hook if k < len(trace.moves) else None
            if following != "invalidate_range_end" or trace.moves[k].step.calls:
                d.windows.append((start, k))
                start = None
    if start is not None:
        d.windows.append((start, len(trace.moves)))


# -- the VM operation's steps, named for the schedule slider ---------------------------

def step_name(step) -> str:
    """A step in a few words: the hook it belongs to and its word, or the kernel's own lock call.

    The schedule slider names the VM operation's steps this way, and the
    scheduler lists each thread's program with it.
    """
    if step.hook:
        hook = step.hook.replace("invalidate_range_", "range_")
        return f"{hook}: {word(step)}"
    if step.kind in (LOCK, UNLOCK):
        return step.action.rsplit(": ", 1)[-1]
    return word(step)


def vm_places(model) -> list:
    """The schedule slider's positions: ``"0: before range_start"``, ``"5: after clear pte"``, ...

    Position ``k`` means "after the VM operation's ``k``-th step", the number
    :func:`labkit.search.schedules.interleave` takes.  When the operation is
    several threads (cow2: ``vm``, ``vm2``, ``cpu``), each position names the
    thread too (``"20: after cpu: store"``), in the order the slider runs them.
    """
    steps = vm_steps(model)
    if not steps:
        return ["0: the VM operation has no steps"]
    several = len(operation_threads(model)) > 1

    def named(t, text):
        return f"{model.names[t]}: {text}" if several else text

    t, first = steps[0]
    before = first.hook.replace("invalidate_range_", "range_") if first.hook else step_name(first)
    return [f"0: before {named(t, before)}"] + [f"{k}: after {named(t, step_name(step))}"
                                                for k, (t, step) in enumerate(steps, start=1)]


class Handles(NamedTuple):
    """What the slider's two handles place, in the words each view uses."""

    read: str            # the first handle, in full ("the fault reads the pte")
    install: str         # the second, in full ("installs its entry")
    install_short: str   # the second in a sentence that names the first ("..., installs after 8")
    label: str           # both, as the slider's own short label


def handle_words(model) -> Handles:
    """What the slider's two handles place for ``model``.

    Usually the fault's pte read and its install (the guest accesses right
    after).  An IOMMU's translation reads the pte and fills the IOTLB in one
    step: the first handle places that step, the second only the device's read.
    """
    if fills_in_one_step(model):
        reads = f"{model.secondary.user} reads"
        return Handles(f"the IOMMU's walk fills the {model.secondary.entry}", reads, reads,
                       f"IOMMU fills | {model.secondary.user.removeprefix('the ')} reads")
    return Handles("the fault reads the pte", "installs its entry", "installs", "fault reads | installs")


def placement_of(trace) -> tuple:
    """(read_after, install_after) of a trace: VM steps before the first fault's last pte read and install.

    For a schedule the slider did not make (the worst case), this is where its
    handles belong: the story the drawn run tells, in the slider's terms.
    The VM steps are those of every thread of the operation (cow2: both COWs
    and the CPU writer).
    """
    model = trace.model
    operation = operation_threads(model)
    faults = fault_threads(model)
    vm = 0
    read = install = None
    for move in trace.moves:
        if move.thread in operation:
            vm += 1
        elif faults and move.thread == faults[0]:
            if move.step.kind == PTE_READ:
                read = vm
            elif move.step.kind == INSTALL:
                install = vm
    read = 0 if read is None else read
    install = vm if install is None else install
    return read, max(read, install)


# -- two runs lined up on the story ---------------------------------------------------

def _key(trace, k):
    move = trace.moves[k - 1]
    return trace.schedule[k - 1], word(move.step)


def _common(a: list, b: list) -> list:
    """Longest common subsequence of two key lists, as index pairs (deterministic ties)."""
    n, m = len(a), len(b)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = best[i + 1][j + 1] + 1 if a[i] == b[j] else max(best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _gaps(trace) -> list:
    """The steps between consecutive VM steps: ``gaps[j]`` are those after the VM's ``j``-th step."""
    operation = operation_threads(trace.model)
    gaps, current, vm = [], [], []
    for k, move in enumerate(trace.moves, start=1):
        if move.thread in operation:
            gaps.append(current)
            current = []
            vm.append(k)
        else:
            current.append(k)
    gaps.append(current)
    return gaps, vm


def story_positions(a, b) -> tuple:
    """x per step for two traces (index 0 = before any step), lined up on the VM operation's steps.

    The VM's ``j``-th step gets the same x in both; between two VM steps the
    other threads' steps are matched by thread and word (a longest common
    subsequence), so the same moment of the story (the fault's install, the
    guest's access) shares an x, and a step only one run has gets a column of
    its own.  Each list has ``steps + 2`` entries: the last is where the final
    state's bar ends.
    """
    (gaps_a, vm_a), (gaps_b, vm_b) = _gaps(a), _gaps(b)
    while len(gaps_a) < len(gaps_b):
        gaps_a.append([])
    while len(gaps_b) < len(gaps_a):
        gaps_b.append([])
    xs_a, xs_b = [0] * (len(a.moves) + 2), [0] * (len(b.moves) + 2)
    x = 0
    for j, (gap_a, gap_b) in enumerate(zip(gaps_a, gaps_b)):
        if j > 0:                                  # the VM's j-th step, shared
            x += 1
            if j - 1 < len(vm_a):
                xs_a[vm_a[j - 1]] = x
            if j - 1 < len(vm_b):
                xs_b[vm_b[j - 1]] = x
        pairs = _common([_key(a, k) for k in gap_a], [_key(b, k) for k in gap_b])
        i = jj = 0
        for pi, pj in pairs + [(len(gap_a), len(gap_b))]:
            for k in gap_a[i:pi]:
                x += 1
                xs_a[k] = x
            for k in gap_b[jj:pj]:
                x += 1
                xs_b[k] = x
            if pi < len(gap_a):
                x += 1
                xs_a[gap_a[pi]] = xs_b[gap_b[pj]] = x
            i, jj = pi + 1, pj + 1
    xs_a[-1] = xs_a[-2] + 1 if len(a.moves) else 1
    xs_b[-1] = xs_b[-2] + 1 if len(b.moves) else 1
    return xs_a, xs_b


def aligned(d: Drawing, xs: list) -> Drawing:
    """``d`` with step ``k`` drawn at ``xs[k]`` (from :func:`story_positions`)."""
    def at(x):
        return xs[int(x)]

    bars = [[at(round(x0)) + (x0 - round(x0)), at(round(x1)) + (x1 - round(x1))] for x0, x1 in d.bar_x]
    texts = [((x0 + x1) / 2, lane, text, x1 - x0) for (x0, x1), (_, lane, text, _) in zip(bars, d.bar_text)]
    return replace(
        d, span=xs[d.steps] if d.steps else 0, bar_x=bars, bar_text=texts,
        dot_x=[at(x) for x in d.dot_x],
        calls=[(at(x), lane, hook) for x, lane, hook in d.calls],
        clears=[(at(x), lane) for x, lane in d.clears],
        retries=[(at(x), lane) for x, lane in d.retries],
        windows=[(at(x0), at(x1)) for x0, x1 in d.windows],
        violations=[(at(x), name) for x, name in d.violations])


# -- labels that do not overlap ---------------------------------------------------------

def text_px(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of how wide ``text`` is in a sans-serif font of ``size`` px.

    Measured in chromium (DejaVu Sans): "range_active++" at 10 px is 73 px
    wide, 0.52 of the size per character; the estimate allows 0.56.
    """
    width = sum(0.74 if c.isupper() else 0.36 if c in " .,:;'|!il" else 0.56 for c in text) * size
    return width * (1.1 if bold else 1.0)


def place(items, px_per_x: float, rows: int, size: float, bold: bool = False, gap_px: float = 6,
          important=lambda item: True, bounds=None) -> list:
    """Where each ``(x, lane, text)`` goes: ``(row, x)`` with row 0 … rows-1, or None where every row is taken.

    Per lane and row, a label keeps the pixels it covers; a label goes in the
    first row where it overlaps nothing.  Important labels are placed first,
    then the rest, each group from left to right, so a lock's word gives way
    to a ``clear pte``.  With ``bounds`` (the plot's x range), a label that
    would stick out is moved inside it (the figure clips what sticks out).
    Dropped labels keep their words in the dot's tooltip.
    """
    taken: dict = {}
    result = [None] * len(items)
    order = sorted(range(len(items)), key=lambda i: (not important(items[i]), items[i][0]))
    for i in order:
        x, lane, text = items[i]
        if not text:
            continue
        half = text_px(text, size, bold) / 2 + gap_px / 2
        if bounds is not None:
            low, high = bounds[0] + half / px_per_x, bounds[1] - half / px_per_x
            x = min(max(x, low), high) if low <= high else (bounds[0] + bounds[1]) / 2
        left, right = x * px_per_x - half, x * px_per_x + half
        for row in range(rows):
            spans = taken.setdefault((lane, row), [])
            if all(right <= a or left >= b for a, b in spans):
                spans.append((left, right))
                result[i] = (row, x)
                break
    return result
