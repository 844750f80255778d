"""Command line: ``python -m labkit simulate | verdicts | explain``.

The same Scenario, simulate and explore that the notebooks use; the CLI only
parses arguments and prints.  Bad names exit with status 2 and a message that
lists the valid choices.
"""
from __future__ import annotations

import argparse
import sys
import time

from .core.invariants import INVARIANTS, invariant
from .kernel.schemes import SCHEMES
from .kernel.secondaries import SECONDARIES
from .scenario import CALLERS, DEFAULTS, ERAS, OPS, REFMODES, RELEASES, Scenario
from .search.explore import explore
from .search.trace import simulate
from .search.verdicts import verdicts, verdicts_csv
from .tables.narrate import events, numbered_steps, status, violation_words


def _scenario_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--op", required=required, help=_choices(OPS))
    parser.add_argument("--scheme", required=required, help=_choices(SCHEMES))
    parser.add_argument("--refmode", required=required, help=_choices(REFMODES))
    parser.add_argument("--secondary", default=None if not required else DEFAULTS["secondary"],
                        help=_choices(SECONDARIES))
    parser.add_argument("--era", default=DEFAULTS["era"], help=_choices(ERAS))
    parser.add_argument("--pages", type=int, default=DEFAULTS["pages"])
    parser.add_argument("--vcpus", type=int, default=DEFAULTS["vcpus"])
    parser.add_argument("--accesses", type=int, default=DEFAULTS["accesses"])
    parser.add_argument("--attempts", type=int, default=DEFAULTS["attempts"])
    parser.add_argument("--no-allocator", dest="allocator", action="store_false")
    parser.add_argument("--release", default=DEFAULTS["release"], help="zap: " + _choices(RELEASES))
    parser.add_argument("--caller", default=DEFAULTS["caller"], help="zap: " + _choices(CALLERS))


def _choices(names) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _fixed(args) -> dict:
    return dict(era=args.era, pages=args.pages, vcpus=args.vcpus, accesses=args.accesses,
                attempts=args.attempts, allocator=args.allocator, release=args.release, caller=args.caller)


def _scenario(args) -> Scenario:
    return Scenario(op=args.op, scheme=args.scheme, refmode=args.refmode,
                    secondary=args.secondary or DEFAULTS["secondary"], **_fixed(args))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m labkit", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("simulate", help="run one schedule and print its trace")
    _scenario_options(run, required=True)
    run.add_argument("--schedule", default="in_order",
                     help="comma-separated thread names (vm, fault, guest, allocator) or in_order")

    table = commands.add_parser("verdicts", help="search every configuration; one row each")
    table.add_argument("--csv", action="store_true", help="print CSV (the default is an aligned table)")
    table.add_argument("--max-states", type=int, default=None, help="bound each search")
    _scenario_options(table, required=False)

    why = commands.add_parser("explain", help="print the shortest counterexample for each broken invariant")
    _scenario_options(why, required=True)
    why.add_argument("--max-states", type=int, default=None, help="bound the search")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return {"simulate": _simulate, "verdicts": _verdicts, "explain": _explain}[args.command](args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


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
    """Progress on stderr, only once a run has taken more than a second and at most once a second."""

    def __init__(self):
        self.started = self.last = time.perf_counter()

    def __call__(self, done, total, result) -> None:
        now = time.perf_counter()
        if now - self.started > 1 and now - self.last > 1:
            self.last = now
            print(f"[{done}/{total}] {result.scenario.label()}: {result.states} states", file=sys.stderr)


def _verdicts(args) -> int:
    pick = {}
    for name, value in (("ops", args.op), ("schemes", args.scheme), ("refmodes", args.refmode),
                        ("secondaries", args.secondary)):
        if value:
            pick[name] = tuple(value.split(","))
    table = verdicts(max_states=args.max_states, progress=_Progress(), **pick, **_fixed(args))
    if not table["complete"].all():
        print(f"note: {int((~table['complete']).sum())} searches stopped at --max-states={args.max_states}; "
              "their 'unknown' cells were not proven either way", file=sys.stderr)
    if args.csv:
        sys.stdout.write(verdicts_csv(table))
    else:
        print(table.drop(columns=["complete"]).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return 0


def _explain(args) -> int:
    scenario = _scenario(args)
    result = explore(scenario, max_states=args.max_states)
    print(f"{scenario.label()} ({scenario.era}): {result.states} states, {result.transitions} transitions "
          f"searched in {result.seconds:.3f} s")
    if not result.complete:
        print(result.message, file=sys.stderr)
    broken = [name for name in INVARIANTS if result.violated[name]]
    if not broken:
        verdict = "no schedule breaks any invariant" if result.complete else "no violation found before the bound"
        print(verdict + ".")
        return 0
    for name in broken:
        trace = simulate(scenario, result.shortest[name])
        print()
        print(f"{name}: shortest schedule, {len(trace.moves)} steps: {','.join(trace.schedule)}")
        for line in numbered_steps(trace):
            print(line)
        print(f"  => {invariant(name).words}: {violation_words(trace, name)}")
        print(f"  replay: simulate({scenario!r}, {','.join(trace.schedule)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
