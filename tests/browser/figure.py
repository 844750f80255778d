"""What a drawn timeline looks like from inside the page: its texts' boxes, overlaps, clipping, the veil."""
from __future__ import annotations

#: Every visible, non-empty text of each timeline figure, with its box in page pixels and the figure's box.
TEXTS = """(root) => Array.from((root || document).querySelectorAll('.labkit-timeline')).map(fig => {
  const svg = fig.querySelector('svg.svg-figure');
  const box = svg.getBoundingClientRect();
  const texts = Array.from(svg.querySelectorAll('text')).filter(t => {
    if (!t.textContent.trim()) return false;
    for (let e = t; e && e !== svg; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === 'none' || style.visibility === 'hidden' || parseFloat(style.opacity) === 0) return false;
    }
    const r = t.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }).map(t => { const r = t.getBoundingClientRect();
    return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            mark: !!t.closest('.mark')}; });
  const plot = svg.querySelector('.plotarea_events').getBoundingClientRect();
  return {box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
          plot: {left: plot.left, right: plot.right, top: plot.top, bottom: plot.bottom}, texts};
})"""


def overlaps(figure: dict, slack: float = 0.5) -> list:
    """Pairs of texts whose boxes intersect (by more than ``slack`` pixels each way)."""
    texts = figure["texts"]
    found = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack
                    and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack):
                found.append((a["text"], b["text"]))
    return found


def clipped(figure: dict, slack: float = 0.5) -> list:
    """Texts that stick out of their figure's box, or (a mark's words: bqplot clips marks) out of the plot."""
    def outside(t, box):
        return (t["left"] < box["left"] - slack or t["right"] > box["right"] + slack
                or t["top"] < box["top"] - slack or t["bottom"] > box["bottom"] + slack)
    return [t["text"] for t in figure["texts"]
            if outside(t, figure["box"]) or (t["mark"] and outside(t, figure["plot"]))]
