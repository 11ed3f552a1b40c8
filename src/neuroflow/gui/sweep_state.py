"""A running study as the editor knows it, rebuilt from the sweep's ``--json`` events.

Plain Python (no Qt): the Sweep dialog feeds every event to :meth:`SweepState.apply`, then
redraws its table and plots from :attr:`SweepState.trials`. Events are trusted only as far as
their types go - a field of the wrong type is ignored, never raised on - because they come
from another process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

RUNNING, COMPLETE, PRUNED, FAILED = "running", "complete", "pruned", "failed"
FINISHED_STATES = (COMPLETE, PRUNED, FAILED)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class Trial:
    number: int
    state: str = RUNNING
    params: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    #: The last intermediate value (per epoch) reported: a running or pruned trial's best guess.
    last: float | None = None
    epochs: int = 0
    seconds: float | None = None
    run_id: int | None = None
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def shown_value(self) -> float | None:
        """The value to plot: the final one, else (pruned) the last epoch's."""
        return self.value if self.value is not None else self.last


@dataclass
class SweepState:
    study: dict[str, Any] = field(default_factory=dict)
    trials: dict[int, Trial] = field(default_factory=dict)
    best: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    done: dict[str, Any] | None = None

    @property
    def params(self) -> list[dict[str, Any]]:
        """The study's parameter declarations (name, kind, low/high or choices)."""
        found = self.study.get("params")
        return [p for p in found if isinstance(p, dict) and isinstance(p.get("name"), str)] if isinstance(
            found, list) else []

    @property
    def param_names(self) -> list[str]:
        names = [p["name"] for p in self.params]
        for trial in self.trials.values():  # a loaded study may hold more
            names += [n for n in trial.params if n not in names]
        return names

    @property
    def direction(self) -> str:
        return "minimize" if self.study.get("direction") == "minimize" else "maximize"

    @property
    def metric(self) -> str:
        return str(self.study.get("metric") or "value")

    def finished(self) -> list[Trial]:
        return [t for t in self.trials.values() if t.finished]

    def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in (RUNNING, *FINISHED_STATES)}
        for trial in self.trials.values():
            counts[trial.state] = counts.get(trial.state, 0) + 1
        return counts

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    def apply(self, event: dict[str, Any]) -> int | None:
        """Take one event; returns the number of the trial it changed (or None)."""
        kind = event.get("event")
        if kind == "study":
            self.study = dict(event)
            return None
        if kind == "best":
            number, value = event.get("number"), _number(event.get("value"))
            if isinstance(number, int) and value is not None:
                self.best, self.best_value = number, value
                self.best_params = dict(event.get("params") or {})
            return None
        if kind == "done":
            self.done = dict(event)
            best = event.get("best")
            if isinstance(best, dict):
                self.apply({"event": "best", **best})
            return None
        number = event.get("number")
        if not isinstance(number, int) or kind not in ("trial", "epoch"):
            return None
        trial = self.trials.setdefault(number, Trial(number))
        if kind == "epoch":
            value = _number(event.get("value"))
            if value is not None:
                trial.last = value
            epoch = event.get("epoch")
            if isinstance(epoch, int) and not isinstance(epoch, bool):
                trial.epochs = max(trial.epochs, epoch)
            return number
        state = event.get("state")
        if isinstance(state, str):
            trial.state = state
        if isinstance(event.get("params"), dict):
            trial.params = dict(event["params"])
        if trial.finished:
            trial.value = _number(event.get("value"))
            epochs = event.get("epochs")
            if isinstance(epochs, int) and not isinstance(epochs, bool):
                trial.epochs = epochs
            trial.seconds = _number(event.get("seconds"))
            run_id = event.get("run_id")
            trial.run_id = run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None
            trial.message = str(event.get("message") or "")
        return number
