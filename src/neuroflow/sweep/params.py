"""``--param NODE.SETTING=RANGE``: what a sweep varies, checked against the workflow's settings.

A spec names a node and setting exactly as ``--set`` does (the node by id or unambiguous label,
found by :meth:`Workflow.node`, the setting by the node type's declaration), and a range::

    log:LOW..HIGH              sampled on a log scale (a number setting; both bounds > 0)
    LOW..HIGH                  a float range, or an int range on an integer setting
    int:LOW..HIGH[:STEP]       explicit integer range (an integer setting)
    float:LOW..HIGH[:STEP]     explicit float range (a number setting)
    A,B,C                      values to choose from, each parsed by the setting itself

Every bound and value goes through the setting's own ``parse`` (so its range and choices apply,
with the setting's own message), before the first trial: a bad spec costs one line, not a
trial. Tuples such as a kernel size are written ``3x3,5x5``, as ``--set`` accepts them.

Optuna stores a categorical choice only as a number, text, boolean or null: a tuple choice is
kept under its text (``"3x3"``) and mapped back here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import NeuroFlowError, SettingError
from ..core.settings import FloatSetting, IntSetting, PathSetting, Setting, format_value

if TYPE_CHECKING:
    from ..core.workflow import Workflow

#: Kinds of parameter, as the ``study`` event names them.
KINDS = ("log", "int", "float", "choice")


@dataclass(frozen=True)
class Param:
    """One swept setting: where it is and what values it may take."""

    #: As the user wrote it before ``=``: ``learner.learning_rate``; the Optuna parameter name.
    name: str
    node_id: str
    setting: Setting
    kind: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    #: For ``choice``: Optuna's stored form of each value -> the setting value.
    choices: tuple[tuple[Any, Any], ...] = ()

    @property
    def integer(self) -> bool:
        return isinstance(self.setting, IntSetting)

    def describe(self) -> dict[str, Any]:
        """The parameter as the ``study`` event shows it."""
        if self.kind == "choice":
            return {"name": self.name, "kind": "choice",
                    "choices": [self.setting.to_json(value) for _, value in self.choices]}
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}
        if self.kind != "log":
            entry["step"] = self.step
        return entry

    def distribution(self) -> Any:
        """The Optuna distribution of this parameter."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution([stored for stored, _ in self.choices])
        if self.integer:
            return IntDistribution(int(self.low or 0), int(self.high or 0), log=self.kind == "log",
                                   step=int(self.step or 1))
        return FloatDistribution(float(self.low or 0), float(self.high or 0), log=self.kind == "log",
                                 step=self.step)

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this parameter; returns the setting value."""
        if self.kind == "choice":
            stored = trial.suggest_categorical(self.name, [stored for stored, _ in self.choices])
        elif self.integer:
            stored = trial.suggest_int(self.name, int(self.low or 0), int(self.high or 0),
                                       step=int(self.step or 1), log=self.kind == "log")
        else:
            stored = trial.suggest_float(self.name, float(self.low or 0), float(self.high or 0),
                                         step=self.step, log=self.kind == "log")
        return self.value(stored)

    def grid_values(self) -> list[Any] | None:
        """Every value, for the grid sampler; ``None`` for a continuous range."""
        if self.kind == "choice":
            return [stored for stored, _ in self.choices]
        if self.kind == "log" or self.step is None and not self.integer:
            return None
        assert self.low is not None and self.high is not None
        step = self.step or 1
        count = int(round((self.high - self.low) / step)) + 1
        if self.integer:
            return [int(self.low) + int(step) * k for k in range(count)]
        return [_tidy(self.low + step * k) for k in range(count)]

    def value(self, stored: Any) -> Any:
        """The setting value for a value Optuna sampled or stored."""
        if self.kind == "choice":
            for key, value in self.choices:
                if key == stored and type(key) is type(stored):
                    return value
            raise NeuroFlowError(f"--param {self.name}: the study holds the value {stored!r}, not one of its choices")
        return self.setting.validate(int(stored) if self.integer else float(stored))

    def json_value(self, stored: Any) -> Any:
        """The JSON form of the setting value for ``stored`` (what events and tables show)."""
        try:
            return self.setting.to_json(self.value(stored))
        except NeuroFlowError:
            return stored


def parse_param(workflow: Workflow, text: str) -> Param:
    """The :class:`Param` for one ``--param`` spec, or a :class:`SettingError` naming it."""
    shown = text if len(text) <= 100 else f"{text[:80]}... ({len(text):,} characters)"
    target, equals, spec = text.partition("=")
    node_key, dot, setting_name = target.rpartition(".")
    if not equals or not dot or not node_key or not setting_name or not spec.strip():
        raise SettingError(f"--param {shown!r}: expected NODE.SETTING=RANGE (e.g. learner.learning_rate=log:1e-4..1e-2)")
    try:
        item = workflow.node(node_key)
        setting = item.node.setting(setting_name)
        return _parse_range(target, item.id, setting, spec.strip())
    except SettingError as exc:
        raise SettingError(f"--param {shown}: {exc.bare_message}", setting=setting_name) from None
    except NeuroFlowError as exc:
        raise SettingError(f"--param {shown}: {exc}", setting=setting_name) from None


def _parse_range(name: str, node_id: str, setting: Setting, spec: str) -> Param:
    prefix, colon, rest = spec.partition(":")
    if colon and prefix in ("log", "int", "float"):
        return _numeric(name, node_id, setting, prefix, rest)
    if ".." in spec:
        return _numeric(name, node_id, setting, "int" if isinstance(setting, IntSetting) else "float", spec,
                        implicit=True)
    return _choice(name, node_id, setting, spec)


def _numeric(name: str, node_id: str, setting: Setting, kind: str, body: str, implicit: bool = False) -> Param:
    if not isinstance(setting, (IntSetting, FloatSetting)):
        raise SettingError(
            f"setting '{setting.name}' is {setting.describe()}, not a number: a range needs a number "
            "setting; list the values instead (A,B,C)")
    integer = isinstance(setting, IntSetting)
    if kind == "float" and integer and not implicit:
        raise SettingError(f"setting '{setting.name}' takes integers: use int:LOW..HIGH or LOW..HIGH")
    if kind == "int" and not integer:
        raise SettingError(f"setting '{setting.name}' takes numbers, not only integers: use float:LOW..HIGH "
                           "or LOW..HIGH")
    bounds, _, step_text = body.partition(":")
    low_text, dots, high_text = bounds.partition("..")
    if not dots or not low_text.strip() or not high_text.strip():
        raise SettingError(f"expected a range LOW..HIGH, got {body!r}")
    if kind == "log" and step_text:
        raise SettingError("a log range has no step")
    low, high = setting.parse(low_text), setting.parse(high_text)
    if low >= high:
        raise SettingError(f"the range {low_text.strip()}..{high_text.strip()} is empty: LOW must be below HIGH")
    if kind == "log" and low <= 0:
        raise SettingError(f"a log range needs bounds above 0, got {low_text.strip()}")
    step = _step(setting, step_text, low, high) if step_text else None
    if implicit or kind == "int":
        kind = "int" if integer else "float"
    if step is None and kind == "int":
        step = 1  # an integer range steps by one unless told otherwise
    return Param(name, node_id, setting, kind, low=low, high=high, step=step)


def _step(setting: Setting, text: str, low: float, high: float) -> float:
    integer = isinstance(setting, IntSetting)
    try:
        step: float = int(text) if integer else float(text)
    except ValueError:
        raise SettingError(f"the step {text!r} is not {'an integer' if integer else 'a number'}") from None
    if not math.isfinite(step) or step <= 0:
        raise SettingError(f"the step must be above 0, got {text!r}")
    count = (high - low) / step
    if abs(count - round(count)) > 1e-9 * max(1.0, count):
        raise SettingError(f"the step {text.strip()} does not divide the range {low:g}..{high:g} evenly")
    return step


def _choice(name: str, node_id: str, setting: Setting, spec: str) -> Param:
    choices: list[tuple[Any, Any]] = []
    for text in spec.split(","):
        if not text.strip():
            raise SettingError(f"empty value in the list {spec!r}")
        value = setting.parse(text)
        if isinstance(setting, PathSetting) and value.strip():
            import os

            value = os.path.abspath(os.path.expanduser(value.strip()))  # as --set takes a typed path
        stored = value if isinstance(value, (str, int, float, bool)) else format_value(value)
        if all(stored != known for known, _ in choices):
            choices.append((stored, value))
    return Param(name, node_id, setting, "choice", choices=tuple(choices))


def _tidy(value: float) -> float:
    """``0.30000000000000004`` as ``0.3``: grid values as a person would write them."""
    return float(f"{value:.12g}")
