"""What the Sweep dialog offers and sends, without Qt: sweepable settings, their pre-filled
ranges, the check of a typed row, the metric choices and the ``neuroflow sweep`` argument list.

The dialog never lets the user type a ``--param`` spec: it builds each one from a node, a
setting, a kind and bounds (or values) that were each checked here with the setting's own
parser, so what the sweep command receives is valid before it starts (the command checks again;
see the sweep contract). Numbers go out in Python's shortest exact form, so ``1e-4`` typed is
``0.0001`` sent and nothing is rounded on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroflow.core.errors import NeuroFlowError, SettingError
from neuroflow.core.settings import ChoiceSetting, FloatSetting, IntSetting, Setting
from neuroflow.core.workflow import Workflow

LEARNER_TYPE = "neuroflow.learning.learner"
SCORER_TYPE = "neuroflow.learning.scorer"

#: The three kinds a row can have, as (key, label shown in the dialog).
LOG, RANGE, VALUES = "log", "range", "values"
KIND_LABELS = {LOG: "log range", RANGE: "range", VALUES: "values"}
DEFAULT_TRIALS = 10
#: A float setting whose allowed values span this factor above its current value is swept on a
#: log scale by default (a learning rate of 0.001 up to 10), others linearly (a dropout rate).
LOG_SPAN = 100.0


@dataclass(frozen=True)
class Candidate:
    """One setting of one node that a sweep can vary."""

    node_id: str
    node_label: str
    setting: Setting

    @property
    def name(self) -> str:
        """The parameter's name in specs and events: ``node_id.setting``."""
        return f"{self.node_id}.{self.setting.name}"

    @property
    def title(self) -> str:
        return f"{self.node_label}: {self.setting.label}"

    @property
    def kinds(self) -> tuple[str, ...]:
        """Kinds that fit the setting: a log range only for positive floats, values for all."""
        s = self.setting
        if isinstance(s, ChoiceSetting):
            return (VALUES,)
        if isinstance(s, FloatSetting) and (s.maximum is None or s.maximum > 0) and (
                s.minimum is not None and s.minimum >= 0):
            return (LOG, RANGE, VALUES)
        return (RANGE, VALUES)


@dataclass(frozen=True)
class Row:
    """A row as typed: the kind and the text of its bounds or its values."""

    candidate: Candidate
    kind: str
    low: str = ""
    high: str = ""
    values: str = ""


@dataclass(frozen=True)
class Checked:
    """A row's spec (``node.setting=RANGE``) or the one-line reason it has none."""

    spec: str | None
    error: str = ""
    #: Which field the error is about: "low", "high" or "values" ("" when valid).
    field: str = ""


def is_sweepable(setting: Setting) -> bool:
    return isinstance(setting, (IntSetting, FloatSetting, ChoiceSetting))


def learners(workflow: Workflow) -> list[str]:
    return [nid for nid, item in workflow.nodes.items() if item.type_id == LEARNER_TYPE]


def candidates(workflow: Workflow, learner_id: str) -> list[Candidate]:
    """The numeric and choice settings of the learner and every node upstream of it, in the
    workflow's order (readers, layers, then the learner)."""
    wanted = workflow.upstream(learner_id) | {learner_id}
    found = []
    for node_id in workflow.topological_order(wanted):
        item = workflow.nodes[node_id]
        for setting in item.node.settings_spec:
            if is_sweepable(setting):
                found.append(Candidate(node_id, item.label, setting))
    return found


# -- numbers as text ----------------------------------------------------------------------------
def number_text(value: Any) -> str:
    """A setting value as the spec carries it: ints plainly, floats in their shortest exact form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _round(value: float) -> float:
    """Three significant digits: a pre-filled bound reads 0.0001, not 0.00010000000000000002."""
    return float(f"{value:.3g}") if value else 0.0


def prefill(candidate: Candidate, current: Any, kind: str | None = None) -> Row:
    """A sensible first row for ``candidate`` around its ``current`` value: a learning rate
    from a tenth to ten times it on a log scale, an integer from half to twice it, every choice.
    ``kind`` asks for that kind (when the user switches it); by default the one that suits."""
    s = candidate.setting
    if isinstance(s, ChoiceSetting):
        ordered = [current] + [c for c in s.choices if c != current]
        return Row(candidate, VALUES, values=",".join(ordered))
    low, high, suited = _bounds_around(candidate, current)
    kind = kind if kind in candidate.kinds else suited
    if kind == LOG and not 0 < low:
        low = _clip_float(s, _round(high / 100)) if isinstance(s, FloatSetting) else low
    if kind == VALUES:
        values = [low, current, high] if low < current < high else [low, high]
        return Row(candidate, VALUES, values=",".join(number_text(v) for v in values))
    return Row(candidate, kind, number_text(low), number_text(high))


def _bounds_around(candidate: Candidate, current: Any) -> tuple[Any, Any, str]:
    """Bounds around ``current`` within the setting's range, and the kind that suits them."""
    s = candidate.setting
    if isinstance(s, IntSetting):
        low, high = (max(current // 2, 1), current * 2) if current > 0 else (current, current + 4)
        low, high = _clip_int(s, low), _clip_int(s, high)
        if low >= high:
            low, high = _clip_int(s, current - 1), _clip_int(s, current + 1)
        return low, high, RANGE
    assert isinstance(s, FloatSetting)
    value = float(current)
    top = s.maximum
    if LOG in candidate.kinds and value > 0 and (top is None or top / value >= LOG_SPAN):
        return _clip_float(s, _round(value / 10)), _clip_float(s, _round(value * 10)), LOG
    if value > 0:
        low, high = _clip_float(s, _round(value / 2)), _clip_float(s, _round(value * 2))
    else:
        low = _clip_float(s, value)
        high = _clip_float(s, value + (min(1.0, top - value) if top is not None else 1.0))
    if low >= high:
        low, high = _clip_float(s, value), _clip_float(s, value + 1.0)
    return low, high, RANGE


def _clip_int(s: IntSetting, value: int) -> int:
    if s.minimum is not None:
        value = max(value, s.minimum)
    if s.maximum is not None:
        value = min(value, s.maximum)
    return int(value)


def _clip_float(s: FloatSetting, value: float) -> float:
    if s.maximum is not None:
        value = min(value, s.maximum)
    if s.minimum is not None:
        if s.exclusive_minimum and value <= s.minimum:
            value = _round(s.minimum + (s.maximum - s.minimum if s.maximum is not None else 1.0) / 1000)
        value = max(value, s.minimum)
    return value


# -- checking a row -----------------------------------------------------------------------------
def _reason(exc: Exception) -> str:
    """A setting's message without its "setting 'x': " prefix: the row already names it."""
    text = exc.bare_message if isinstance(exc, SettingError) else str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith("setting '") else text


def check(row: Row) -> Checked:
    """The row's spec, or why not, naming the field at fault."""
    s = row.candidate.setting
    if row.kind not in row.candidate.kinds:
        return Checked(None, f"a {KIND_LABELS.get(row.kind, row.kind)} does not fit this setting", "values")
    if row.kind == VALUES:
        parts = [p.strip() for p in row.values.split(",")]
        if not any(parts):
            return Checked(None, "type one value or more, separated by commas", "values")
        parsed: list[Any] = []
        for part in parts:
            if not part:
                return Checked(None, "an empty value between two commas", "values")
            try:
                value = s.parse(part)
            except SettingError as exc:
                return Checked(None, _reason(exc), "values")
            if value in parsed:
                return Checked(None, f"{number_text(value)} is listed twice", "values")
            parsed.append(value)
        return Checked(f"{row.candidate.name}={','.join(number_text(v) for v in parsed)}")
    bounds = []
    for field, text in (("low", row.low), ("high", row.high)):
        if not text.strip():
            return Checked(None, f"type the {'lowest' if field == 'low' else 'highest'} value", field)
        try:
            bounds.append(s.parse(text))
        except SettingError as exc:
            return Checked(None, _reason(exc), field)
    low, high = bounds
    if low >= high:
        return Checked(None, f"the lowest value ({number_text(low)}) must be below the highest "
                             f"({number_text(high)})", "high")
    if row.kind == LOG and low <= 0:
        return Checked(None, "a log range needs a lowest value above 0", "low")
    prefix = "log:" if row.kind == LOG else ""
    return Checked(f"{row.candidate.name}={prefix}{number_text(low)}..{number_text(high)}")


def check_all(rows: Sequence[Row]) -> list[Checked]:
    """Every row checked; a setting swept twice makes its later rows invalid."""
    results = []
    seen: set[str] = set()
    for row in rows:
        checked = check(row)
        if row.candidate.name in seen:
            checked = Checked(None, "this setting is swept in a row above already", "values")
        seen.add(row.candidate.name)
        results.append(checked)
    return results


# -- metric, storage, study ---------------------------------------------------------------------
def validates(workflow: Workflow, learner_id: str) -> bool:
    item = workflow.nodes[learner_id]
    return "validation" in workflow.incoming(learner_id) or item.node.settings.get("validation_split", 0) > 0


def scored(workflow: Workflow, learner_id: str) -> bool:
    return any(workflow.nodes[nid].type_id == SCORER_TYPE for nid in workflow.downstream(learner_id))


def default_metric(workflow: Workflow, learner_id: str) -> str:
    """The contract's rule: validation accuracy, else the Scorer's test accuracy, else accuracy."""
    if validates(workflow, learner_id):
        return "val_accuracy"
    if scored(workflow, learner_id):
        return "test_accuracy"
    return "accuracy"


def metrics(workflow: Workflow, learner_id: str) -> list[str]:
    """The metrics a study can optimise for this learner; the default first."""
    top_k = workflow.nodes[learner_id].node.settings.get("top_k", 0)
    epoch = ["accuracy", "loss"] + ([f"top{top_k}_accuracy"] if top_k else [])
    names = [f"val_{name}" for name in epoch] if validates(workflow, learner_id) else []
    names += epoch
    if scored(workflow, learner_id):
        names.append("test_accuracy")
    first = default_metric(workflow, learner_id)
    return [first] + [n for n in names if n != first]


def direction(metric: str) -> str:
    return "minimize" if "loss" in metric else "maximize"


def default_storage(workflow_path: str | Path | None, runs_dir: str = "") -> str:
    """The command's own default study storage (beside the run history, wherever that is)."""
    from neuroflow.sweep.engine import default_storage as command_default  # no Optuna, no TensorFlow

    return command_default(workflow_path, runs_dir or None)


def default_study(workflow_path: str | Path | None) -> str:
    return Path(workflow_path).stem if workflow_path else "untitled"


def check_storage(text: str) -> str:
    """Why ``text`` is not a storage URL ("" when it looks like one: the command connects)."""
    scheme, sep, rest = text.strip().partition("://")
    if not sep or not scheme or not rest:
        return "an RDB URL such as sqlite:///sweeps.sqlite or postgresql://host/db"
    if any(ch.isspace() for ch in text.strip()):
        return "a URL has no spaces"
    return ""


def check_study(text: str) -> str:
    if not text.strip():
        return "name the study"
    if any(ord(ch) < 32 for ch in text):
        return "a study name holds no control characters"
    return ""


@dataclass(frozen=True)
class SweepForm:
    """Everything the dialog's form says, ready to become a command line."""

    workflow_path: Path
    specs: tuple[str, ...]
    trials: int = DEFAULT_TRIALS
    sampler: str = "tpe"
    prune: bool = False
    metric: str = "val_accuracy"
    storage: str = ""
    study: str = ""
    #: The history folder the editor records into (empty: the default place beside the workflow).
    runs_dir: str = ""


def arguments(form: SweepForm) -> list[str]:
    """The ``sweep`` command's arguments after the program (``sweep FILE --json ...``).

    ``--storage`` and ``--study`` go out only when they differ from the contract's defaults, so
    the command's own rule decides where an untouched study lives."""
    args = ["sweep", str(form.workflow_path), "--json"]
    for spec in form.specs:
        args += ["--param", spec]
    args += ["--trials", str(form.trials), "--sampler", form.sampler]
    if form.prune:
        args.append("--prune")
    args += ["--metric", form.metric]
    if form.runs_dir:
        args += ["--runs-dir", form.runs_dir]
    if form.storage.strip() and form.storage.strip() != default_storage(form.workflow_path, form.runs_dir):
        args += ["--storage", form.storage.strip()]
    if form.study.strip() and form.study.strip() != default_study(form.workflow_path):
        args += ["--study", form.study.strip()]
    return args


# -- applying a trial ---------------------------------------------------------------------------
def trial_changes(workflow: Workflow, params: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """A trial's params as (node id, setting, value) changes of ``workflow``, each value read
    from its JSON form by the setting's own validation. Raises :class:`NeuroFlowError` naming the
    first parameter that no longer fits the workflow (a node deleted, a value out of range)."""
    changes = []
    for name, value in params.items():
        key, dot, setting_name = str(name).rpartition(".")
        if not dot:
            raise NeuroFlowError(f"parameter '{name}' names no node (expected node.setting)")
        item = workflow.node(key)
        try:
            declared = item.node.setting(setting_name)
            changes.append((item.id, setting_name, declared.validate(value)))
        except SettingError as exc:
            raise NeuroFlowError(f"{item.label}: {exc.bare_message}") from None
    return changes


def param_labels(workflow: Workflow, names: Iterable[str], short_for: str = "") -> dict[str, str]:
    """Column titles for parameter names: ``Dense 100: Units`` where the node is still there,
    the setting's label alone for the node ``short_for`` (the learner: "Learning rate")."""
    labels = {}
    for name in names:
        key, _, setting_name = name.rpartition(".")
        try:
            item = workflow.node(key)
            label = item.node.setting(setting_name).label
            labels[name] = label if item.id == short_for else f"{item.label}: {label}"
        except NeuroFlowError:
            labels[name] = name
    return labels
