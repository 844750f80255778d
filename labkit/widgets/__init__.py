"""Seeing it: every part of labkit that imports ipywidgets or bqplot.

    >>> from labkit.widgets import Lab, Compare
    >>> Lab(op="zap", scheme="range", refmode="off")            # doctest: +SKIP

``Lab`` composes ``controls`` (the configuration), ``timeline`` (the figure,
drawn from ``lanes``), ``scheduler`` (you are the scheduler) and ``guard``
(readable errors); ``Compare`` (``side_by_side``) shows one story under two
configurations with one cursor; ``heatmap`` draws the verdict matrix and
``costpanel`` the cost model's sliders.  Nothing here decides anything: every
figure is drawn from what ``labkit.search`` and ``labkit.tables`` return.
"""
from . import picture
from .claims import CLAIMS, Claim, Prediction, claim
from .costpanel import CostPanel
from .heatmap import HeatMap, heatmap
from .lab import Lab
from .side_by_side import Compare
from .timeline import Timeline
from .windowmap import WindowMap, windowmap
from .worksheet import Worksheet, worksheet

__all__ = ["Lab", "Compare", "Timeline", "CostPanel", "HeatMap", "heatmap", "picture", "claim", "Claim", "CLAIMS",
           "Prediction", "WindowMap", "windowmap", "Worksheet", "worksheet"]
