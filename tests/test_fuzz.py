"""Fuzzed input: anything a user can pass is either used or refused at the door, in one short line.

Every example is small (default-sized scenarios, a few thousand states at
most), so each runs in milliseconds; Hypothesis's deadline turns a hang into
a failure.
"""
import contextlib
import io
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import labkit
from labkit import Scenario, build, explore, simulate
from labkit.cli import main
from labkit.core.engine import run, runnable
from labkit.core.invariants import INVARIANTS

#: The longest message a refusal may have: it names the field and the choices, and quotes a short prefix.
LONGEST = 400
FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])

#: Things nobody should pass, including the ones that once came back whole or crashed.
junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), st.binary(max_size=4),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sets(st.text(max_size=3), max_size=3), st.just("x" * 1_000_000), st.just(10 ** 5000), st.just(""),
    st.just(" "), st.just(object()),
)


def refused_in_one_line(error: Exception) -> None:
    event(f"refused: {type(error).__name__}")
    message = str(error)
    assert message and "\n" not in message, repr(message[:200])
    assert len(message) <= LONGEST, message[:200]


CHOICES = {"op": labkit.OPS, "scheme": tuple(labkit.SCHEMES), "refmode": labkit.REFMODES,
           "secondary": tuple(labkit.SECONDARIES), "era": tuple(labkit.ERAS), "release": labkit.RELEASES,
           "caller": labkit.CALLERS, "allocator": (True, False), "pages": range(1, 17), "vcpus": range(1, 4),
           "accesses": range(0, 5), "attempts": range(1, 5)}


@st.composite
def spoiled(draw, valid: dict):
    """``valid`` with up to two entries replaced by junk or left out: mostly near misses, sometimes right."""
    values = dict(valid)
    for name in draw(st.lists(st.sampled_from(sorted(values)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del values[name]
        else:
            values[name] = draw(junk)
    return values


@st.composite
def scenario_fields(draw):
    valid = {name: draw(st.sampled_from(tuple(choices))) for name, choices in CHOICES.items()}
    if valid["scheme"] == "gru":
        valid["secondary"] = "gru"
    return draw(spoiled(valid))


@FUZZ
@given(scenario_fields())
def test_scenario_is_made_or_refused_in_one_line(fields):
    try:
        scenario = Scenario(**fields)
    except (ValueError, TypeError) as error:
        refused_in_one_line(error)
        return
    event("made")
    assert build(scenario).names[0] == "vm"


SMALL = [Scenario(op=op, scheme=scheme, refmode="off", secondary=secondary)
         for op in labkit.OPS for scheme in ("page", "range_seq") for secondary in ("kvm", "xpmem")]
NAMES = ["vm", "fault", "guest", "allocator", "fault2", "in_order", "", " ", ","]


@st.composite
def scenario_and_schedule(draw):
    """A small scenario and a schedule: one that runs (picked among the runnable threads), spoiled or not."""
    scenario = draw(st.sampled_from(SMALL))
    model = build(scenario)
    picks = draw(st.lists(st.integers(0, 5), max_size=30))

    def policy(model, state, moves):
        threads = runnable(model, state)
        return (threads[picks[len(moves)] % len(threads)],) if threads and len(moves) < len(picks) else ()
    names = [model.names[move.thread] for move in run(model, policy)]
    schedule = draw(st.one_of(
        st.just(names), st.just(",".join(names) or "in_order"),
        st.just(names).flatmap(lambda names: st.lists(st.one_of(st.sampled_from(NAMES), junk), max_size=3)
                               .map(lambda extra: names + extra)),
        st.lists(st.sampled_from(NAMES), max_size=30).map(",".join),
        junk))
    return scenario, schedule


@FUZZ
@given(scenario_and_schedule())
def test_simulate_runs_a_schedule_or_refuses_it_in_one_line(case):
    scenario, schedule = case
    try:
        trace = simulate(scenario, schedule)
    except (ValueError, TypeError) as error:
        refused_in_one_line(error)
        return
    event("ran")
    assert len(trace.states) == len(trace.moves) + 1


def _quiet(states, transitions):
    return None


@st.composite
def explore_arguments(draw):
    valid = dict(invariants=draw(st.one_of(st.sampled_from(INVARIANTS),
                                           st.lists(st.sampled_from(INVARIANTS), min_size=1, max_size=4))),
                 max_states=draw(st.one_of(st.none(), st.integers(1, 400))),
                 progress=draw(st.one_of(st.none(), st.just(_quiet))),
                 progress_every=draw(st.integers(1, 50)))
    return draw(spoiled(valid))


@FUZZ
@given(st.sampled_from(SMALL), explore_arguments())
def test_explore_searches_or_refuses_in_one_line(scenario, arguments):
    try:
        result = explore(scenario, **arguments)
    except (ValueError, TypeError) as error:
        refused_in_one_line(error)
        return
    event("searched" if result.complete else "stopped at max_states")
    assert result.states <= (arguments.get("max_states") or result.states)
    assert all(result.verdict(name) in ("yes", "no", "unknown") for name in result.invariants)


VALUES = ["zap", "rmap", "cow", "range", "range_seq", "page", "gru", "off", "pin", "kvm", "xpmem", "2017",
          "munmap", "after_end", "0", "1", "2", "3", "17", "-1", "", ",", "zap,", "vm,fault", "in_order",
          "--op", "--csv", "-h", "x" * 100_000, "1" * 5000, "\n", "\udcff"]
words = st.one_of(st.sampled_from(VALUES), st.text(max_size=8))
#: After the fuzzed arguments (the last of a repeated option wins): every search stays small.
BOUNDED = {"verdicts": ["--max-states", "30"], "explain": ["--max-states", "2000"]}


@st.composite
def command_lines(draw):
    """A valid command line, then up to two tokens replaced, dropped or added."""
    command = draw(st.sampled_from(["simulate", "verdicts", "explain"]))
    options = {name: draw(st.sampled_from(CHOICES[name])) for name in ("op", "scheme", "refmode")}
    if options["scheme"] == "gru":
        options["secondary"] = "gru"
    for name in draw(st.lists(st.sampled_from(["era", "pages", "vcpus", "accesses", "attempts", "release",
                                               "caller"]), max_size=3, unique=True)):
        options[name] = draw(st.sampled_from(CHOICES[name]))
    if command == "verdicts" and draw(st.booleans()):
        options = {name: value for name, value in options.items() if name not in ("op", "scheme", "refmode")}
    argv = [command] + [word for name, value in options.items() for word in (f"--{name}", str(value))]
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(argv)))
        edit = draw(st.sampled_from(["replace", "drop", "add"]))
        if edit == "add" or where == len(argv):
            argv.insert(where, draw(words))
        elif edit == "drop":
            del argv[where]
        else:
            argv[where] = draw(words)
    return argv + BOUNDED.get(argv[0] if argv else "", [])


@FUZZ
@given(command_lines())
def test_the_command_line_runs_or_exits_2_with_one_line(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert "Traceback" not in err.getvalue()
    assert code in (0, 2), (code, err.getvalue()[:300])
    event(f"{argv[0] if code == 0 else 'refused'}, exit {code}")
    if code == 2:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and len(lines[0]) <= LONGEST, lines[:3]
