"""Colours and words for the timeline: Okabe-Ito, so the figure reads with any colour vision.

Every colour is paired with a word on the figure or in the legend, so colour
is never the only cue.  The mid-tone Okabe-Ito hues read on JupyterLab's light
and dark themes alike; text drawn on bars is black because the bars are light.
"""
from __future__ import annotations

import html

ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, GREY = "#0072B2", "#D55E00", "#CC79A7", "#999999"
INK = "#000000"            # text on bars (all bars are light enough)
NEUTRAL = "#8c8c8c"        # text on the background: readable on white and on JupyterLab's dark grey

PTE = SKY
SPTE = ORANGE
SPTE_DANGLING = VERMILLION
PAGE = {"in_use": GREEN, "free": GREY, "reused": PURPLE}
RANGE_WINDOW = YELLOW
VIOLATION = VERMILLION
MEMORY = "#BFE3F7"          # what the fault remembers (a light SKY: it holds a copy of the pte)
MEMORY_STALE = "#F4B183"    # ... once no pte maps that page any more, or it was freed
COUNTER_ZERO = "#E6E6E6"    # a notifier counter at 0
COUNTER_RAISED = "#F5EE9E"  # a counter above 0 (a light YELLOW: like the range window it often marks)
LOCK = "#CFCFCF"            # a lock held (its holder is written on the bar)

#: Dot colour per step role, in the thread lanes.
ROLES = {"notifier": YELLOW, "pte": BLUE, "secondary": ORANGE, "page": PURPLE, "access": GREEN,
         "lock": GREY, "other": GREY, "retry": VERMILLION}

#: The cursor: past columns clear, the current column tinted, the future veiled.
CLEAR, CURRENT, FUTURE = "rgba(0,0,0,0)", "rgba(0,114,178,0.30)", "rgba(128,128,128,0.36)"

LEGEND = (
    (PTE, "bar", "pte → page: the Linux page table maps the page"),
    (SPTE, "bar", "spte → page: the secondary MMU maps it (“ref” = the entry holds a page reference)"),
    (SPTE_DANGLING, "bar", "secondary entry → a page that was freed: the guest/device can reach freed memory"),
    (PAGE["in_use"], "bar", "page in use, with its refcount"),
    (PAGE["free"], "bar", "page freed to the buddy allocator"),
    (PAGE["reused"], "bar", "page handed to another owner"),
    (MEMORY, "bar", "what the fault remembers between its pte read and its install (pfn, saved seq)"),
    (MEMORY_STALE, "bar", "… and that page is no longer mapped, or was freed"),
    (COUNTER_RAISED, "bar", "a notifier counter above 0"),
    (LOCK, "bar", "a lock, with who holds it"),
    (RANGE_WINDOW, "band", "invalidate_range_start … invalidate_range_end window"),
    (YELLOW, "dot", "a notifier callback step (▼ marks the call)"),
    (BLUE, "dot", "a pte step (✚ marks the pte clear)"),
    (VERMILLION, "dot", "a fault's check fails (✗ retry): it gives the attempt up and faults again"),
    (VIOLATION, "band", "an invariant broken at this step (named in capitals)"),
    (CURRENT, "band", "the cursor; steps after it are greyed"),
)


def legend_html() -> str:
    """The text legend under the figure: a swatch and words per colour."""
    items = []
    for colour, shape, words in LEGEND:
        radius = "50%" if shape == "dot" else "2px"
        height = "10px" if shape == "dot" else ("12px" if shape == "band" else "8px")
        swatch = (f'<span style="display:inline-block;width:14px;height:{height};border-radius:{radius};'
                  f'background:{colour};border:1px solid {NEUTRAL};margin-right:4px"></span>')
        items.append(f'<span style="margin-right:14px;white-space:nowrap">{swatch}{html.escape(words)}</span>')
    return ('<div class="labkit-legend" style="font-size:12px;line-height:1.9">'
            + " ".join(items) + "</div>")
