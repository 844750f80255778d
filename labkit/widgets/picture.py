"""Pictures without a kernel: the timeline and the two page tables as static, deterministic SVG.

A live :class:`~labkit.widgets.Lab` is a bqplot widget: on GitHub or
nbviewer, where no kernel runs, it shows as ``Lab(...)`` text.  A
:class:`Picture` is plain SVG text that any notebook renderer displays, drawn
from the same data the live timeline draws (:func:`labkit.widgets.lanes.drawing`)
with the same colours and legend words (:mod:`labkit.widgets.palette`).  The
SVG is built by string formatting only (fixed number formats, no ids, no
clock), so the same trace gives the same bytes and nbval can compare it.

Both figures sit on a white card, so they read the same on JupyterLab's light
and dark themes; text on the card is dark grey, text on bars black.

    >>> from labkit.widgets import picture
    >>> picture.story(Scenario(op="zap", scheme="range", refmode="off"), 3, 7)   # doctest: +SKIP
    >>> picture.two_page_tables(refmode="pin")                                  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import html
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.engine import alone, run
from ..core.invariants import invariant
from ..core.messages import shown
from ..core.state import mapped
from ..scenario import Scenario, build
from ..search.schedules import interleave
from ..search.trace import simulate
from ..tables.narrate import PAGE_WORDS
from . import palette
from .lanes import drawing

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CARD, INK_ON_CARD, FAINT = "#ffffff", "#333333", "#e6e6e6"
#: Rough advance of one character, in px per px of font size: enough to keep labels apart.
CHAR_WIDTH = 0.62

WIDTH, LEFT, RIGHT = 960, 104, 16
LANE_HEIGHT, BAR_HEIGHT, DOT_RADIUS = 34, 16, 5.5
HEADER, ALARM_ROW = 52, 17


@dataclass(frozen=True)
class Picture:
    """An SVG figure and a one-line text form (what ``text/plain`` shows and nbval compares)."""

    svg: str
    text: str

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return self.text

    def save(self, path, overwrite: bool = False) -> Path:
        """Write the SVG to ``path`` (a docs build or a slide can use the file); return the path.

        The file is written whole or not at all: the SVG goes to a new file
        in the same folder, which is then renamed to ``path``, so a full disk
        or a size limit leaves whatever was at ``path`` as it was.  An
        existing ``path`` (a symlink too, even a dangling one) is replaced
        only with ``overwrite=True``, and then the name itself is replaced:
        a symlink's target is never written through.
        """
        return write_whole(Path(path), self.svg.encode("utf-8"), overwrite)


def write_whole(path: Path, data: bytes, overwrite: bool) -> Path:
    """Write ``data`` to a new file next to ``path``, then move it to ``path`` in one rename (see Picture.save)."""
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{shown(str(path))} exists: pass overwrite=True to replace it")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)     # what open() would have given; mkstemp makes it 0600
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def _link_new(temporary: str, path: Path) -> None:
    """Give the written file the name ``path`` only if nothing has taken it meanwhile (link fails if it exists)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(f"{shown(str(path))} exists: pass overwrite=True to replace it") from None
    except OSError:                       # a file system without hard links: check, then rename
        if os.path.lexists(path):
            raise FileExistsError(f"{shown(str(path))} exists: pass overwrite=True to replace it") from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


# -- SVG text, formatted the same way every time -------------------------------------------

def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x, y, words, size=11, fill=INK_ON_CARD, anchor="start", weight="normal", rotate=None) -> str:
    turn = f' transform="rotate({rotate} {_n(x)} {_n(y)})"' if rotate is not None else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" '
            f'font-weight="{weight}"{turn}>{html.escape(words)}</text>')


def _rect(x, y, w, h, fill, opacity=None, stroke=None, tip=None, radius=0) -> str:
    extra = f' fill-opacity="{opacity}"' if opacity is not None else ""
    extra += f' stroke="{stroke}"' if stroke else ""
    extra += f' rx="{radius}"' if radius else ""
    body = f"<title>{html.escape(tip)}</title>" if tip else ""
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"{extra}>'
            f'{body}</rect>')


def _svg(width: int, height: int, title: str, body: list) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" role="img" style="max-width:100%;height:auto">',
        f"<title>{html.escape(title)}</title>",
        _rect(0.5, 0.5, width - 1, height - 1, CARD, stroke="#cccccc", radius=6),
        *body, "</svg>", ""])


def text_width(words: str, size: float) -> float:
    """How wide ``words`` will roughly be at ``size`` px (a deliberate overestimate, to keep labels apart)."""
    return len(words) * size * CHAR_WIDTH


def wrap(words: str, size: float, width: float) -> list:
    """``words`` broken into lines no wider than ``width`` px at ``size``."""
    lines, line = [], ""
    for word in words.split():
        candidate = f"{line} {word}".strip()
        if line and text_width(candidate, size) > width:
            lines.append(line)
            candidate = word
        line = candidate
    return lines + ([line] if line else [])


# -- the timeline --------------------------------------------------------------------------

def verdict_words(trace) -> str:
    """What the run broke and where, or that it was safe: the picture's second line."""
    broken = trace.violated()
    if broken:
        return "broken: " + ", ".join(f"{invariant(name).words} at step {trace.first_violation(name)}"
                                      for name in broken)
    return "safe: no invariant broken" + ("" if trace.finished else " so far (not every thread has finished)")


def alarm_rows(alarms: list, px, lo: float, hi: float) -> list:
    """Place each (x, words) alarm on the first row where it overlaps no other: [(row, centre, words)]."""
    placed, ends = [], []
    for x, words in alarms:
        half = text_width(words, 13) / 2
        centre = min(max(px(x), lo + half), hi - half)
        row = next((r for r, end in enumerate(ends) if end < centre - half - 8), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = centre + half
        placed.append((row, centre, words))
    return placed


def timeline(trace, title: str | None = None) -> Picture:
    """The timeline of ``trace`` as a static picture: every lane named, the range window, the pte clear, alarms."""
    d = drawing(trace)
    span = d.steps + 1.5                                   # x from -0.5 to steps + 1, as the live figure
    left = max(LEFT, 20 + max(text_width(lane, 12) for lane in d.lanes))     # every lane name fits
    plot_width = WIDTH - left - RIGHT

    def px(x: float) -> float:
        return left + (x + 0.5) * plot_width / span

    alarms = {}
    for x, name in d.violations:
        alarms.setdefault(x, []).append(invariant(name).title)
    placed = alarm_rows([(x, " + ".join(names)) for x, names in sorted(alarms.items())], px, left, WIDTH - RIGHT)
    rows = max((row for row, _, _ in placed), default=-1) + 1
    top = HEADER + rows * ALARM_ROW + 8
    lane_y = {lane: top + LANE_HEIGHT * (i + 0.5) for i, lane in enumerate(d.lanes)}
    bottom = top + LANE_HEIGHT * len(d.lanes)

    heading = title or trace.scenario.label()
    body = [_text(12, 20, heading, size=14, weight="bold"),
            _text(12, 38, verdict_words(trace), size=12,
                  fill=palette.VIOLATION if trace.violated() else INK_ON_CARD, weight="bold")]
    body += [_text(left - 8, y + 4, lane, size=12, anchor="end") for lane, y in lane_y.items()]
    body += [f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}" stroke="{FAINT}"/>'
             for y in lane_y.values()]
    body += _bands(d, px, top, bottom)
    body += _bars(d, px, lane_y, plot_width / span)
    body += _marks(d, px, lane_y)
    body += [_text(centre, HEADER + row * ALARM_ROW + 12, words, size=13, fill=palette.VIOLATION,
                   anchor="middle", weight="bold") for row, centre, words in placed]
    body += _axis(d.steps, px, left, bottom, plot_width / span)
    legend, height = _legend(bottom + 50)
    body += legend
    text = (f"Picture of the timeline: {trace.scenario.label()}, {d.steps} steps; lanes "
            f"{', '.join(d.lanes)}; {verdict_words(trace)}")
    return Picture(_svg(WIDTH, height, f"{heading}: {verdict_words(trace)}", body), text)


def _bands(d, px, top, bottom) -> list:
    out = [_rect(px(x0 - 0.45), top, px(x1 + 0.45) - px(x0 - 0.45), bottom - top, palette.RANGE_WINDOW, 0.22,
                 tip=f"steps {x0}–{x1}: invalidate_range_start … invalidate_range_end") for x0, x1 in d.windows]
    for x in sorted({x for x, _ in d.violations}):
        out.append(_rect(px(x - 0.45), top, px(x + 0.45) - px(x - 0.45), bottom - top, palette.VIOLATION, 0.35,
                         tip=f"step {x}: " + ", ".join(invariant(n).words for s, n in d.violations if s == x)))
    return out


def _bars(d, px, lane_y, px_per_step) -> list:
    out = []
    for (x0, x1), (lane, _), colour, tip in zip(d.bar_x, d.bar_y, d.bar_colours, d.bar_tips):
        out.append(_rect(px(x0), lane_y[lane] - BAR_HEIGHT / 2, px(x1) - px(x0), BAR_HEIGHT, colour, tip=tip))
    for x, lane, words, span in d.bar_text:
        if len(words) * 6.6 < span * px_per_step - 6:       # the live figure's rule: only words that fit
            out.append(_text(px(x - span / 2) + 3, lane_y[lane] + 4, words, fill=palette.INK, weight="bold"))
    return out


def _marks(d, px, lane_y) -> list:
    out = []
    for x, lane, role, tip, words in zip(d.dot_x, d.dot_y, d.dot_roles, d.dot_tips, d.dot_text):
        cx, cy = px(x), lane_y[lane]
        out.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{DOT_RADIUS}" fill="{palette.ROLES[role]}" '
                   f'stroke="#333333"><title>{html.escape(tip)}</title></circle>')
        out.append(_text(cx - 4, cy - 9, words, size=10, fill="#555555", rotate=-28))
    for x, lane, hook in d.calls:
        cx, cy = px(x), lane_y[lane]
        out.append(f'<path d="M{_n(cx - 7)} {_n(cy - 6)} L{_n(cx + 7)} {_n(cy - 6)} L{_n(cx)} {_n(cy + 6)} Z" '
                   f'fill="{palette.YELLOW}" stroke="#333333"><title>step {x}: the VM operation calls '
                   f'{html.escape(hook)}</title></path>')
        out.append(_text(cx, cy - 11, hook.replace("invalidate_", ""), size=10, fill="#555555", anchor="middle"))
    for x, lane in d.clears:
        cx, cy = px(x), lane_y[lane]
        out.append(f'<path d="M{_n(cx - 2.5)} {_n(cy - 8)} h5 v5.5 h5.5 v5 h-5.5 v5.5 h-5 v-5.5 h-5.5 v-5 '
                   f'h5.5 Z" fill="{palette.BLUE}" stroke="#ffffff"><title>step {x}: the pte is cleared'
                   f"</title></path>")
    return out


def _axis(steps, px, left, bottom, px_per_step) -> list:
    every = next(k for k in (1, 2, 5, 10, 20, 50, 100) if k * px_per_step >= 16)
    out = [f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{WIDTH - RIGHT}" y2="{_n(bottom)}" stroke="#999999"/>']
    for k in range(0, steps + 1, every):
        out.append(f'<line x1="{_n(px(k))}" y1="{_n(bottom)}" x2="{_n(px(k))}" y2="{_n(bottom + 4)}" '
                   'stroke="#999999"/>')
        out.append(_text(px(k), bottom + 16, str(k), size=10, anchor="middle"))
    out.append(_text(left + (WIDTH - left - RIGHT) / 2, bottom + 32, "step", size=11, anchor="middle"))
    return out


def _legend(top: float) -> tuple:
    """The live timeline's legend words, laid out in rows; the cursor's entry is left out (a picture has none)."""
    out, x, y = [], 12.0, top
    for colour, shape, words in palette.LEGEND:
        if colour == palette.CURRENT:
            continue
        width = 18 + text_width(words, 11) + 14
        if x + width > WIDTH - 12:
            x, y = 12.0, y + 18
        if shape == "dot":
            out.append(f'<circle cx="{_n(x + 6)}" cy="{_n(y - 4)}" r="5" fill="{colour}" stroke="#333333"/>')
        else:
            opacity = 0.35 if shape == "band" else None
            out.append(_rect(x, y - 10, 14, 12 if shape == "band" else 8, colour, opacity, stroke="#8c8c8c"))
        out.append(_text(x + 18, y, words))
        x += width
    return out, int(y + 14)


def story(scenario: Scenario, read_after: int, install_after: int) -> Picture:
    """The picture of the slider placement the prose discusses (the fault reads after ``read_after`` VM steps)."""
    trace = simulate(scenario, interleave(scenario, read_after, install_after))
    title = (f"{scenario.label()}: the fault reads the pte after {read_after} VM steps, "
             f"installs after {install_after}")
    return timeline(trace, title)


# -- the two page tables -------------------------------------------------------------------

def after_one_fault(scenario: Scenario):
    """The model's state once the secondary fault has run alone: the pte and the secondary entry both map P."""
    model = build(scenario)
    moves = run(model, alone(model.index("fault")))
    return model, moves[-1].after


def holders(model, state, pfn: int = 0) -> list:
    """Who holds page ``pfn``'s references, from the state: the ptes, the pinned entries, and the rest."""
    page = state.pages[pfn]
    mapping = sum(1 for pte in state.ptes if mapped(pte) == pfn)
    pinned = sum(1 for s in state.sptes if s is not None and s.pfn == pfn and s.pinned)
    lines = [f"{mapping} from the pte (the process maps it)"] if mapping else []
    if pinned:
        lines.append(f"{pinned} from the {model.secondary.entry} (get_page in get_user_pages, kept)")
    other = page.refcount - mapping - pinned
    if other:
        lines.append(f"{other} other (page cache, reclaim's isolation)")
    return lines


def _box(x, y, w, h, heading, lines) -> list:
    out = [_rect(x, y, w, h, "#fafafa", stroke="#999999", radius=5), _text(x + 10, y + 20, heading, 13,
                                                                          weight="bold")]
    out += [_text(x + 10, y + 38 + 15 * i, line, 11) for i, line in enumerate(lines)]
    return out


def _arrow(x0, y0, x1, y1, colour, dashed=False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x1)}" y2="{_n(y1)}" stroke="{colour}" stroke-width="3"'
            f'{dash} marker-end="url(#labkit-arrow-{colour.lstrip("#")})"/>')


def _arrowheads(colours) -> str:
    heads = "".join(f'<marker id="labkit-arrow-{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" '
                    f'markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 Z" '
                    f'fill="{c}"/></marker>' for c in colours)
    return f"<defs>{heads}</defs>"


def two_page_tables(refmode: str = "pin", secondary: str = "kvm", **fields) -> Picture:
    """Notebook 00's diagram: the Linux pte and the secondary entry both map struct page P, with its refcount.

    Nothing is drawn by hand: the state is the model's after the secondary
    fault ran alone (``refmode`` decides whether its entry keeps a reference),
    and the hooks on the arrow are the scheme's (``fields`` go to Scenario).
    """
    scheme = fields.pop("scheme", "gru" if secondary == "gru" else "range")
    scenario = Scenario(**{"op": "zap", "scheme": scheme, "refmode": refmode, "secondary": secondary, **fields})
    model, state = after_one_fault(scenario)
    driver, spte = model.secondary, state.sptes[0]
    pfn = mapped(state.ptes[0])
    page, name = state.pages[pfn], model.page_names[pfn]
    width, height = 780, 410
    body = [_arrowheads((palette.PTE, palette.SPTE, "#555555")),
            _text(14, 24, "Two page tables, one page", 15, weight="bold"),
            _text(14, 42, f"the model's state after one secondary fault ({scenario.label()})", 11)]
    body += _box(14, 60, 300, 150, "Linux page table (primary MMU)",
                 ["the CPU walks it; Linux changes it", "(munmap, reclaim, copy-on-write)"])
    body += _box(466, 60, 300, 150, f"secondary MMU: {driver.name}", wrap(driver.refill, 11, 280)[:3])
    body.append(_rect(30, 164, 190, 26, palette.PTE, radius=3))
    body.append(_text(40, 182, f"pte[0] → {name}", 12, fill=palette.INK, weight="bold"))
    body.append(_rect(482, 164, 268, 26, palette.SPTE, radius=3))
    held = " (holds a reference)" if spte.pinned else " (no reference)"
    body.append(_text(492, 182, f"{driver.entry}[0] → {model.page_names[spte.pfn]}{held}", 12, fill=palette.INK,
                      weight="bold"))
    body.append(_arrow(320, 100, 460, 100, "#555555", dashed=True))
    body.append(_text(390, 90, "mmu_notifier", 11, anchor="middle", weight="bold"))
    body += [_text(390, 118 + 13 * i, line, 10, anchor="middle")
             for i, line in enumerate(wrap(", ".join(model.scheme.hooks()), 10, 140))]
    lines = [f"refcount (page->_count) = {page.refcount}", *holders(model, state, pfn)]
    body.append(_rect(230, 270, 320, 30 + 16 * len(lines), "#fafafa", stroke="#999999", radius=5))
    body.append(_rect(230, 270, 320, 22, palette.PAGE["in_use"], radius=5))
    body.append(_text(240, 286, f"struct page {name} — {PAGE_WORDS[page.state]}", 13, fill="#ffffff",
                      weight="bold"))
    body += [_text(240, 312 + 16 * i, line, 11) for i, line in enumerate(lines)]
    body.append(_arrow(125, 192, 300, 266, palette.PTE))
    body.append(_arrow(615, 192, 480, 266, palette.SPTE, dashed=not spte.pinned))
    moral = ("If Linux frees P while the secondary entry still maps it, the guest or device uses freed memory: "
             "a page reference or the notifier's callbacks must prevent it.")
    body += [_text(14, height - 28 + 15 * i, line, 11) for i, line in enumerate(wrap(moral, 11, width - 28))]
    refs = "holds a reference" if spte.pinned else "holds no reference"
    text = (f"Picture of the two page tables after one secondary fault ({scenario.label()}): pte[0] -> {name}, "
            f"{driver.entry}[0] -> {name} ({refs}), page {name} refcount {page.refcount}")
    return Picture(_svg(width, height, "Two page tables, one page", body), text)


__all__ = ["Picture", "timeline", "story", "two_page_tables", "after_one_fault", "holders"]
