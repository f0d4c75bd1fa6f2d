"""Iterated prisoner's dilemma agents.

* :mod:`.strategies`: the 14 classic strategies (axelrod's definitions) and house policies;
* :mod:`.tournament`: the vmapped round-robin tournament (streamed in chunks, with standard errors);
* :mod:`.matches`: the batched match engine the tournament runs on;
* :mod:`.opponents`: the strategies as opponents that read the env state (for training).
"""
