"""Skeletons every paper's method reuses (DESIGN.md §1): one outcome type and one iterative loop with termination
objects, timed on one clock."""
from solvers_adapters.algorithms.loop import (AnyOf, Clock, LoopResult, LoopState, MaxIter, RelChange, Stop,
                                              Termination, TimeLimit, iterate)
from solvers_adapters.algorithms.outcome import Outcome

__all__ = ["AnyOf", "Clock", "LoopResult", "LoopState", "MaxIter", "Outcome", "RelChange", "Stop", "Termination",
           "TimeLimit", "iterate"]
