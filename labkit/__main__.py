"""``python -m labkit``: the command line (:mod:`labkit.cli`), with its signals handled from the start.

Ctrl-C (SIGINT) and SIGTERM become one line on stderr and status 130 or
143, whenever they come: while labkit is still being imported, during a
search, or while the first one is being handled.  The first one blocks both
signals for the rest of the run, so the clean-up (``verdicts`` printing the
rows it had finished and its ``# interrupted`` line) is never cut by a
second; then the interpreter's own clean-up (a tenth of a second or more with
pandas loaded) is skipped: the user asked for the prompt back.  Nothing is
imported before these handlers are in place but what Python itself needs
(``import labkit`` imports nothing: see ``labkit/__init__.py``).
"""
import os
import signal
import sys

#: Exit status for each signal: 128 + its number, as a shell reports a process the signal killed.
STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
_received = []


def _stop(signum, frame):
    """The first Ctrl-C or SIGTERM: hold every later one back, then unwind as a KeyboardInterrupt.

    A second one can still reach this handler: the system may have delivered
    it before the first call blocked it.  Then it is only counted: the clean-up
    of the first must run to its end.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(STATUS))
    _received.append(signum)
    if len(_received) == 1:
        raise KeyboardInterrupt("terminated" if signum == signal.SIGTERM else "")


def run() -> None:
    """Run one command and exit with the status a shell expects (``labkit`` and ``python -m labkit``)."""
    for signum in STATUS:
        signal.signal(signum, _stop)
    if hasattr(signal, "SIGXFSZ"):          # past a file-size limit a write fails (EFBIG) instead of killing us
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        from .cli import main

        status = main()
    except KeyboardInterrupt:            # before main() could handle it (while labkit.cli was imported)
        if sys.stderr is not None:       # print(file=None) would write to stdout
            print("terminated" if _received[:1] == [signal.SIGTERM] else "interrupted", file=sys.stderr)
        status = 130
    if _received:
        status = STATUS[_received[0]]
        try:
            sys.stdout and sys.stdout.flush()
            sys.stderr and sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    run()
