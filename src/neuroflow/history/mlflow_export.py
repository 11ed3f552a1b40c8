"""Pushing a run history to an MLflow tracking store (``neuroflow runs export FILE --mlflow [URI]``).

For teams that already collect experiments in MLflow: every run of the history becomes one MLflow
run in an experiment named after the workflow, with

* params: every setting the run recorded, flattened to ``node.setting`` (as ``--set`` names it),
  plus the seed; keys and values cut to MLflow's limits;
* metrics: each per-epoch metric with the epoch as its step, and the Scorer's scalar scores as
  ``test_<name>``;
* tags: the history's run id and workflow (how a second export recognises the run), label, star,
  stop reason, data fingerprint, devices and library versions;
* the model file as an artifact, when the run wrote one and it still exists.

Exporting again never duplicates: a run whose ``neuroflow.run_id`` and ``neuroflow.workflow``
tags are already in the experiment only gets its tags updated (label and star change; MLflow's
params cannot, and its metrics would be appended twice). A run still training is left for a later
export, when its curves are complete.

``mlflow`` is optional (``pip install neuroflow[mlflow]``; the light ``mlflow-skinny`` is enough
for a file store or a tracking server); it is imported only here, only when exporting.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import NeuroFlowError
from .compare import flat_settings

if TYPE_CHECKING:
    from .store import Run, RunStore

INSTALL_HINT = "pip install neuroflow[mlflow] (or just mlflow-skinny)"

#: MLflow's limits (mlflow.utils.validation), used when that module does not say.
PARAM_VALUE_LIMIT = 6000
TAG_VALUE_LIMIT = 8000
KEY_LIMIT = 250
#: Entities per ``log_batch`` call that every MLflow version accepts.
BATCH_METRICS, BATCH_PARAMS, BATCH_TAGS = 1000, 100, 100

RUN_ID_TAG = "neuroflow.run_id"
WORKFLOW_TAG = "neuroflow.workflow"


@dataclass
class ExportResult:
    """What an export did, for the one-line summary."""

    uri: str
    experiment: str
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  #: "run N: why"

    def summary(self) -> str:
        parts = [f"{len(self.created)} run{'s' * (len(self.created) != 1)} exported",
                 f"{len(self.updated)} already there (tags updated)"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped ({'; '.join(self.skipped)})")
        return f"MLflow {self.uri}, experiment {self.experiment!r}: " + ", ".join(parts)


def export_runs(store: RunStore, runs: Sequence[Run], uri: str | None, *,
                experiment: str | None = None) -> ExportResult:
    """Export ``runs`` (from a listing; curves are read here) to the tracking store at ``uri``
    (``None``: ``$MLFLOW_TRACKING_URI`` or MLflow's default)."""
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise NeuroFlowError(f"exporting to MLflow needs the mlflow package: {INSTALL_HINT}") from None
    shown = uri or mlflow.get_tracking_uri()
    if is_folder(str(shown)):
        # MLflow 3 refuses a folder ("file store") unless told it is wanted: a folder typed here,
        # or the ./mlruns MLflow's default picks because it exists, is wanted. It is also the
        # one local store mlflow-skinny can write.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    name = experiment or _experiment_name(runs)
    result = ExportResult(str(shown), name)
    if not runs:
        return result
    if str(shown).startswith("sqlite:") and importlib.util.find_spec("sqlalchemy") is None:
        raise NeuroFlowError(
            f"MLflow {shown}: an SQLite tracking store needs the full mlflow package (pip install mlflow); "
            "mlflow-skinny writes to a tracking server (http://...) or a folder (--mlflow ./mlruns)"
        )
    try:
        client = MlflowClient(tracking_uri=uri) if uri else MlflowClient()
        found = client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
        existing = _exported(client, experiment_id)
        for listed in reversed(runs):  # oldest first: MLflow lists them in the order they happened
            if listed.state == "running":
                result.skipped.append(f"run {listed.id}: still training")
                continue
            key = (str(listed.id), listed.workflow)
            if key in existing:
                client.log_batch(existing[key], tags=_as_tags(_tags(listed)))
                result.updated.append(listed.id)
                continue
            _create(client, experiment_id, store.get_run(listed.id))
            result.created.append(listed.id)
    except NeuroFlowError:
        raise
    except Exception as exc:  # MLflow's own errors: a bad URI, an unreachable server, a refused value
        raise NeuroFlowError(f"MLflow {shown}: {_one_line(exc)}") from None
    return result


def is_folder(uri: str) -> bool:
    """Whether ``uri`` names a folder (a plain path or ``file:``), not a database or a server."""
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", uri)
    return scheme is None or len(scheme.group(1)) == 1 or scheme.group(1).lower() == "file"  # C:\ is a path


def _create(client: Any, experiment_id: str, run: Run) -> None:
    from mlflow.entities import Metric, Param, RunStatus

    started = int(run.started * 1000)
    created = client.create_run(experiment_id, start_time=started, tags=_tags(run),
                                run_name=run.label or f"run {run.id}")
    mlflow_id = created.info.run_id
    params = [Param(_key(k), _cut(_text(v), _limit("MAX_PARAM_VAL_LENGTH", PARAM_VALUE_LIMIT)))
              for k, v in sorted(flat_settings(run).items())]
    if run.seed is not None:
        params.append(Param("seed", str(run.seed)))
    metrics = [Metric(_key(name), float(value), started, int(epoch))
               for name, points in sorted((run.curves or {}).items()) for epoch, value in points
               if not math.isnan(value)]
    metrics += [Metric(_key(f"test_{name}"), float(value), started, 0)
                for name, value in sorted((run.scores or {}).items()) if _is_number(value)]
    for chunk in _chunks(_unique_params(params), BATCH_PARAMS):
        client.log_batch(mlflow_id, params=chunk)
    for chunk in _chunks(metrics, BATCH_METRICS):
        client.log_batch(mlflow_id, metrics=chunk)
    if run.model_path and os.path.isfile(run.model_path):
        client.log_artifact(mlflow_id, run.model_path, artifact_path="model")
    ended = int((run.ended if run.ended is not None else run.started + (run.duration or 0)) * 1000)
    client.set_terminated(mlflow_id, status=RunStatus.to_string(_status(run)), end_time=ended)


def _exported(client: Any, experiment_id: str) -> dict[tuple[str, str], str]:
    """(history run id, workflow) -> MLflow run id, for every run an earlier export made."""
    found: dict[tuple[str, str], str] = {}
    token = None
    while True:
        page = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` != ''",
                                  max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            found[(tags.get(RUN_ID_TAG, ""), tags.get(WORKFLOW_TAG, ""))] = run.info.run_id
        token = page.token
        if not token:
            return found


def _tags(run: Run) -> dict[str, str]:
    limit = _limit("MAX_TAG_VAL_LENGTH", TAG_VALUE_LIMIT)
    tags = {
        RUN_ID_TAG: str(run.id),
        WORKFLOW_TAG: run.workflow,
        "neuroflow.label": run.label,
        "neuroflow.starred": "yes" if run.starred else "no",
        "neuroflow.stop_reason": run.stop_reason or run.state,
        "neuroflow.data_fingerprint": run.data_fingerprint or "",
        "neuroflow.devices": ", ".join(run.devices),
        "neuroflow.host": run.host or "",
    }
    tags.update({f"neuroflow.version.{_key(name)}": version for name, version in run.versions.items()})
    if run.model_path:
        tags["neuroflow.model_path"] = run.model_path
    return {_key(name): _cut(value, limit) for name, value in tags.items()}


def _as_tags(tags: dict[str, str]) -> list[Any]:
    from mlflow.entities import RunTag

    return [RunTag(name, value) for name, value in tags.items()]


def _status(run: Run) -> Any:
    from mlflow.entities import RunStatus

    reason = (run.stop_reason or "").lower()
    if run.state != "finished" or reason.startswith("failed"):
        return RunStatus.FAILED
    if reason.startswith("cancelled"):
        return RunStatus.KILLED
    return RunStatus.FINISHED


def _experiment_name(runs: Sequence[Run]) -> str:
    names = sorted({run.workflow_name for run in runs})
    return names[0] if len(names) == 1 else "neuroflow"


_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")


def _key(name: str) -> str:
    """A name MLflow accepts as a param, metric or tag key (letters, digits, _ - . space /)."""
    return _KEY_UNSAFE.sub("_", name)[:KEY_LIMIT] or "_"


def _unique_params(params: list[Any]) -> list[Any]:
    """One value per key: two settings that sanitise to the same key must not make MLflow refuse
    the batch (it refuses a param logged twice with different values)."""
    seen: dict[str, Any] = {}
    for param in params:
        seen.setdefault(param.key, param)
    return list(seen.values())


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _limit(name: str, default: int) -> int:
    try:
        from mlflow.utils import validation
    except ImportError:
        return default
    value = getattr(validation, name, default)
    return value if isinstance(value, int) and value > 0 else default


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "") if text else type(exc).__name__
