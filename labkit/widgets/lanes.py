"""What the timeline draws, computed from a Trace as plain lists (no widgets).

Step ``k`` happens at ``x = k``; the state after step ``k`` lasts from
``x = k`` to the next step, so a bar starts exactly at the dot of the step
that caused it.  The figure follows virtual page 0 and page P, as the event
table does (``labkit.narrate.focus``).  Keeping this separate from the bqplot
code means the tests can check the drawing without a browser.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.kinds import KINDS, PTE_CLEAR, word
from ..core.state import FREE, REUSED
from ..tables.narrate import PAGE_WORDS, changes, pte_text
from . import palette


@dataclass
class Drawing:
    """Everything the figure shows for one trace, as lists ready for bqplot marks."""

    lanes: list                                   # y domain, top to bottom
    steps: int
    bar_x: list = field(default_factory=list)     # [[x0, x1], ...] one per interval bar
    bar_y: list = field(default_factory=list)     # [[lane, lane], ...]
    bar_colours: list = field(default_factory=list)
    bar_tips: list = field(default_factory=list)
    bar_text: list = field(default_factory=list)  # (x, lane, text) written on long-enough bars
    dot_x: list = field(default_factory=list)
    dot_y: list = field(default_factory=list)
    dot_roles: list = field(default_factory=list)
    dot_tips: list = field(default_factory=list)
    dot_text: list = field(default_factory=list)  # short word per dot
    calls: list = field(default_factory=list)     # (x, lane, hook)
    clears: list = field(default_factory=list)    # (x, lane)
    windows: list = field(default_factory=list)   # (x0, x1) of each range_start..range_end
    violations: list = field(default_factory=list)  # (x, invariant)


def lane_names(model) -> list:
    entry = model.secondary.entry
    return ["pte[0]", f"{entry}[0]", f"page {model.page_names[0]}"] + list(model.names)


def drawing(trace) -> Drawing:
    model = trace.model
    lanes = lane_names(model)
    d = Drawing(lanes=lanes, steps=len(trace.moves))
    _intervals(d, trace, lanes)
    _steps(d, trace, lanes)
    _windows(d, trace)
    return d


def _runs(values):
    """(first, last, value) for each run of equal consecutive values."""
    start = 0
    for k in range(1, len(values) + 1):
        if k == len(values) or values[k] != values[start]:
            yield start, k - 1, values[start]
            start = k


def _intervals(d, trace, lanes):
    model, states = trace.model, trace.states
    pte_lane, spte_lane, page_lane = lanes[:3]
    name = model.page_names

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
        tip = (f"steps {first}–{last}: the {model.secondary.entry} maps page {name[pfn]}"
               + (" and holds a reference" if pinned else "")
               + (f", but page {name[pfn]} has been freed" if dangling else ""))
        _bar(d, first, last + 1, spte_lane, palette.SPTE_DANGLING if dangling else palette.SPTE, text, tip)

    for first, last, page in _runs([s.pages[0] for s in states]):
        if page.state in palette.PAGE:
            words = PAGE_WORDS[page.state]
            _bar(d, first, last + 1, page_lane, palette.PAGE[page.state], f"{words} · ref {page.refcount}",
                 f"steps {first}–{last}: page {name[0]} {words}, refcount {page.refcount}")



def _bar(d, x0, x1, lane, colour, text, tip):
    d.bar_x.append([x0, x1])
    d.bar_y.append([lane, lane])
    d.bar_colours.append(colour)
    d.bar_tips.append(tip)
    d.bar_text.append(((x0 + x1) / 2, lane, text, x1 - x0))


def _steps(d, trace, lanes):
    model = trace.model
    for k, (name, move, broken) in enumerate(zip(trace.schedule, trace.moves, trace.violations), start=1):
        step = move.step
        lane = name
        d.dot_x.append(k)
        d.dot_y.append(lane)
        d.dot_roles.append("notifier" if step.hook else KINDS[step.kind].touches)
        tip = f"step {k} · {name} · {step.action} — {changes(model, trace.states[k - 1], move.after)}"
        if broken:
            tip += " — BROKEN: " + ", ".join(broken)
        d.dot_tips.append(tip)
        d.dot_text.append(word(step))
        if step.calls:
            d.calls.append((k, lanes[1], step.calls))
        if step.kind == PTE_CLEAR:
            d.clears.append((k, lanes[0]))
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
