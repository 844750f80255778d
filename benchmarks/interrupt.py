"""How long after ``python -m labkit`` starts does Ctrl-C still get Python's own traceback?

Starts the command line many times and sends SIGINT after a delay (from the
moment the new process has exec'd), then sorts each outcome: the one-line
message labkit prints (status 130), or Python's traceback / a death by the
signal before labkit's handler was in place.  Prints, per delay, how many of
the samples were not labkit's line, and the longest delay at which any was.

    .venv/bin/python benchmarks/interrupt.py                 # lightly loaded
    .venv/bin/python benchmarks/interrupt.py --busy 2        # with two busy loops beside it
"""
import argparse
import signal
import subprocess
import sys
import time

COMMAND = [sys.executable, "-m", "labkit", "verdicts", "--csv", "--op", "zap"]


def outcome(delay: float) -> str:
    process = subprocess.Popen(COMMAND, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    if process.returncode == 130 and "Traceback" not in err and len(err.splitlines()) == 1:
        return "line"
    return "traceback" if "Traceback" in err else f"status {process.returncode}"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--busy", type=int, default=0, help="busy loops to run beside it (one per core)")
    options.add_argument("--samples", type=int, default=20, help="samples per delay")
    options.add_argument("--step", type=float, default=2.0, help="ms between delays")
    options.add_argument("--up-to", type=float, default=80.0, help="the largest delay, ms")
    args = options.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        worst = None
        delay = 0.0
        while delay <= args.up_to:
            results = [outcome(delay / 1000) for _ in range(args.samples)]
            missed = [r for r in results if r != "line"]
            if missed:
                worst = delay
            print(f"{delay:5.1f} ms: {len(missed):2d} of {args.samples} not labkit's line "
                  f"{sorted(set(missed)) if missed else ''}", flush=True)
            delay += args.step
        print(f"busy loops: {args.busy}; longest delay with Python's own outcome: "
              f"{'none' if worst is None else f'{worst:.1f} ms'}")
    finally:
        for process in busy:
            process.kill()


if __name__ == "__main__":
    main()
