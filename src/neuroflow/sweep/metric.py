"""What a sweep optimises (``--metric``), and a trial's value of it.

The default follows what the workflow can measure: ``val_accuracy`` when the learner validates
(held-out data, so the best epoch is an honest choice), else ``test_accuracy`` when a Scorer is
downstream of the learner, else the last epoch's training ``accuracy``. Any epoch metric of the
learner can be named; ``test_accuracy`` is the downstream Scorer's accuracy.

Validation metrics count at their best epoch, training metrics at their last: a training
metric's best epoch is simply its last, give or take noise, and says nothing about overfitting.
Names containing "loss" are minimised, all others maximised.

Pruning needs a value per epoch: the metric itself, or for ``test_accuracy`` (known only after
training) ``val_accuracy`` when the learner validates, else ``accuracy``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import NeuroFlowError

if TYPE_CHECKING:
    from ..core.workflow import Workflow

LEARNER = "neuroflow.learning.learner"
SCORER = "neuroflow.learning.scorer"
TEST_ACCURACY = "test_accuracy"


@dataclass(frozen=True)
class Metric:
    name: str
    #: "maximize" or "minimize", as Optuna spells them.
    direction: str
    #: The epoch metric reported to the pruner after each epoch.
    epoch_name: str
    #: The Scorer whose accuracy is the value (``test_accuracy`` only).
    scorer: str | None = None

    @property
    def best_epoch(self) -> bool:
        """Whether the value is the best epoch's (validation metrics) or the last one's."""
        return self.name.startswith("val_")

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    def value(self, epochs: Sequence[Mapping[str, float]], scores: Any = None) -> float:
        """The trial's value from its epochs' metrics (and the Scorer's scores); a
        :class:`NeuroFlowError` saying why when there is none."""
        if self.scorer is not None:
            if scores is None:
                raise NeuroFlowError("the Scorer produced no scores")
            return float(scores.accuracy)
        values = [float(m[self.name]) for m in epochs if self.name in m]
        if not values:
            raise NeuroFlowError(f"the learner reported no '{self.name}' (no epoch ended, or it does not validate)")
        finite = [v for v in values if not math.isnan(v)]
        if not finite or math.isnan(values[-1]) and not self.best_epoch:
            raise NeuroFlowError(f"'{self.name}' is not a number (NaN): training diverged")
        if not self.best_epoch:
            return values[-1]
        return min(finite) if self.direction == "minimize" else max(finite)


def find_learner(workflow: Workflow) -> str:
    """The id of the workflow's one Network Learner."""
    learners = [nid for nid in workflow.topological_order() if workflow.nodes[nid].type_id == LEARNER]
    if not learners:
        raise NeuroFlowError("the workflow has no Network Learner: a sweep trains one")
    if len(learners) > 1:
        names = ", ".join(workflow.nodes[nid].title for nid in learners)
        raise NeuroFlowError(f"the workflow has {len(learners)} Network Learners ({names}); a sweep trains one")
    return learners[0]


def find_scorer(workflow: Workflow, learner: str) -> str | None:
    """The first Scorer downstream of ``learner`` (in execution order), if any."""
    below = workflow.downstream(learner)
    return next((nid for nid in workflow.topological_order()
                 if nid in below and workflow.nodes[nid].type_id == SCORER), None)


def validates(workflow: Workflow, learner: str) -> bool:
    item = workflow.nodes[learner]
    return "validation" in workflow.incoming(learner) or float(item.node["validation_split"]) > 0


def choose_metric(workflow: Workflow, learner: str, name: str | None) -> Metric:
    """The metric named ``name`` (``None``: the default), checked against what the workflow reports."""
    validating = validates(workflow, learner)
    scorer = find_scorer(workflow, learner)
    fallback = "val_accuracy" if validating else "accuracy"
    if name is None:
        name = "val_accuracy" if validating else TEST_ACCURACY if scorer else "accuracy"
    direction = "minimize" if "loss" in name else "maximize"
    if name == TEST_ACCURACY:
        if scorer is None:
            raise NeuroFlowError("--metric test_accuracy needs a Scorer downstream of the Network Learner")
        return Metric(name, direction, fallback, scorer)
    known = epoch_metrics(workflow, learner)
    if name not in known:
        offered = ", ".join([*known, *([TEST_ACCURACY] if scorer else [])])
        raise NeuroFlowError(f"--metric {name}: the Network Learner does not report it; it reports {offered}")
    return Metric(name, direction, name)


def epoch_metrics(workflow: Workflow, learner: str) -> list[str]:
    """The epoch metrics the learner reports with its current settings."""
    node = workflow.nodes[learner].node
    names = ["loss", "accuracy"]
    if node["top_k"]:
        names.append(f"top{node['top_k']}_accuracy")
    if node["lr_schedule"] != "constant":
        names.append("learning_rate")
    if validates(workflow, learner):
        names += [f"val_{n}" for n in names if n != "learning_rate"]
    return names
