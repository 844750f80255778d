"""Command line: ``python -m labkit simulate | verdicts | explain``.

The same Scenario, simulate and explore that the notebooks use; the CLI only
parses arguments and prints.  It behaves like a Unix tool:

- a bad argument or name: one line on stderr naming the valid choices, exit 2;
- Ctrl-C: one line on stderr, exit 130; SIGTERM the same, exit 143
  (``python -m labkit`` installs the handlers: :mod:`labkit.__main__`).
  ``verdicts`` first prints the rows it had finished and a ``# interrupted``
  (``# terminated``) line saying how many; any other output cut short ends
  with such a line too;
- a closed pipe (``... | head -1``): quiet, exit 141, as if killed by SIGPIPE;
- an output that cannot be written (a full disk, a file-size limit, a closed
  stdout): one line, exit 1.  What reached the file ends with a whole row (a
  row, a table, a trace is written whole or not at all: :class:`Output`),
  and under a file-size limit a ``# cut`` line says where it stopped.

Long searches show progress on stderr, only after a second and at most once a
second; stdout has only results.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import stat
import sys
import time

from .core.invariants import invariant
from .core.messages import one_line, shown
from .kernel.schemes import SCHEMES
from .kernel.secondaries import SECONDARIES
from .scenario import CALLERS, DEFAULTS, ERAS, OPS, REFMODES, RELEASES, Scenario
from .search.explore import DEFAULT_MAX_STATES, explore
from .search.trace import simulate
from .search.verdicts import configurations, csv_header, csv_line, row
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
    if sys.stdout is None:          # started with stdout closed (>&-): there is nowhere to put results
        _err("error: cannot write the output: stdout is closed")
        return 1
    out = Output(sys.stdout)
    try:
        args = parser().parse_args(argv)
        return {"simulate": _simulate, "verdicts": _verdicts, "explain": _explain}[args.command](args, out)
    except SystemExit as done:      # argparse: --help (0) or a usage error (2, its one line already printed)
        return done.code
    except ValueError as error:
        _err(f"error: {one_line(error)}")
        return 2
    except KeyboardInterrupt as interrupt:
        word = _stopped(interrupt)
        out.cut(f"{word}; the output above is not complete")
        _err(str(interrupt) if str(interrupt).startswith(word) else word)
        return 130
    except BrokenPipeError:
        _drop_stdout()
        return 141
    except OSError as error:
        out.cut(f"the output could not take more ({error.strerror or error})")
        _drop_stdout()
        _err(f"error: cannot write the output: {error.strerror or error}")
        return 1


def _stopped(interrupt: KeyboardInterrupt) -> str:
    """``terminated`` for SIGTERM (labkit.__main__ says so in the exception), ``interrupted`` for Ctrl-C."""
    return "terminated" if str(interrupt).startswith("terminated") else "interrupted"


def _err(text: str) -> None:
    """One line on stderr, if there is a stderr (print(file=None) would write it to stdout)."""
    if sys.stderr is not None:
        print(text, file=sys.stderr)


@contextlib.contextmanager
def _held_back():
    """Hold Ctrl-C and SIGTERM back for a moment (one that arrives meanwhile is delivered as the block ends)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


class Output:
    """stdout in whole pieces: a row, a table or a trace is written whole or not at all.

    Each piece is written with Ctrl-C and SIGTERM held back.  Into a regular
    file, a piece that fails halfway (a full disk) is cut off again, so the
    file ends with the last whole piece; under a file-size limit (``ulimit
    -f``) a piece that would not fit is not begun, and :data:`RESERVE` bytes
    are kept for the ``# ...`` line that says the output stops there.
    """

    RESERVE = 256

    def __init__(self, stream):
        self.stream, self.begun, self.written, self.marked = stream, False, False, False
        try:
            self.fd = stream.fileno()
            mode = os.fstat(self.fd).st_mode
        except (AttributeError, OSError, ValueError):   # a test's capture: no descriptor of its own
            self.fd, mode = None, 0
        self.regular = stat.S_ISREG(mode)
        limit = _size_limit() if self.regular else None
        self.limit = limit

    def write(self, text: str, last: bool = False) -> None:
        """Write ``text`` whole; ``last``: the closing line, which may use the reserved room."""
        self.begun = True
        with _held_back():
            if self.fd is None:
                self.stream.write(text)
                self.stream.flush()
                self.written = True
                return
            self.stream.flush()
            data = text.encode(self.stream.encoding or "utf-8", self.stream.errors or "strict")
            start = self._end() if self.regular else None
            if start is not None and self.limit is not None and \
                    start + len(data) + (0 if last else self.RESERVE) > self.limit:
                raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view):]
            except OSError:
                if start is not None:          # cut the half-written piece off again
                    with contextlib.suppress(OSError):
                        os.ftruncate(self.fd, start)
                        os.lseek(self.fd, start, os.SEEK_SET)
                raise
            self.written = True

    def cut(self, words: str) -> None:
        """End an output that stops short with one ``# words`` line (once, and only once something was begun)."""
        if self.begun and not self.marked:
            self.marked = True
            with contextlib.suppress(OSError, ValueError):
                self.write(f"# {words}\n", last=True)

    def _end(self) -> int:
        """Where the next write lands: the end for a file opened to append (>>), the offset otherwise."""
        try:
            import fcntl
        except ImportError:
            return os.lseek(self.fd, 0, os.SEEK_CUR)
        if fcntl.fcntl(self.fd, fcntl.F_GETFL) & os.O_APPEND:
            return os.fstat(self.fd).st_size
        return os.lseek(self.fd, 0, os.SEEK_CUR)


def _size_limit():
    """The file-size limit (``ulimit -f``) in bytes, or None."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered must not fail again when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # no descriptor of its own (a test's capture), or none at all
        pass


def _simulate(args, out: Output) -> int:
    trace = simulate(_scenario(args), args.schedule)
    table = events(trace).drop(columns=["site"])
    text = table.to_string(index=False) + "\n"
    if trace.moves:
        text += "\n" + status(trace, len(trace.moves)) + "\n"
    broken = trace.violated()
    out.write(text + "violations: " + (", ".join(broken) if broken else "none") + "\n")
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
            _err(text)

    def search(self, prefix: str, budget):
        """A ``progress`` callback for ``explore``: states and transitions so far, under ``prefix``."""
        limit = DEFAULT_MAX_STATES if budget is None else budget

        def report(states: int, transitions: int) -> None:
            self.states = states
            self.say(f"{prefix}: {states} of at most {limit} states, {transitions} transitions so far")
        return report


def _verdicts(args, out: Output) -> int:
    pick = {}
    for name, value in (("ops", args.op), ("schemes", args.scheme), ("refmodes", args.refmode),
                        ("secondaries", args.secondary)):
        if value is not None:     # "--op ''" is an empty name, refused by Scenario; not "all"
            pick[name] = tuple(item.strip() for item in value.split(","))
    scenarios = configurations(**pick, **_fixed(args))
    progress, rows = _Progress(), []
    if args.csv:
        out.write(csv_header())
    try:
        if not args.csv:
            import pandas  # noqa: F401 - now, not after Ctrl-C: importing it takes most of a second
        for done, scenario in enumerate(scenarios, start=1):
            prefix = f"[{done}/{len(scenarios)}] {scenario.label()}"
            result = explore(scenario, max_states=args.max_states, progress_every=CLOCK_EVERY,
                             progress=progress.search(prefix, args.max_states))
            line = row(result)
            with _held_back():             # the rows recorded, the rows written and the count agree
                if args.csv:
                    out.write(csv_line(line))
                rows.append(line)
            progress.say(f"{prefix}: {result.states} states")
    except KeyboardInterrupt as interrupt:
        word, stopped = _stopped(interrupt), f"{len(rows)} of {len(scenarios)} configurations searched"
        if not args.csv:
            _print_table(out, rows)
        out.marked = True
        out.write(f"# {word}: {stopped}; the other {len(scenarios) - len(rows)} were not\n", last=True)
        raise KeyboardInterrupt(f"{word}: {stopped} (their rows are printed)") from None
    except OSError as error:
        if not isinstance(error, BrokenPipeError):
            out.cut(f"cut: {len(rows)} of {len(scenarios)} rows written; the output could not take more "
                    f"({error.strerror or error})")
        raise
    if not args.csv:
        _print_table(out, rows)
    cut = sum(not line["complete"] for line in rows)
    if cut:
        bound = f"--max-states={args.max_states}" if args.max_states else f"the default {DEFAULT_MAX_STATES} states"
        _err(f"note: {cut} of {len(rows)} searches stopped at {bound}; their 'unknown' cells were not proven "
             "either way (--max-states raises the bound)")
    return 0


def _print_table(out: Output, rows: list) -> None:
    if not rows:
        return
    import pandas as pd

    table = pd.DataFrame(rows).drop(columns=["complete"])
    out.write(table.to_string(index=False, float_format=lambda x: f"{x:.3f}") + "\n")


def _explain(args, out: Output) -> int:
    scenario = _scenario(args)
    progress = _Progress()
    try:
        result = explore(scenario, max_states=args.max_states, progress_every=CLOCK_EVERY,
                         progress=progress.search(scenario.label(), args.max_states))
    except KeyboardInterrupt as interrupt:
        raise KeyboardInterrupt(f"{_stopped(interrupt)}: the search of {scenario.label()} stopped after about "
                                f"{progress.states} states; nothing was established") from None
    out.write(f"{scenario.label()} ({scenario.era}): {result.states} states, {result.transitions} transitions "
              f"searched in {result.seconds:.3f} s\n")
    if not result.complete:
        _err(result.message)
    broken = result.found("yes")
    if not broken and result.complete:
        out.write("no schedule breaks any invariant.\n")
        return 0
    for name in broken:                    # one counterexample at a time, each whole
        trace = simulate(scenario, result.shortest[name])
        lines = ["", f"{name}: shortest schedule, {len(trace.moves)} steps: {','.join(trace.schedule)}",
                 *numbered_steps(trace), f"  => {invariant(name).words}: {violation_words(trace, name)}",
                 f"  replay: simulate({scenario!r}, {','.join(trace.schedule)!r})"]
        out.write("\n".join(lines) + "\n")
    if result.unknown_words():
        out.write("\n" + result.unknown_words() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

