"""Command line: ``python -m labkit simulate | verdicts | explain``.

The same Scenario, simulate and explore that the notebooks use; the CLI only
parses arguments and prints.  It behaves like a Unix tool:

- a bad argument or name: one line on stderr naming the valid choices, exit 2;
- Ctrl-C: one line on stderr, exit 130 (``verdicts`` first prints the rows it
  had finished and a ``# interrupted`` line saying how many);
- a closed pipe (``... | head -1``): quiet, exit 141, as if killed by SIGPIPE;
- an output that cannot be written (a full disk): one line, exit 1.

Long searches show progress on stderr, only after a second and at most once a
second; stdout has only results.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from contextlib import contextmanager

from .core.invariants import invariant
from .core.messages import one_line, shown
from .kernel.schemes import SCHEMES
from .kernel.secondaries import SECONDARIES
from .scenario import CALLERS, DEFAULTS, ERAS, OPS, REFMODES, RELEASES, Scenario
from .search.explore import DEFAULT_MAX_STATES, explore
from .search.trace import simulate
from .search.verdicts import CSV_COLUMNS, configurations, csv_line, row
from .tables.narrate import events, numbered_steps, status, violation_words

#: Expanded states between two looks at the clock during a search (a few hundredths of a second).
CLOCK_EVERY = 2_000


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line and what the user typed quoted short."""

    def error(self, message):
        message = one_line(message)
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        digits = text.strip().lstrip("+-").replace("_", "")
        if digits.isdigit() and digits.isascii():    # more digits than int() converts: far out of any range
            raise argparse.ArgumentTypeError(f"{shown(text)} is out of range (a whole number of {len(digits):,} "
                                             "digits)") from None
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of states")
    return value


def _scenario_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--op", required=required, help=_choices(OPS))
    parser.add_argument("--scheme", required=required, help=_choices(SCHEMES))
    parser.add_argument("--refmode", required=required, help=_choices(REFMODES))
    parser.add_argument("--secondary", default=None if not required else DEFAULTS["secondary"],
                        help=_choices(SECONDARIES))
    parser.add_argument("--era", default=DEFAULTS["era"], help=_choices(ERAS))
    parser.add_argument("--pages", type=_whole, default=DEFAULTS["pages"])
    parser.add_argument("--vcpus", type=_whole, default=DEFAULTS["vcpus"])
    parser.add_argument("--accesses", type=_whole, default=DEFAULTS["accesses"])
    parser.add_argument("--attempts", type=_whole, default=DEFAULTS["attempts"])
    parser.add_argument("--no-allocator", dest="allocator", action="store_false")
    parser.add_argument("--release", default=DEFAULTS["release"], help="zap: " + _choices(RELEASES))
    parser.add_argument("--caller", default=DEFAULTS["caller"], help="zap: " + _choices(CALLERS))


def _budget_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--max-states", type=_positive, default=None,
                        help=f"{what} (default {DEFAULT_MAX_STATES}); a search stopped by it says 'unknown'")


def _choices(names) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _fixed(args) -> dict:
    return dict(era=args.era, pages=args.pages, vcpus=args.vcpus, accesses=args.accesses,
                attempts=args.attempts, allocator=args.allocator, release=args.release, caller=args.caller)


def _scenario(args) -> Scenario:
    return Scenario(op=args.op, scheme=args.scheme, refmode=args.refmode, secondary=args.secondary, **_fixed(args))


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m labkit", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("simulate", help="run one schedule and print its trace")
    _scenario_options(run, required=True)
    run.add_argument("--schedule", default="in_order",
                     help="comma-separated thread names (vm, fault, guest, allocator) or in_order")

    table = commands.add_parser("verdicts", help="search every configuration; one row each")
    table.add_argument("--csv", action="store_true", help="print CSV (the default is an aligned table)")
    _budget_option(table, "bound each search")
    _scenario_options(table, required=False)

    why = commands.add_parser("explain", help="print the shortest counterexample for each broken invariant")
    _scenario_options(why, required=True)
    _budget_option(why, "bound the search")
    return top


def main(argv=None) -> int:
    """Run one command and return the exit status a shell expects (see the module's docstring)."""
    try:
        args = parser().parse_args(argv)
        code = {"simulate": _simulate, "verdicts": _verdicts, "explain": _explain}[args.command](args)
        sys.stdout.flush()          # a write error must surface here, not at interpreter exit
        return code
    except SystemExit as done:      # argparse: --help (0) or a usage error (2, its one line already printed)
        return done.code
    except ValueError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(str(interrupt) or "interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _drop_stdout()
        return 141
    except OSError as error:
        _drop_stdout()
        print(f"error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return 1


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered must not fail again when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):   # stdout replaced by an object without a descriptor (a test's capture)
        pass


def _simulate(args) -> int:
    trace = simulate(_scenario(args), args.schedule)
    table = events(trace).drop(columns=["site"])
    print(table.to_string(index=False))
    if trace.moves:
        print()
        print(status(trace, len(trace.moves)))
    broken = trace.violated()
    print("violations: " + (", ".join(broken) if broken else "none"))
    return 0


class _Progress:
    """Progress on stderr, only once a command has run for more than a second and at most once a second."""

    def __init__(self):
        self.started = self.last = time.perf_counter()
        self.states = 0

    def say(self, text: str) -> None:
        now = time.perf_counter()
        if now - self.started > 1 and now - self.last > 1:
            self.last = now
            print(text, file=sys.stderr)

    def search(self, prefix: str, budget):
        """A ``progress`` callback for ``explore``: states and transitions so far, under ``prefix``."""
        limit = DEFAULT_MAX_STATES if budget is None else budget

        def report(states: int, transitions: int) -> None:
            self.states = states
            self.say(f"{prefix}: {states} of at most {limit} states, {transitions} transitions so far")
        return report


def _verdicts(args) -> int:
    pick = {}
    for name, value in (("ops", args.op), ("schemes", args.scheme), ("refmodes", args.refmode),
                        ("secondaries", args.secondary)):
        if value is not None:     # "--op ''" is an empty name, refused by Scenario; not "all"
            pick[name] = tuple(item.strip() for item in value.split(","))
    scenarios = configurations(**pick, **_fixed(args))
    progress, rows = _Progress(), []
    if args.csv:
        sys.stdout.write(",".join(CSV_COLUMNS) + "\n")
    else:
        import pandas  # noqa: F401 - now, not after Ctrl-C: importing it takes most of a second
    try:
        for done, scenario in enumerate(scenarios, start=1):
            prefix = f"[{done}/{len(scenarios)}] {scenario.label()}"
            result = explore(scenario, max_states=args.max_states, progress_every=CLOCK_EVERY,
                             progress=progress.search(prefix, args.max_states))
            with _held_back():
                rows.append(row(result))
                if args.csv:
                    sys.stdout.write(csv_line(rows[-1]))
                    sys.stdout.flush()
            progress.say(f"{prefix}: {result.states} states")
    except KeyboardInterrupt:
        stopped = f"{len(rows)} of {len(scenarios)} configurations searched"
        if not args.csv:
            _print_table(rows)
        print(f"# interrupted: {stopped}; the other {len(scenarios) - len(rows)} were not")
        raise KeyboardInterrupt(f"interrupted: {stopped} (their rows are printed)") from None
    if not args.csv:
        _print_table(rows)
    cut = sum(not line["complete"] for line in rows)
    if cut:
        bound = f"--max-states={args.max_states}" if args.max_states else f"the default {DEFAULT_MAX_STATES} states"
        print(f"note: {cut} of {len(rows)} searches stopped at {bound}; their 'unknown' cells were not proven "
              "either way (--max-states raises the bound)", file=sys.stderr)
    return 0


@contextmanager
def _held_back():
    """Hold Ctrl-C back while a finished row is recorded and written: the rows printed and the count agree.

    A Ctrl-C that arrives meanwhile is delivered as soon as the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _print_table(rows: list) -> None:
    if not rows:
        return
    import pandas as pd

    table = pd.DataFrame(rows).drop(columns=["complete"])
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


def _explain(args) -> int:
    scenario = _scenario(args)
    progress = _Progress()
    try:
        result = explore(scenario, max_states=args.max_states, progress_every=CLOCK_EVERY,
                         progress=progress.search(scenario.label(), args.max_states))
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"interrupted: the search of {scenario.label()} stopped after about "
                                f"{progress.states} states; nothing was established") from None
    print(f"{scenario.label()} ({scenario.era}): {result.states} states, {result.transitions} transitions "
          f"searched in {result.seconds:.3f} s")
    if not result.complete:
        print(result.message, file=sys.stderr)
    broken = result.found("yes")
    if not broken and result.complete:
        print("no schedule breaks any invariant.")
        return 0
    for name in broken:
        trace = simulate(scenario, result.shortest[name])
        print()
        print(f"{name}: shortest schedule, {len(trace.moves)} steps: {','.join(trace.schedule)}")
        for line in numbered_steps(trace):
            print(line)
        print(f"  => {invariant(name).words}: {violation_words(trace, name)}")
        print(f"  replay: simulate({scenario!r}, {','.join(trace.schedule)!r})")
    if result.unknown_words():
        print()
        print(result.unknown_words())
    return 0


if __name__ == "__main__":
    sys.exit(main())
