"""``python -m labkit``: the command line (:mod:`labkit.cli`).

Ctrl-C while labkit is still being imported, or a second Ctrl-C while the
first is being handled, also ends with one line and status 130, not a
traceback.
"""
import sys

try:
    from .cli import main

    status = main()
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    status = 130
sys.exit(status)
