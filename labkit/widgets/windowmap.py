"""Every slider placement at once, as a grid you can click: the window map beside a Lab.

:func:`labkit.tables.stories.window_map` runs every (read, install) placement
of a configuration; a chapter prints it for nbval.  :class:`WindowMap` draws
the same table as a bqplot GridHeatMap (row = VM steps before the fault reads
the pte, top to bottom; column = VM steps before it installs) with a colour
per outcome and the table's letters on each cell, and a click on a cell
moves the Lab next to it to that placement (``lab.move(read, install)``), so
the student sees the run behind the letter.  When the Lab's configuration
changes, the map is recomputed for it: the grid always belongs to the
configuration the Lab shows.
"""
from __future__ import annotations

import html
from collections import Counter

from ..core.invariants import TABLE
from ..scenario import Scenario, build
from ..search.schedules import position
from ..tables.stories import beyond_placements, window_map
from . import palette
from .guard import Messages, guard
from .heatmap import EMPTY, SAFE, swatches_html
from .lab import Lab
from .lanes import handle_words
from .shown import Shown
from .worst import EXPLORE_LIMIT

#: One colour per invariant letter (Okabe-Ito; black letters read on each).
LETTER_COLOURS = {"U": palette.VIOLATION, "S": palette.ORANGE, "R": palette.PURPLE, "A": palette.SKY,
                  "D": palette.GREY, "O": palette.YELLOW, "T": palette.GREEN}
#: A cell's colour names the first of its letters in the invariants' table order (its letters name them all).
SEVERITY = tuple((record.letter, LETTER_COLOURS[record.letter]) for record in TABLE)


#: The letters sit on the cells: clicks must go through them to the cell below.
CSS = ("<style>.labkit-windowmap text.label { pointer-events: none; } "
       ".labkit-windowmap rect.heatmapcell { cursor: pointer; }</style>")


def code(cell: str) -> float:
    """The colour code of a window_map cell: 0 safe, 1.. the most severe letter it holds, -1 if impossible.

    (-1 rather than NaN: bqplot sends NaN as NaN, never as the null its ``null_color`` needs.)
    """
    if cell == "":
        return -1.0
    return next((float(i) for i, (letter, _) in enumerate(SEVERITY, start=1) if letter in cell), 0.0)


def legend_html() -> str:
    words = {record.letter: record.words for record in TABLE}
    items = [(SAFE, ". nothing broken")] + [(colour, f"{letter} {words[letter]}") for letter, colour in SEVERITY]
    items.append((EMPTY, "no such placement (the install cannot come before the read)"))
    return swatches_html(items, "colour: the first of a cell's letters in this order; the letters name them all. "
                                "Click a cell to load that schedule into the timeline.")


class WindowMap(Shown):
    """A clickable window map of ``scenario`` next to a Lab showing only ``controls``."""

    def __init__(self, scenario: Scenario | None = None, read_after: int = 0, install_after: int | None = None,
                 controls=(), max_states: int | None = EXPLORE_LIMIT, **fields):
        import bqplot as bq
        import ipywidgets as widgets

        if scenario is None:
            scenario = Scenario(op="zap", scheme="range", refmode="off").replace(**fields)
        # the Lab checks the placement (None: the end of the operation) and the worst case's budget
        self.lab = Lab(scenario, read_after=read_after, install_after=install_after, controls=controls,
                       max_states=max_states)
        self.messages = Messages()
        self.placement = self.lab.when.index
        self.rows, self.columns = bq.OrdinalScale(), bq.OrdinalScale()
        colours = [EMPTY, SAFE] + [colour for _, colour in SEVERITY]
        self.colour = bq.ColorScale(min=-1, max=len(SEVERITY), colors=colours)   # each code lands on a colour
        self.mark = bq.GridHeatMap(color=[[0.0, 0.0], [0.0, 0.0]], row=["0", "1"], column=["0", "1"], stroke="#ffffff",
                                   scales={"row": self.rows, "column": self.columns, "color": self.colour},
                                   selected_style={"stroke": "#000000", "stroke-width": "3px"},
                                   unselected_style={"opacity": "1"})
        self.letters = bq.Label(x=["0"], y=["0"], text=[""], scales={"x": self.columns, "y": self.rows},
                                colors=[palette.INK], default_size=11, align="middle", y_offset=4,
                                font_weight="bold")
        self.axes = [bq.Axis(scale=self.rows, side="left", grid_lines="none"),
                     bq.Axis(scale=self.columns, grid_lines="none")]
        axes = self.axes
        self.figure = bq.Figure(marks=[self.mark, self.letters], axes=axes, animation_duration=0,
                                padding_x=0.0, padding_y=0.0,
                                fig_margin={"top": 50, "bottom": 50, "left": 60, "right": 10},
                                layout=widgets.Layout(width="520px", height="520px"))
        self.figure.add_class("labkit-windowmap")
        self.summary = widgets.HTML()
        self.widget = widgets.HBox([widgets.VBox([widgets.HTML(CSS), self.figure, self.summary, widgets.HTML(legend_html()),
                                                  self.messages.widget]), self.lab.widget],
                                   layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.widget.add_class("labkit-windowmap-lab")
        # A click arrives as an element_click message, not through ``selected``: bqplot 0.13.1 cannot send
        # back the selection a browser click sets (its object array fails to serialise), so the kernel
        # owns ``selected`` and only uses it to outline the placement the Lab shows.
        self.mark.on_element_click(guard(self.messages, self._element_clicked))
        self.lab.on_load(guard(self.messages, self._loaded))
        self._draw()

    # -- drawing -------------------------------------------------------------------------

    def _draw(self) -> None:
        scenario = self.lab.scenario
        self.scenario, self.table = scenario, window_map(scenario)
        self.beyond = beyond_placements(scenario, self.table)
        self.handles = handle_words(build(scenario))
        self.axes[0].label = f"{self.handles.read} after VM step"
        self.axes[1].label = f"{self.handles.install_short} after VM step"
        n = len(self.table.index) - 1
        labels = [str(k) for k in range(n + 1)]
        cells = [[self.table.loc[read, install] for install in range(n + 1)] for read in range(n + 1)]
        self.cells = cells
        with self.mark.hold_sync():
            self.rows.domain = labels[::-1]          # an ordinal axis puts its first name at the bottom
            self.columns.domain = labels
            self.mark.color = [[code(cell) for cell in row] for row in cells]     # first: row and column
            self.mark.row, self.mark.column = labels, labels                     # are checked against it
        with self.letters.hold_sync():
            spots = [(str(c), str(r), cell) for r, row in enumerate(cells) for c, cell in enumerate(row) if cell]
            self.letters.x = [x for x, _, _ in spots]
            self.letters.y = [y for _, y, _ in spots]
            self.letters.text = [t for _, _, t in spots]
        self.figure.title = f"window map of {scenario.label()}"
        self._select(*self.placement)
        self.summary.value = f'<div style="font-size:12px;max-width:520px">{html.escape(self.text())}</div>'

    def _select(self, read: int, install: int) -> None:
        n = len(self.cells) - 1
        self.placement = (min(read, n), min(install, n))
        self.mark.selected = [list(self.placement)]

    # -- what the student does -------------------------------------------------------------

    def click(self, read: int, install: int) -> None:
        """What a click on cell (read, install) does: load that placement into the Lab.

        In any mode: a Lab in scheduler mode leaves it, a worst case gives way
        (``Lab.move``), so the figure is the run the cell stands for.
        """
        n = len(self.cells) - 1
        read, install = position("read_after", read, n), position("install_after", install, n)
        if read > install:
            raise ValueError(f"no such placement: the fault cannot install (after VM step {install}) what it "
                             f"has not read yet (after VM step {read})")
        self.messages.clear()
        self.lab.move(read, install)
        self._select(read, install)
        read_words, install_words = self.handles.read, self.handles.install_short
        self.messages.say(f"loaded: {read_words} after VM step {read}, {install_words} after {install} "
                          f"({self.cells[read][install]})")

    def _element_clicked(self, mark, content) -> None:
        data = content.get("data") or {}
        self.click(int(data["rowNum"]), int(data["columnNum"]))

    def _loaded(self, trace) -> None:
        """The Lab drew a new run: follow its configuration (redraw) and its slider (outline that placement)."""
        if self.lab.scenario != self.scenario:
            self._draw()
        if self.lab.mode == "slider":
            self._select(*self.lab.when.index)

    # -- reading it back -------------------------------------------------------------------

    def text(self) -> str:
        cells = [cell for row in self.cells for cell in row if cell]
        broken = Counter(cell for cell in cells if cell != ".")
        counts = ", ".join(f"{letters} {count}" for letters, count in sorted(broken.items()))
        n = len(self.cells) - 1
        return (f"{self.scenario.label()}: rows read after 0–{n}, columns install after 0–{n}; "
                f"{sum(broken.values())} of {len(cells)} placements break something"
                + (f" ({counts})" if counts else "") + (f"; {self.beyond}" if self.beyond else ""))

    def __repr__(self) -> str:
        read, install = self.placement
        return f"WindowMap({self.text()}; selected: read after {read}, install after {install})"


def windowmap(scenario: Scenario | None = None, read_after: int = 0, install_after: int | None = None,
              controls=(), max_states: int | None = EXPLORE_LIMIT, **fields) -> WindowMap:
    """A clickable window map beside a Lab (``controls``: the Lab controls to show, e.g. ``("refmode",)``;
    ``max_states``: its worst case's budget, None for the lab's default)."""
    return WindowMap(scenario, read_after, install_after, controls, max_states, **fields)


__all__ = ["WindowMap", "windowmap", "code", "SEVERITY"]
