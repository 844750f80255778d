"""``python -m labkit``: the command line (:mod:`labkit.cli`).

Ctrl-C while labkit is still being imported, or a second Ctrl-C while the
first is being handled, also ends with one line and status 130, not a
traceback.  After Ctrl-C the interpreter's own clean-up (a tenth of a second
or more with pandas loaded) is skipped: the user asked for the prompt back.
"""
import os
import sys

try:
    from .cli import main

    status = main()
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    status = 130
if status == 130:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(status)
sys.exit(status)
