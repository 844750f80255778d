"""Running the model: one schedule, a schedule described by *when*, every schedule, the whole matrix.

``trace`` (``simulate``: one schedule, every state kept), ``schedules``
(``interleave``: the fault reads the pte after k VM steps and installs after
m), ``explore`` (breadth-first over every interleaving, shortest
counterexamples) and ``verdicts`` (one exhaustive search per configuration).
All of them go through :func:`labkit.core.engine.run` or ``successors``.
"""
