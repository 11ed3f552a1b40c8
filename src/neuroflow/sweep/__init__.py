"""Parameter sweeps on Optuna: ``neuroflow sweep FILE --param NODE.SETTING=RANGE ...``.

Public API (the rest of this package is private)::

    from neuroflow.sweep import Sweep, SweepOptions

    sweep = Sweep(SweepOptions("study.workflow", ["learner.learning_rate=log:1e-4..1e-2"], trials=4))
    summary = sweep.run(print)      # events as dicts: study, trial, epoch, best, done

Headless: no Qt; Optuna is imported when a sweep opens its study and TensorFlow only when a
trial trains. Modules: :mod:`.params` (``--param`` specs), :mod:`.metric` (what is optimised),
:mod:`.trial` (one trial: a workflow run recorded in the run history, pruning by epoch),
:mod:`.engine` (the study, samplers, storage, events), :mod:`.command` (the command line).
"""

from __future__ import annotations

from .engine import Summary, Sweep, SweepOptions, default_storage

__all__ = ["Summary", "Sweep", "SweepOptions", "default_storage"]
