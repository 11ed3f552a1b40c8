"""The ``neuroflow`` command.

    neuroflow [FILE.workflow]               open the editor (with that workflow)
    neuroflow run FILE [--set NODE.SETTING=VALUE ...] [--report REPORT.json]
    neuroflow validate FILE                 configure every node, print a model summary
    neuroflow nodes [--details]             list the installed node types and their settings
    neuroflow runs FILE [--show ID | --compare ID ID ...]   the workflow's run history
    neuroflow import MODEL.keras|MODEL.h5 --out FILE.workflow [--weights]   a model as nodes

Every error ends the command with one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .codegen.command import add_parser as add_export_parser
from .core.errors import NeuroFlowError, SettingError
from .core.settings import PathSetting
from .core.workflow import Workflow
from .sweep.command import add_parser as add_sweep_parser
from .tf_quiet import quiet_tensorflow

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    quiet_tensorflow()  # before anything imports TensorFlow: its start-up lines are noise here
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in _COMMANDS and not args[0].startswith("-")):
        return _open_editor(args[0] if args else None)
    parser = _parser()
    options = parser.parse_args(args)
    try:
        return int(options.handler(options))
    except NeuroFlowError as exc:
        print(f"neuroflow: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("neuroflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `neuroflow validate FILE | head`: the reader has gone, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuroflow",
        description="Codeless deep learning: run, validate and inspect .workflow files. "
        "Without a command, opens the editor.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute a workflow headless")
    run.add_argument("file", help="the .workflow file")
    run.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE",
        help="override a setting; NODE is a node id or label (repeatable)",
    )
    run.add_argument("--report", metavar="REPORT.json", help="write a JSON report of the run")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--runs-dir", metavar="FOLDER",
                     help="keep the run history in FOLDER instead of beside the workflow "
                          "($NEUROFLOW_RUNS_DIR works too)")
    run.add_argument("--no-history", action="store_true",
                     help="do not record this run in the run history")
    run.add_argument("--cluster", metavar="HOST:PORT,HOST:PORT,...",
                     help="train on several machines: every worker's address, the same list on each "
                          "(TensorFlow's TF_CONFIG variable works too)")
    run.add_argument("--task", type=int, default=None, metavar="N",
                     help="with --cluster: this worker's place in the list; task 0 is the chief, which "
                          "writes the model, report and outputs")
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", help="configure every node and print a model summary")
    validate.add_argument("file", help="the .workflow file")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE")
    validate.set_defaults(handler=_validate)

    nodes = commands.add_parser("nodes", help="list the installed node types and their settings")
    nodes.add_argument("--brief", action="store_true", help="names only")
    nodes.set_defaults(handler=_nodes)

    devices = commands.add_parser("devices", help="what TensorFlow can train on here: CPU, GPUs, CUDA build")
    devices.set_defaults(handler=_devices)

    from .history.command import add_parser as add_runs_parser

    add_runs_parser(commands)
    add_sweep_parser(commands)
    add_export_parser(commands)
    from .import_command import add_parser as add_import_parser

    add_import_parser(commands)
    return parser


_COMMANDS = ("run", "validate", "nodes", "devices", "runs", "sweep", "import", "export")


def _load(path: str, overrides: list[str]) -> Workflow:
    from .core.fileformat import load

    workflow = load(path)
    for text in overrides:
        apply_override(workflow, text)
    return workflow


def apply_override(workflow: Workflow, text: str) -> None:
    """Apply one ``NODE.SETTING=VALUE`` override, parsing VALUE by the setting's type."""
    target, equals, value = text.partition("=")
    node_key, dot, setting_name = target.rpartition(".")
    shown = text if len(text) <= 100 else f"{text[:80]}... ({len(text):,} characters)"
    if not equals or not dot or not node_key or not setting_name:
        raise SettingError(f"--set {shown!r}: expected NODE.SETTING=VALUE")
    try:
        item = workflow.node(node_key)
        setting = item.node.setting(setting_name)
        parsed = setting.parse(value)
        if isinstance(setting, PathSetting) and parsed.strip():
            # Typed on the command line, a relative path means the current folder, as in any
            # command; saved in the workflow it would mean the workflow's folder.
            parsed = os.path.abspath(os.path.expanduser(parsed.strip()))
        workflow.set_setting(item.id, setting_name, parsed)
    except SettingError as exc:
        raise SettingError(f"--set {shown}: {exc.bare_message}", setting=setting_name) from None
    except NeuroFlowError as exc:
        raise SettingError(f"--set {shown}: {exc}", setting=setting_name) from None


def _run(options: argparse.Namespace) -> int:
    from .core.executor import Executor
    from .reporting import ConsoleProgress, build_report, print_summary, write_report

    cluster = _join_cluster(options)  # before anything touches TensorFlow
    workflow = _load(options.file, options.overrides)
    problem = workflow.first_problem()
    if problem:
        raise NeuroFlowError(problem)
    progress = ConsoleProgress(workflow, stream=sys.stderr, enabled=not options.quiet)
    if cluster is not None and not cluster.is_chief:
        return _run_worker(workflow, cluster, progress)
    with _history(options, workflow) as recorder:
        listeners = [progress] if recorder is None else [progress, recorder]
        result = Executor(workflow, listener=lambda event: [listen(event) for listen in listeners]).run()
        progress.close()
    print_summary(workflow, result, stream=sys.stdout)
    if recorder is not None:
        _say_recorded(recorder)
    if cluster is not None:
        _print_weights(workflow, cluster)
    if options.report:
        write_report(Path(options.report), build_report(workflow, result, source=options.file))
        print(f"report written to {options.report}")
    if result.cancelled:
        return 130
    if not result.ok:
        first = next(iter({**result.not_configured, **result.failed}.items()), None)
        if first:
            node = workflow.nodes[first[0]]
            print(f"neuroflow: error: {node.title}: {first[1]}", file=sys.stderr)
        return EXIT_FAILED
    return 0


@contextmanager
def _history(options: argparse.Namespace, workflow: Workflow) -> Iterator[Any]:
    """A recorder of this run's trainings in the workflow's run history, or None with
    ``--no-history``. A history that cannot be opened is a warning, not a reason not to train."""
    from .history import RunRecorder, default_store_path, open_store

    if options.no_history:
        yield None
        return
    path = default_store_path(Path(options.file).resolve(), folder=options.runs_dir)
    try:
        store = open_store(path)
    except NeuroFlowError as exc:
        print(f"neuroflow: warning: this run is not recorded: {exc}", file=sys.stderr)
        yield None
        return
    with store:
        yield RunRecorder(store, workflow, workflow_path=Path(options.file).resolve())


def _say_recorded(recorder: Any) -> None:
    if recorder.problem:
        print(f"neuroflow: warning: the run history is incomplete: {recorder.problem}", file=sys.stderr)
    for run_id in recorder.runs.values():
        print(f"run {run_id} recorded in {recorder.store.path}")


def _join_cluster(options: argparse.Namespace) -> Any:
    """The cluster placement when ``--cluster``/``--task`` or ``TF_CONFIG`` ask for one, else None."""
    from .training.distribution import cluster_config, config_from_environment, start_cluster

    if options.cluster is None and options.task is not None:
        raise NeuroFlowError("--task goes with --cluster")
    if options.cluster is not None:
        if options.task is None:
            raise NeuroFlowError("--cluster needs --task N: this worker's place in the list (0 is the chief)")
        config = cluster_config(options.cluster, options.task)
    else:
        config = config_from_environment()
    if config is None:
        return None
    # A worker that stops makes the others fail with one line of ours, not TensorFlow's screenful.
    quiet_tensorflow("3")
    place = start_cluster(config)
    role = "the chief: it writes the results" if place.is_chief else "it trains and writes nothing"
    print(f"neuroflow: worker {place.worker_index} of {place.workers} ({role}); {place.description}",
          file=sys.stderr)
    return place


def _run_worker(workflow: Workflow, cluster: Any, progress: Any) -> int:
    """A worker other than the chief: run what training needs, train, and stop there."""
    from .core.executor import Executor

    learners = [nid for nid, item in workflow.nodes.items() if item.type_id == "neuroflow.learning.learner"]
    if not learners:
        print(f"neuroflow: worker {cluster.worker_index}: nothing to train; the chief runs the workflow")
        return 0
    result = Executor(workflow, listener=progress).run(targets=learners)
    progress.close()
    if result.cancelled:
        return 130
    if not result.ok:
        nid, message = next(iter({**result.not_configured, **result.failed}.items()))
        print(f"neuroflow: error: {workflow.nodes[nid].title}: {message}", file=sys.stderr)
        return EXIT_FAILED
    _print_weights(workflow, cluster)
    print(f"neuroflow: worker {cluster.worker_index}: training done; the chief (task 0) writes the model, "
          "report and scores")
    return 0


def _print_weights(workflow: Workflow, cluster: Any) -> None:
    """A checksum of every trained network's weights: equal on all workers of a healthy run."""
    import hashlib

    from .core.data import TrainedModel

    for item in workflow.nodes.values():
        trained = (item.outputs or {}).get("model")
        if isinstance(trained, TrainedModel):
            digest = hashlib.sha256(b"".join(w.tobytes() for w in trained.model.get_weights())).hexdigest()
            print(f"neuroflow: worker {cluster.worker_index}: {item.title} weights sha256 {digest[:16]}")


def _devices(options: argparse.Namespace) -> int:
    from .training.distribution import machine_summary

    print("\n".join(machine_summary()))
    return 0


def _validate(options: argparse.Namespace) -> int:
    from .reporting import print_network_summaries

    workflow = _load(options.file, options.overrides)
    problem = workflow.first_problem()
    print_network_summaries(workflow, stream=sys.stdout)
    if problem:
        raise NeuroFlowError(problem)
    print(f"{options.file}: valid ({len(workflow.nodes)} nodes, {len(workflow.connections)} connections)")
    for nid in workflow.topological_order():
        item = workflow.nodes[nid]
        if item.node.note:  # e.g. a dataset that running will download first
            print(f"note: {item.title}: {item.node.note}")
    return 0


def _nodes(options: argparse.Namespace) -> int:
    from .core.registry import default_registry
    from .core.settings import format_value

    registry = default_registry()
    for category, types in registry.categories().items():
        print(f"{category}")
        for node_type in types:
            print(f"  {node_type.name:<26} {node_type.type_id}  (v{node_type.version})")
            if options.brief:
                continue
            ports_in = ", ".join(f"{p.name}: {p.type.label}{' (optional)' if p.optional else ''}" for p in node_type.inputs)
            ports_out = ", ".join(f"{p.name}: {p.type.label}" for p in node_type.outputs)
            print(f"      in:  {ports_in or '-'}")
            print(f"      out: {ports_out or '-'}")
            for setting in node_type.settings_spec:
                print(
                    f"      {setting.name:<20} {setting.describe():<34} default {format_value(setting.default)}"
                )
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def _open_editor(path: str | None) -> int:
    if path is not None and not Path(path).exists():
        print(f"neuroflow: error: {path}: file not found", file=sys.stderr)
        return EXIT_FAILED
    if not _display_available():
        target = path or "the editor"
        if path is None:
            print("neuroflow: no display available; use 'neuroflow run FILE' to run a workflow headless",
                  file=sys.stderr)
            return EXIT_FAILED
        print(f"neuroflow: no display available, running {target} headless instead", file=sys.stderr)
        return main(["run", path])
    from .gui.app import launch

    return int(launch(path))


def _display_available() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


if __name__ == "__main__":
    sys.exit(main())
