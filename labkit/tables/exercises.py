"""Predict-then-run exercises, graded by running the model (notebook 08).

    >>> import labkit.tables.exercises as ex
    >>> sheet = ex.worksheet(seed=2008)      # the same seed gives a class the same problems
    >>> print(sheet[0].question)             # doctest: +SKIP
    >>> sheet[0].check("stale")              # doctest: +SKIP

Four kinds of problem:

``verdict``  which invariants can *some* schedule of this configuration break?
             (graded by ``explore``)
``story``    this one schedule (fault reads after r VM steps, installs after i):
             what does it break?  (graded by ``simulate``)
``fix``      which notifier scheme makes this operation and refmode safe?
             (your scheme is explored; any safe one is right)
``break``    write (or click, in the Lab's scheduler mode) a schedule that breaks
             the named invariant  (graded by ``simulate``)

``check`` returns a verdict string that depends only on the answer and the
model, so nbval can compare it; ``grade`` returns the same line with whether
the answer was right, for views that mark it.  Answers stay hidden unless
``INSTRUCTOR`` is True (or ``answer(reveal=True)``); ``answer_key(seed)`` is
the printed key (notebooks/answer_key_2008.md), with the model's evidence.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

from ..core.checks import whole
from ..core.invariants import INVARIANTS, TABLE
from ..core.messages import shown
from ..kernel.fault import REFMODES
from ..kernel.schemes import BUILTIN_SCHEMES
from ..scenario import Scenario, build
from ..search.explore import explore
from ..search.schedules import interleave, vm_length
from ..search.trace import simulate
from ..search.verdicts import MATRIX_OPS
from .narrate import violation_words

#: Set to True to make ``Problem.answer()`` reveal answers (the instructor's copy).
INSTRUCTOR = False

FIX_SCHEMES = ("page", "page_seq", "range", "range_block", "range_seq")
#: (op, refmode) pairs where some but not all of FIX_SCHEMES are safe (tests check it).
_FIX_POOL = (("zap", "off"), ("zap", "pin"), ("zap", "gup_release"), ("rmap", "off"), ("rmap", "pin"),
             ("rmap", "gup_release"))
#: (scenario fields, invariant) a schedule can break (tests check it).
_BREAK_POOL = (
    (dict(op="zap", scheme="range", refmode="off"), "use_after_free"),
    (dict(op="zap", scheme="range_block", refmode="off"), "use_after_free"),
    (dict(op="zap", scheme="range", refmode="pin"), "stale"),
    (dict(op="rmap", scheme="page", refmode="gup_release"), "use_after_free"),
    (dict(op="cow", scheme="page", refmode="off", era="2012"), "stale_read"),
    (dict(op="rmap", scheme="range_block", refmode="off"), "use_after_free"),
)
_WORDS = {**{record.name: record.name for record in TABLE}, **{record.letter.lower(): record.name for record in TABLE},
          **{record.words: record.name for record in TABLE},
          "uaf": "use_after_free", "sleep in atomic": "sleep_in_atomic"}
_NOTHING = ("", "nothing", "none", "safe", "no", "-")


def parse_invariants(answer) -> frozenset:
    """Accept ``"stale"``, ``"use_after_free, stale"``, ``["U", "S"]``, ``"nothing"``; raise ValueError otherwise."""
    items = answer.replace(";", ",").split(",") if isinstance(answer, str) else list(answer)
    found = set()
    for item in items:
        word = str(item).strip().lower()
        if word in _NOTHING:
            continue
        if word not in _WORDS:
            raise ValueError(f"{shown(item)} is not an invariant; answer with names from: {', '.join(INVARIANTS)} "
                             "(or 'nothing')")
        found.add(_WORDS[word])
    return frozenset(found)


def _names(found) -> str:
    return ", ".join(name for name in INVARIANTS if name in found) or "nothing"


@dataclass(frozen=True)
class Grade:
    """What ``Problem.grade`` decided: ``right`` is True or False, or None when the answer could not be graded."""

    right: Optional[bool]
    line: str


@dataclass(frozen=True)
class Solution:
    """The model's answer to one problem, and the evidence that decides it: one entry of the answer key."""

    number: int
    answer: str               # invariant names, the safe schemes, or a shortest schedule
    evidence: tuple           # lines from the explorer or the one run: why that is the answer
    brief: str = ""           # the answer in a few words, for a table (the answer itself unless it is long)

    def __post_init__(self):
        if not self.brief:
            object.__setattr__(self, "brief", self.answer)


@dataclass(frozen=True)
class Problem:
    """One exercise: a question, and a ``check`` that runs the model on your answer."""

    number: int
    kind: str                 # verdict, story, fix, break
    scenario: Scenario
    read_after: int = 0
    install_after: int = 0
    target: str = ""          # break: the invariant to break

    @property
    def question(self) -> str:
        s = self.scenario
        where = f"op={s.op!r}, scheme={s.scheme!r}, refmode={s.refmode!r}, secondary={s.secondary!r}, era={s.era!r}"
        if self.kind == "verdict":
            return (f"{self.number}. Predict: which invariants can SOME schedule break with {where}? "
                    f"Answer with names from {', '.join(INVARIANTS)}, or 'nothing'.")
        if self.kind == "story":
            return (f"{self.number}. Predict: with {where}, the fault reads the pte after {self.read_after} "
                    f"of the VM's {vm_length(s)} steps and installs after {self.install_after}; the guest "
                    "accesses once the fault is done. What does this one run break? (names, or 'nothing')")
        if self.kind == "fix":
            return (f"{self.number}. Fix it: op={s.op!r} with refmode={s.refmode!r} on kvm. Which scheme of "
                    f"{', '.join(FIX_SCHEMES)} makes every schedule safe? (one name; any safe one is right)")
        return (f"{self.number}. Break it: with {where}, write a schedule (thread names: "
                f"{', '.join(self.threads)}) that breaks {self.target}.  Or click it in "
                "labkit.widgets.Lab's scheduler mode and pass the Lab.")

    @property
    def threads(self) -> tuple:
        return build(self.scenario).names

    def schedule(self) -> tuple:
        """story: the schedule the question describes."""
        return interleave(self.scenario, self.read_after, self.install_after)

    def check(self, answer) -> str:
        """Run the model on ``answer`` and say whether it is right, in one deterministic line."""
        return self.grade(answer).line

    def grade(self, answer) -> Grade:
        """``check``'s line, and whether the answer was right (None: not graded, the line says why)."""
        if answer is None or (isinstance(answer, str) and answer.strip() == "?"):
            return Grade(None, f"{self.number}. not graded yet: replace ? with your answer and run the cell again.")
        try:
            return getattr(self, f"_check_{self.kind}")(answer)
        except ValueError as error:
            return Grade(None, f"{self.number}. not graded: {error}")

    def _truth(self) -> frozenset:
        if self.kind == "verdict":
            return frozenset(_explored(self.scenario).found("yes"))
        return frozenset(simulate(self.scenario, self.schedule()).violated())

    def _check_verdict(self, answer) -> Grade:
        return self._compare(parse_invariants(answer), self._truth(), "some schedule")

    def _check_story(self, answer) -> Grade:
        return self._compare(parse_invariants(answer), self._truth(), "this run")

    def _compare(self, said, truth, what) -> Grade:
        if said == truth:
            return Grade(True, f"{self.number}. right: {what} breaks {_names(truth)}.")
        missed, extra = len(truth - said), len(said - truth)
        return Grade(False, f"{self.number}. not yet: {missed} that {what} breaks missing from your answer, "
                            f"{extra} named that it does not break. Run it and look again.")

    def _check_fix(self, answer) -> Grade:
        scheme = str(answer).strip()
        if scheme not in FIX_SCHEMES:
            raise ValueError(f"{shown(answer)} is not one of {', '.join(FIX_SCHEMES)}")
        result = _explored(self.scenario.replace(scheme=scheme))
        broken = result.found("yes")
        if not broken:
            return Grade(True, f"{self.number}. right: no schedule of {result.scenario.label()} breaks anything "
                               f"({result.states} states).")
        shortest = min(len(result.shortest[name]) for name in broken)
        return Grade(False, f"{self.number}. still broken: {result.scenario.label()} can break {_names(broken)} "
                            f"(shortest counterexample: {shortest} steps).")

    def _check_break(self, answer) -> Grade:
        names = _schedule_of(answer)
        if not names:
            return Grade(None, f"{self.number}. not graded: the schedule is empty; name (or click) the threads' "
                               "steps in order.")
        trace = simulate(self.scenario, names)
        if self.target in trace.violated():
            par = len(_explored(self.scenario).shortest[self.target])
            return Grade(True, f"{self.number}. broken, well done: {violation_words(trace, self.target)} "
                               f"(your schedule: {len(names)} steps; the shortest possible: {par}).")
        done = "" if trace.finished else " (not every thread has finished)"
        return Grade(False, f"{self.number}. not broken yet: {len(names)} steps, {self.target} holds{done}.")

    def answer(self, reveal=None) -> str:
        """The expected answer, only if ``reveal`` (default: the module's INSTRUCTOR switch) is True."""
        if not (INSTRUCTOR if reveal is None else reveal):
            return f"{self.number}. hidden (instructor: set labkit.exercises.INSTRUCTOR = True)"
        return f"{self.number}. {self.solution().answer}"

    def solution(self) -> Solution:
        """The answer and the model's evidence for it, whatever the INSTRUCTOR switch says (the answer key's entry)."""
        return getattr(self, f"_solve_{self.kind}")()

    def _solve_verdict(self) -> Solution:
        result = _explored(self.scenario)
        broken = result.found("yes")
        if not broken:
            evidence = (f"No schedule breaks anything: the explorer searched all {result.states} states.",)
        else:
            evidence = tuple(f"{name}: shortest schedule {len(result.shortest[name])} steps: "
                             f"{','.join(result.shortest[name])}" for name in INVARIANTS if name in broken)
            evidence += (f"The explorer searched all {result.states} states.",)
        return Solution(self.number, _names(broken), evidence)

    def _solve_story(self) -> Solution:
        trace = simulate(self.scenario, self.schedule())
        broken = trace.violated()
        evidence = (f"The run: {','.join(self.schedule())}",)
        evidence += tuple(violation_words(trace, name) for name in INVARIANTS if name in broken) or (
            "Every invariant holds to the end of this run.",)
        return Solution(self.number, _names(broken), evidence)

    def _solve_fix(self) -> Solution:
        safe, evidence = [], []
        for scheme in FIX_SCHEMES:
            result = _explored(self.scenario.replace(scheme=scheme))
            broken = result.found("yes")
            if broken:
                shortest = min(len(result.shortest[name]) for name in broken)
                evidence.append(f"{scheme}: breaks {_names(broken)} (shortest counterexample: {shortest} steps)")
            else:
                safe.append(scheme)
                evidence.append(f"{scheme}: safe (no schedule breaks anything; {result.states} states)")
        return Solution(self.number, f"safe schemes: {', '.join(safe)}", tuple(evidence))

    def _solve_break(self) -> Solution:
        shortest = _explored(self.scenario).shortest[self.target]
        trace = simulate(self.scenario, shortest)
        return Solution(self.number, f"shortest: {','.join(shortest)}",
                        (f"{len(shortest)} steps; any schedule that breaks {self.target} is right.",
                         violation_words(trace, self.target)),
                        brief=f"any schedule that breaks {self.target} (the shortest: {len(shortest)} steps)")

    def __repr__(self) -> str:
        return f"Problem({self.number}, {self.kind}, {self.scenario.label()})"


def _explored(scenario: Scenario):
    """The complete search of ``scenario``: a search its budget stopped cannot grade anything (ValueError)."""
    result = explore(scenario)
    if not result.complete:
        raise ValueError(f"{scenario.label()} is too large to grade: {result.message}")
    return result


def _schedule_of(answer) -> tuple:
    scheduler = getattr(answer, "scheduler", None)          # a labkit.widgets.Lab in scheduler mode
    if scheduler is not None:
        return tuple(scheduler.names)
    if isinstance(answer, str):
        return tuple(name.strip() for name in answer.split(",") if name.strip())
    return tuple(answer)


def worksheet(seed: int, verdicts: int = 3) -> tuple:
    """The problems for ``seed``: ``verdicts`` verdict questions, then one story, one fix and one break-it.

    ``seed`` is a whole number or a string (the same seed, the same problems
    for the whole class); ``verdicts`` from 0 to the matrix's 72 configurations.
    """
    if seed is None:
        raise ValueError("seed=None would give every student other problems; give a whole number or a string")
    if not isinstance(seed, str):
        seed = whole("seed", seed, 0, None, " or a string")
    pool = [(op, scheme, refmode) for op in MATRIX_OPS for scheme in BUILTIN_SCHEMES for refmode in REFMODES]
    verdicts = whole("verdicts", verdicts, 0, len(pool), " (verdict questions, from the matrix)")
    rng = random.Random(seed)
    problems = [Problem(n, "verdict", Scenario(op=op, scheme=scheme, refmode=refmode))
                for n, (op, scheme, refmode) in enumerate(rng.sample(pool, verdicts), start=1)]
    op, scheme, refmode = rng.choice([p for p in pool if p[1] in ("page", "range", "range_block")])
    story = Scenario(op=op, scheme=scheme, refmode=refmode)
    n = vm_length(story)
    pairs = [(r, i) for i in range(n + 1) for r in range(i + 1)]
    if rng.random() < 0.7:      # mostly a story that breaks something, so "nothing" is not a safe guess
        broken = [(r, i) for r, i in pairs if simulate(story, interleave(story, r, i)).violated()]
        pairs = broken or pairs
    read, install = rng.choice(pairs)
    problems.append(Problem(verdicts + 1, "story", story, read, install))
    op, refmode = rng.choice(_FIX_POOL)
    problems.append(Problem(verdicts + 2, "fix", Scenario(op=op, scheme="none", refmode=refmode)))
    fields, target = rng.choice(_BREAK_POOL)
    problems.append(Problem(verdicts + 3, "break", Scenario(**fields), target=target))
    return tuple(problems)


def check(problem: Problem, answer) -> str:
    """``problem.check(answer)``, as a function."""
    return problem.check(answer)


KINDS = {"verdict": "Predict the verdict", "story": "Predict one run", "fix": "Fix it", "break": "Break it"}


def answer_key(seed: int, verdicts: int = 3) -> str:
    """The worksheet for ``seed`` with the model's answers and evidence, as Markdown to print.

    notebooks/answer_key_2008.md is this for the default seed; a test keeps it equal.
    """
    sheet = worksheet(seed, verdicts)
    solutions = [problem.solution() for problem in sheet]
    lines = [f"# Answer key: the worksheet for seed {seed}", "",
             f"The {len(sheet)} problems that `worksheet({seed})` draws (notebook 08 with `SEED = {seed}`, and "
             "`notebooks/instructor.ipynb`), answered by the model: the explorer for problems about every "
             "schedule, one simulated run for the others.  Generated by "
             f"`labkit.exercises.answer_key({seed})`; `make answer-key SEED={seed}` writes it again "
             f"(`notebooks/answer_key_{seed}.md`).", "",
             "| problem | configuration | answer |", "| --- | --- | --- |"]
    lines += [f"| {p.number}. {KINDS[p.kind]} | {_configuration(p)} | {s.brief} |" for p, s in zip(sheet, solutions)]
    for problem, solution in zip(sheet, solutions):
        lines += ["", f"## {problem.number}. {KINDS[problem.kind]}", "", f"> {problem.question}", "",
                  f"**Answer:** {solution.answer}", ""]
        lines += [f"- {line}" for line in solution.evidence]
    return "\n".join(lines) + "\n"


def _configuration(problem: Problem) -> str:
    s = problem.scenario
    if problem.kind == "fix":                     # the scheme is the question
        return f"`{s.op}` with refmode `{s.refmode}` on {s.secondary}"
    return f"`{s.label()}`"
