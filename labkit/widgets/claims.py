"""The thread's claims as presets: the question first, then the timeline the prose discusses.

Each :class:`Claim` is data: the configuration and slider placement the
chapter argues from, the one or two controls the claim turns on, a question
with answers, and the :class:`Outcome` the question is about.  No answer is
stored anywhere: :meth:`Claim.finding` runs the model (``simulate`` for "this
run", ``explore`` for "any schedule") each time, so a preset stays true if the
model changes, and the tests check that each preset's ``contrast`` (the
change the chapter asks the student to try) flips the finding.

:func:`claim` shows one as the prediction pattern: the question and answer
buttons; a click records the prediction, reveals a :class:`~labkit.widgets.Lab`
on that schedule with only the claim's controls, and says whether the
prediction was right, with the step that shows it.

    >>> from labkit.widgets import claim
    >>> claim("C4")                      # doctest: +SKIP
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable, Optional

from ..core.invariants import invariant
from ..core.kinds import RELEASE
from ..core.messages import shown
from ..core.state import mapped
from ..scenario import Scenario
from ..search.explore import explore
from ..search.schedules import after, interleave
from ..search.trace import simulate
from ..tables.narrate import status, violation_words
from . import palette
from .controls import FIELDS, shown_fields
from .lab import EXPLORE_LIMIT, Lab
from .shown import Shown

NOT_SURE = "not sure: show me"


# -- what a question is about --------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """Something that does or does not happen in a run, read from its trace."""

    words: str                    # "the guest touches a freed page"
    find: Callable                # trace -> the first step (1-based) where it happens, or None
    tell: Callable                # (trace, step) -> that step in words
    invariant: str = ""           # set when the outcome is an invariant breaking: explore can then grade it


def broken(name: str, words: str) -> Outcome:
    """The outcome "``name`` is broken", told by the narration's own words for it."""
    invariant(name)                                            # a clear error for an unknown name
    return Outcome(words, lambda trace: trace.first_violation(name),
                   lambda trace, step: violation_words(trace, name), name)


def _old_page_installed(trace) -> Optional[int]:
    """The step at which the fault maps the page the pte mapped when range_start began, after it began."""
    started = None
    for number, move in enumerate(trace.moves, start=1):
        if move.step.calls == "invalidate_range_start" and started is None:
            started = number
        spte, old = move.after.sptes[0], None if started is None else mapped(trace.states[started - 1].ptes[0])
        if started and trace.states[number - 1].sptes[0] is None and spte is not None and spte.pfn == old:
            return number
    return None


def _tell_install(trace, step: int) -> str:
    model = trace.model
    started = next(n for n, move in enumerate(trace.moves, start=1) if move.step.calls == "invalidate_range_start")
    page = model.page_names[trace.states[step].sptes[0].pfn]
    return (f"{status(trace, step)} — the {model.secondary.entry} maps {page}, the page the pte mapped when "
            f"invalidate_range_start began at step {started}")


REBUILT = Outcome("the fault maps the old page again after invalidate_range_start", _old_page_installed,
                  _tell_install)


@dataclass(frozen=True)
class Finding:
    """What the model says: ``happens`` is True, False, or None when a search was cut short (unknown)."""

    happens: Optional[bool]
    evidence: str


# -- the presets -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """One claim as a preset: where the chapter argues it, and the question asked before anything moves."""

    key: str
    chapter: str                  # the notebook that argues it
    statement: str                # the claim, in one sentence
    source: str                   # who said it, where (Message-ID or commit)
    scenario: Scenario
    read_after: int               # the slider placement the prose discusses
    install_after: int
    controls: tuple               # the Lab controls the claim turns on
    question: str
    answers: tuple                # ((words, predicts that the outcome happens), ...)
    outcome: Outcome
    scope: str = "run"            # "run": this schedule (simulate); "any": some schedule (explore)
    contrast: tuple = ()          # ((field, value), ...): the change to try next, which flips the finding

    def __post_init__(self):
        shown_fields(self.controls)
        if self.scope not in ("run", "any"):
            raise ValueError(f"scope={shown(self.scope)}: 'run' (this schedule) or 'any' (some schedule)")
        if self.scope == "any" and not self.outcome.invariant:
            raise ValueError("scope='any' is graded by explore, which searches for broken invariants only")
        interleave(self.scenario, self.read_after, self.install_after)     # a clear error for a bad placement

    def trace(self):
        """The run the Lab shows first: ``simulate`` of the slider placement."""
        return simulate(self.scenario, interleave(self.scenario, self.read_after, self.install_after))

    def finding(self, **changes) -> Finding:
        """Run the model and say whether the outcome happens (``changes``: Scenario fields or the placement)."""
        placement = {"read_after": self.read_after, "install_after": self.install_after}
        placement.update({k: v for k, v in changes.items() if k in placement})
        scenario = self.scenario.replace(**{k: v for k, v in changes.items() if k not in placement})
        if self.scope == "any":
            return _explored(scenario, self.outcome)
        trace = simulate(scenario, interleave(scenario, placement["read_after"], placement["install_after"]))
        step = self.outcome.find(trace)
        if step is not None:
            return Finding(True, self.outcome.tell(trace, step))
        broke = ", ".join(invariant(name).words for name in trace.violated()) or "nothing"
        return Finding(False, f"not in this run ({len(trace.moves)} steps; it breaks {broke})")

    def grade(self, predicted: Optional[bool], labels=None, found: Optional[Finding] = None) -> str:
        """The verdict line for a prediction (None: the student chose not to predict).

        ``labels`` names the controls as the Lab shows them (``{"refmode": "refcount"}``); ``found`` is
        :meth:`finding`, when the caller has it already.
        """
        found = found or self.finding()
        if found.happens is None:
            return f"The model cannot tell: {found.evidence}."
        head = "No prediction." if predicted is None else ("Right." if predicted == found.happens
                                                           else "Not this time.")
        said = "yes" if found.happens else "no"
        line = f"{head} The model says {said}: {found.evidence}."
        if self.contrast:
            line += f" Now try: {self.contrast_words(labels)}."
        return line

    def contrast_words(self, labels=None) -> str:
        changes, labels = dict(self.contrast), labels or {}
        words = [f"set {labels.get(field, field)} to {value}" for field, value in self.contrast
                 if field not in ("read_after", "install_after")]
        if "read_after" in changes or "install_after" in changes:
            read = changes.get("read_after", self.read_after)
            install = changes.get("install_after", self.install_after)
            words.append(f"move the schedule slider to read after {read}, install after {install}")
        return " and ".join(words)

    def placement_words(self) -> str:
        words = (f"{self.scenario.label()}, the fault reads the pte after {self.read_after} VM steps and "
                 f"installs after {self.install_after}")
        if self.scope == "any":
            words += "; once answered, the explorer's shortest counterexample if there is one"
        return words

    def evidence_trace(self):
        """The run that shows the finding: the placement, or for "any schedule" the explorer's shortest
        counterexample for the outcome when there is one."""
        if self.scope == "any":
            schedule = explore(self.scenario, max_states=EXPLORE_LIMIT).shortest[self.outcome.invariant]
            if schedule:
                return simulate(self.scenario, schedule)
        return self.trace()

    def picture(self):
        """The preset's key figure as a static picture (for GitHub and nbviewer, where no kernel runs)."""
        from .picture import story, timeline
        if self.scope == "any":
            trace = self.evidence_trace()
            return timeline(trace, f"{self.scenario.label()}: the explorer's shortest schedule "
                                   f"({len(trace.moves)} steps)")
        return story(self.scenario, self.read_after, self.install_after)


def _explored(scenario: Scenario, outcome: Outcome) -> Finding:
    found = explore(scenario, max_states=EXPLORE_LIMIT)
    name = outcome.invariant
    if found.violated[name]:
        shortest = found.shortest[name]
        return Finding(True, f"the explorer's shortest schedule ({len(shortest)} steps): "
                             f"{violation_words(simulate(scenario, shortest), name)}")
    if not found.complete:
        return Finding(None, f"the search of {scenario.label()} stopped after {found.states} states, "
                             "so nothing is proven")
    return Finding(False, f"no schedule of {scenario.label()} does ({found.states} states explored)")


YES_NO = (("yes", True), ("no", False))
FREED_PAGE_TOUCHED = broken("use_after_free", "the guest touches a freed page")
_ARCANGELI = "Andrea Arcangeli, 31 Jan 2008, <20080131105241.GH7185@v2.random>"

#: The configurations the presets start from (zap's caller is the model's default, MADV_DONTNEED: the
#: fault may walk the pte while it runs, as under truncate).
_ZAP = Scenario(op="zap", scheme="range", refmode="off")
_BLOCK = Scenario(op="zap", scheme="range_block", refmode="off")
_GUP = Scenario(op="zap", scheme="range_seq", refmode="gup_release")
_RECLAIM = Scenario(op="rmap", scheme="page", refmode="off", secondary="xpmem", era="2.6.27")
_COW = Scenario(op="cow2", scheme="end_only", refmode="off", secondary="iommu", era="2017")
_STARTED = after(_ZAP, hook="invalidate_range_start")

CLAIMS = {claim.key: claim for claim in (
    Claim("C3", "03", "Secondary entries keep being rebuilt after range_start, until the pte is cleared.",
          _ARCANGELI + ': "sptes will build themself the whole time until the pte_clear is called on the main '
          'linux pte"',
          _ZAP, _STARTED, _STARTED, (),
          "invalidate_range_start has already zapped the sptes when the secondary fault reads the pte. Will the "
          "fault still find page P and install an spte for it?",
          (("yes, it installs one", True), ("no, range_start stopped it", False)), REBUILT,
          contrast=(("read_after", _STARTED + 1), ("install_after", _STARTED + 1))),
    Claim("C4", "03", "With range_start/end called outside the locks and range_end after the page is freed, "
          "the page reference held by the spte keeps the guest off freed memory.",
          _ARCANGELI + ': "The increased page count is _mandatory_"',
          _ZAP, _STARTED, after(_ZAP, kind=RELEASE), ("refmode",),
          "The fault reads P after invalidate_range_start and installs its spte after the zap freed P, before "
          "range_end. With no page reference (refcount off), will the guest touch a freed page?",
          YES_NO, FREED_PAGE_TOUCHED, contrast=(("refmode", "pin"),)),
    Claim("C5", "04", "Without the reference, range_start must stop new entries until range_end: the fault "
          "path needs its own synchronisation.",
          _ARCANGELI + ', answering Christoph Lameter\'s proposal of 30 Jan 2008: "We don\'t want to clutter the '
          'VM fast paths with additional locks to stop the kvm pagefault while the VM is in the '
          '_range_start/end critical section like xpmem has to do be safe"',
          _BLOCK, 0, after(_BLOCK, hook="invalidate_range_end"), ("scheme",),
          "range_block refuses new sptes while a range is active; no page reference is taken. The fault read "
          "the pte before the zap began and installs after range_end. Will the guest touch a freed page?",
          YES_NO, FREED_PAGE_TOUCHED, contrast=(("scheme", "range_seq"),)),
    Claim("C6", "02", "invalidate_page is still needed for rmap: try_to_unmap_one holds spinlocks, so its "
          "callback cannot sleep and cannot become a range called outside the locks.",
          _ARCANGELI + ': "I need invalidate_page anyway for rmap.c which can\'t be provided as an '
          'invalidate_range and it can\'t sleep either"',
          _RECLAIM, 0, 0, ("era",),
          "Reclaim calls invalidate_page from try_to_unmap_one, with the PTL and the anon_vma lock held "
          "(2.6.27). XPMEM's callbacks must sleep. Will its callback be called in atomic context there?",
          YES_NO, broken("sleep_in_atomic", "a sleeping callback is called in atomic context"),
          contrast=(("era", "2012"),)),
    Claim("gup_release", "07", "KVM could stop holding page references in 2009 because mmu_notifier_seq "
          "already made its fault path refuse an spte whose pte read raced with an invalidation.",
          "Izik Eidus, commit acb66dd051d0, <1238457604-7637-2-git-send-email-ieidus@redhat.com>",
          _GUP, _STARTED, after(_GUP, kind=RELEASE), ("scheme",),
          "From 2009 KVM drops the page reference right after installing the spte (gup_release). With its "
          "mmu_notifier_seq check (range_seq), can any schedule let the guest touch a freed page?",
          YES_NO, FREED_PAGE_TOUCHED, scope="any", contrast=(("scheme", "range"),)),
    Claim("COW", "07", "A device that walks the CPU page table must be told under the PTL when a COW re-points "
          "the pte: told only at range_end, it can see a later store before an earlier one.",
          "Documentation/vm/mmu_notifier.rst, torvalds/linux at 3c09ec59cdea (Jérôme Glisse)",
          _COW, 0, 0, ("scheme",),
          "Two COW faults re-point the ptes of addresses A and B; the CPU stores to A, then to B. The device's "
          "IOMMU is told only at range_end (end_only). Can the device see B's new value and then A's old one?",
          YES_NO, broken("store_order", "the device sees a newer store before an older one"), scope="any",
          contrast=(("scheme", "iotlb"),)),
)}


# -- the widget ------------------------------------------------------------------------------

class Prediction(Shown):
    """The question with answer buttons; after a click, the verdict and a Lab on the claim's schedule."""

    def __init__(self, preset: Claim):
        import ipywidgets as widgets

        from .guard import Messages, guard

        self.claim, self.choice, self.verdict_text = preset, None, ""
        self.messages = Messages()
        self.lab = Lab(preset.scenario, read_after=preset.read_after, install_after=preset.install_after,
                       controls=preset.controls)
        # the Lab joins the page only once answered: a figure drawn while hidden has no size (and bqplot
        # logs negative widths), and nothing of the answer shows before the prediction
        self.stage = widgets.VBox([])
        self.header = widgets.HTML(
            f'<div style="font-size:13px"><b>Claim {html.escape(preset.key)}</b> (notebook {preset.chapter}): '
            f"{html.escape(preset.statement)}<br><i style='opacity:0.8'>{html.escape(preset.source)}</i></div>")
        self.question = widgets.HTML(f'<div style="font-size:14px;font-weight:bold;margin:6px 0">Predict: '
                                     f"{html.escape(preset.question)}</div>")
        words = [w for w, _ in preset.answers] + [NOT_SURE]
        self.buttons = [widgets.Button(description=w, layout=widgets.Layout(width="auto")) for w in words]
        for button, word in zip(self.buttons, words):
            button.on_click(guard(self.messages, lambda _, word=word: self.answer(word)))
        self.verdict = widgets.HTML()
        self.widget = widgets.VBox([self.header, self.question, widgets.HBox(self.buttons), self.verdict,
                                    self.messages.widget, self.stage])
        self.widget.add_class("labkit-claim")

    def answer(self, choice: str) -> str:
        """Record ``choice`` (an answer's words, or ``"not sure: show me"``), reveal the Lab, grade it."""
        known = [w for w, _ in self.claim.answers] + [NOT_SURE]
        if choice not in known:
            raise ValueError(f"{shown(choice)} is not an answer here; choose from {', '.join(map(repr, known))}")
        self.choice = choice
        predicted = dict(self.claim.answers).get(choice)
        labels = {name: getattr(self.lab.controls, name).description for name in FIELDS}
        found = self.claim.finding()
        self.verdict_text = self.claim.grade(predicted, labels, found)
        if self.claim.scope == "any" and found.happens:
            self.lab.worst_case()         # the timeline shows the explorer's counterexample, not a safe run
        for button in self.buttons:
            button.disabled = True
            button.button_style = "info" if button.description == choice else ""
        right = self.verdict_text.startswith("Right.")
        colour = palette.GREEN if right else (palette.VIOLATION if predicted is not None else palette.NEUTRAL)
        self.verdict.value = (f'<div class="labkit-claim-verdict" style="border-left:6px solid {colour};'
                              f'padding:3px 8px">{html.escape(self.verdict_text)}</div>')
        self.stage.children = [self.lab.widget]
        return self.verdict_text

    def picture(self):
        return self.claim.picture()

    def __repr__(self) -> str:
        c = self.claim
        shown = ", ".join(c.controls) or "only the schedule slider"
        lines = [f"Claim {c.key} (notebook {c.chapter}): {c.statement}",
                 f"Predict: {c.question}",
                 "answers: " + " | ".join([w for w, _ in c.answers] + [NOT_SURE]),
                 f"timeline: {c.placement_words()}; controls shown: {shown}"]
        if self.choice is None:
            lines.append("(no prediction yet: the timeline appears once you answer)")
        else:
            lines.append(f"you answered: {self.choice}. {self.verdict_text}")
        return "\n".join(lines)


def claim(preset) -> Prediction:
    """The prediction widget for a preset (``"C3"``, ``"C4"``, ``"C5"``, ``"C6"``, ``"gup_release"``, ``"COW"``)
    or for a :class:`Claim` of your own."""
    if isinstance(preset, Claim):
        return Prediction(preset)
    if not isinstance(preset, str) or preset not in CLAIMS:
        raise ValueError(f"no claim {shown(preset)}; the presets are {', '.join(CLAIMS)}")
    return Prediction(CLAIMS[preset])


__all__ = ["Claim", "CLAIMS", "Outcome", "Finding", "REBUILT", "after", "Prediction", "broken", "claim"]
