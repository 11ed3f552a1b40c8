"""The ``neuroflow`` command.

    neuroflow [FILE.workflow]               open the editor (with that workflow)
    neuroflow run FILE [--set NODE.SETTING=VALUE ...] [--report REPORT.json]
    neuroflow validate FILE                 configure every node, print a model summary
    neuroflow nodes [--details]             list the installed node types and their settings

Every error ends the command with one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .core.errors import NeuroFlowError, SettingError
from .core.settings import PathSetting
from .core.workflow import Workflow
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
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", help="configure every node and print a model summary")
    validate.add_argument("file", help="the .workflow file")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE")
    validate.set_defaults(handler=_validate)

    nodes = commands.add_parser("nodes", help="list the installed node types and their settings")
    nodes.add_argument("--brief", action="store_true", help="names only")
    nodes.set_defaults(handler=_nodes)
    return parser


_COMMANDS = ("run", "validate", "nodes")


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

    workflow = _load(options.file, options.overrides)
    problem = workflow.first_problem()
    if problem:
        raise NeuroFlowError(problem)
    progress = ConsoleProgress(workflow, stream=sys.stderr, enabled=not options.quiet)
    result = Executor(workflow, listener=progress).run()
    progress.close()
    print_summary(workflow, result, stream=sys.stdout)
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
