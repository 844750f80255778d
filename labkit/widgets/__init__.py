"""The lab's widgets: a bqplot timeline of pte, spte, page and threads, with controls.

    >>> from labkit.widgets import Lab, Compare
    >>> Lab(op="zap", scheme="range", refmode="off")            # doctest: +SKIP

``Lab`` composes ``controls`` (the configuration), ``timeline`` (the figure),
``scheduler`` (you are the scheduler) and ``guard`` (readable errors);
``Compare`` shows one schedule under two configurations with one cursor.
"""
from .compare import Compare
from .lab import Lab
from .timeline import Timeline

__all__ = ["Lab", "Compare", "Timeline"]
