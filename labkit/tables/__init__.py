"""Telling what the model did: words and deterministic tables, never a verdict of their own.

``narrate`` (plain words for a step, a run, a violation), ``export`` (CSV and
the kernel documentation's ``[Time N]`` table), ``stories`` (the same story
under several configurations, verdict tables, window maps), ``tour`` (the
first notebooks' small tables), ``matrix`` (the verdict matrix for notebook
05), ``history`` (what Linux did after 2.6.27), ``costs`` (a cost model whose
constants are assumptions) and ``exercises`` (predict-then-run problems graded
by the model).  pandas is imported only where a table is made.
"""
