"""Training on several devices and several machines, through tf.distribute.

This machine has no GPU: several devices are two *logical* CPU devices (configured before
TensorFlow starts, so those runs are subprocesses), and several machines are two worker
processes on 127.0.0.1. What a real GPU or a real network adds (speed, NCCL, float16 Tensor
Cores) is not tested here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from neuroflow.cli import main
from neuroflow.core.errors import ConfigureError, NeuroFlowError
from neuroflow.training.distribution import cluster_config, config_from_environment, parse_device_list

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
SAMPLE = ["--set", "MNIST train.limit=2000", "--set", "MNIST test.limit=500", "--set", "learner.epochs=2"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def env() -> dict[str, str]:
    """The environment of a user who set nothing: NeuroFlow decides how quiet TensorFlow is."""
    variables = dict(os.environ, PYTHONUNBUFFERED="1")
    variables.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return variables


# -- settings and arguments -------------------------------------------------------------------------
def test_device_lists_are_parsed_and_bad_ones_refused() -> None:
    assert parse_device_list("0, 1") == ["GPU:0", "GPU:1"]
    assert parse_device_list("gpu:2,CPU:0") == ["GPU:2", "CPU:0"]
    with pytest.raises(ConfigureError, match="'tpu:0' is not a device"):
        parse_device_list("tpu:0")
    with pytest.raises(ConfigureError, match="listed twice"):
        parse_device_list("0,GPU:0")


def test_cluster_arguments_and_tf_config_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    config = cluster_config("10.0.0.1:2222, 10.0.0.2:2222", 1)
    assert config == {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 1}}
    with pytest.raises(NeuroFlowError, match="--task: 2 is not a worker of the cluster"):
        cluster_config("a:1,b:2", 2)
    with pytest.raises(NeuroFlowError, match="'b' is not HOST:PORT"):
        cluster_config("a:1,b", 0)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(NeuroFlowError, match="TF_CONFIG is not TensorFlow's cluster description"):
        config_from_environment()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {}}))
    with pytest.raises(NeuroFlowError, match="chief and worker tasks only, not ps"):
        config_from_environment()


def test_task_without_cluster_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(FLAGSHIP), "--task", "1"]) == 1
    assert capsys.readouterr().err.strip() == "neuroflow: error: --task goes with --cluster"


def test_a_device_this_machine_lacks_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(FLAGSHIP), "--quiet", *SAMPLE, "--set", "learner.devices=list",
                 "--set", "learner.device_list=GPU:3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("neuroflow: error: 'Network Learner' (learner): setting 'device_list': GPU:3 is not "
                              "available on this machine (it has CPU:0")


def test_older_learners_train_where_they_always_did() -> None:
    from neuroflow.core import fileformat

    raw = json.loads(FLAGSHIP.read_text())
    learner = next(n for n in raw["nodes"] if n["id"] == "learner")
    learner["version"] = 3
    for name in ("devices", "device_list", "precision"):
        learner["settings"].pop(name)
    node = fileformat.loads(json.dumps(raw)).nodes["learner"].node
    assert (node["devices"], node["precision"]) == ("auto", "float32")


@pytest.mark.slow
def test_mixed_bfloat16_trains_with_a_float32_output(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    assert main(["run", str(FLAGSHIP), "--quiet", *SAMPLE, "--set", "learner.precision=mixed_bfloat16",
                 "--set", f"writer.path={tmp_path / 'm.keras'}", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["training"]["learner"]["precision"] == "mixed_bfloat16"
    assert data["scores"]["scorer"]["accuracy"] > 0.6
    import keras

    model = keras.saving.load_model(str(tmp_path / "m.keras"))
    assert model.layers[1].dtype_policy.name == "mixed_bfloat16"
    assert model.layers[-1].dtype_policy.name == "float32"


# -- several devices: two logical CPUs ---------------------------------------------------------------
@pytest.mark.slow
def test_two_mirrored_devices_reach_the_accuracy_of_one(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, os
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from neuroflow.core import fileformat
        from neuroflow.core.executor import Executor
        found = {{}}
        for name, settings in (("one", {{}}), ("two", {{"devices": "list", "device_list": "CPU:0,CPU:1"}})):
            workflow = fileformat.load({str(FLAGSHIP)!r})
            workflow.set_setting("train_reader", "limit", 3000)
            workflow.set_setting("test_reader", "limit", 1000)
            workflow.set_setting("learner", "epochs", 2)
            workflow.set_setting("writer", "path", {str(tmp_path)!r} + f"/{{name}}.keras")
            for key, value in settings.items():
                workflow.set_setting("learner", key, value)
            result = Executor(workflow).run()
            assert result.ok, result
            trained = workflow.nodes["learner"].outputs["model"]
            predictions = workflow.nodes["executor"].outputs["predictions"]
            found[name] = {{"accuracy": workflow.nodes["scorer"].outputs["scores"].accuracy,
                           "devices": trained.devices, "predicted": len(predictions.predicted),
                           "strategy": type(trained.model.distribute_strategy).__name__}}
        print("RESULT " + json.dumps(found))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env(), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    one, two = found["one"], found["two"]
    assert one["devices"] == "CPU"
    assert two["devices"] == ("2 logical CPU devices, mirrored; each of the 2 replicas gets 64 of the 128 "
                              "images of a batch")
    assert two["strategy"] == "MirroredStrategy"  # the executor predicted under it too
    assert one["predicted"] == two["predicted"] == 1000
    assert abs(one["accuracy"] - two["accuracy"]) <= 0.02, found


# -- several machines: two workers on 127.0.0.1 ------------------------------------------------------
def start_worker(task: int, ports: list[int], folder: Path, *extra: str) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    cluster = ",".join(f"127.0.0.1:{port}" for port in ports)
    command = [sys.executable, "-m", "neuroflow", "run", str(FLAGSHIP), "--quiet", "--cluster", cluster,
               "--task", str(task), *SAMPLE, "--set", f"writer.path={folder / 'model.keras'}", *extra]
    return subprocess.Popen(command, cwd=folder, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def checksum(output: str) -> str:
    line = next(line for line in output.splitlines() if "weights sha256" in line)
    return line.rsplit(" ", 1)[-1]


@pytest.mark.slow
def test_two_workers_train_together_and_only_the_chief_writes(tmp_path: Path) -> None:
    ports = free_ports(2)
    chief = start_worker(0, ports, tmp_path / "chief", "--report", str(tmp_path / "chief" / "report.json"))
    other = start_worker(1, ports, tmp_path / "other")
    outputs = [process.communicate(timeout=300) for process in (chief, other)]
    assert chief.returncode == 0, outputs[0][1][-2000:]
    assert other.returncode == 0, outputs[1][1][-2000:]
    report = json.loads((tmp_path / "chief" / "report.json").read_text())
    assert report["scores"]["scorer"]["count"] == 500 and report["scores"]["scorer"]["accuracy"] > 0.6
    assert report["training"]["learner"]["devices"].startswith("2 workers (2 CPU replicas), multi-worker mirrored")
    assert (tmp_path / "chief" / "model.keras").is_file()
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == []  # writes nothing at all
    assert checksum(outputs[0][0]) == checksum(outputs[1][0])  # both end with the same weights
    assert "training done; the chief (task 0) writes" in outputs[1][0]


def two_workers_training(tmp_path: Path) -> tuple[list[int], subprocess.Popen[str], subprocess.Popen[str]]:
    """A chief and a worker on a long training, both joined and training when this returns."""
    ports = free_ports(2)
    long_run = ["--set", "learner.epochs=500", "--set", "learner.batch_size=16"]
    chief = start_worker(0, ports, tmp_path / "chief", *long_run)
    other = start_worker(1, ports, tmp_path / "other", *long_run)
    time.sleep(20)
    assert chief.poll() is None and other.poll() is None
    return ports, chief, other


@pytest.mark.slow
def test_a_worker_that_dies_fails_the_other_in_one_line_within_a_minute(tmp_path: Path) -> None:
    ports, chief, other = two_workers_training(tmp_path)
    other.send_signal(signal.SIGKILL)
    killed = time.perf_counter()
    _out, err = chief.communicate(timeout=90)
    waited = time.perf_counter() - killed
    errors = [line for line in err.splitlines() if line.startswith("neuroflow: error:")]
    assert chief.returncode == 1 and waited < 60, (waited, err[-2000:])
    assert errors == [f"neuroflow: error: 'Network Learner' (learner): worker 1 (127.0.0.1:{ports[1]}) stopped "
                      "responding; training ended on every worker"]
    assert len(err.strip().splitlines()) == 2, err  # the worker line and the error: nothing of TensorFlow's


@pytest.mark.slow
def test_cancel_on_the_chief_stops_every_worker(tmp_path: Path) -> None:
    ports, chief, other = two_workers_training(tmp_path)
    chief.send_signal(signal.SIGINT)  # Ctrl+C in the chief's terminal
    cancelled = time.perf_counter()
    _out, other_err = other.communicate(timeout=90)
    waited = time.perf_counter() - cancelled
    chief.communicate(timeout=60)
    assert chief.returncode == 130
    assert other.returncode == 1 and waited < 60, (waited, other_err[-2000:])
    errors = [line for line in other_err.splitlines() if line.startswith("neuroflow: error:")]
    assert errors == [f"neuroflow: error: 'Network Learner' (learner): the chief, worker 0 (127.0.0.1:{ports[0]}), "
                      "stopped (cancelled, failed or ended); training ended on every worker"]
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


# -- what this machine can train on ----------------------------------------------------------------
def test_devices_lists_what_tensorflow_sees(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("TensorFlow 2.") and lines[1].startswith("CPU:0  ")
    assert "no GPU: training runs on the CPU" in lines  # this machine has none


def test_a_gpu_that_tensorflow_cannot_use_is_pointed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.training import distribution

    monkeypatch.setattr(distribution, "_nvidia_present", lambda: False)
    assert distribution.unused_gpu_note() == ""
    monkeypatch.setattr(distribution, "_nvidia_present", lambda: True)
    assert "install neuroflow[gpu]" in distribution.unused_gpu_note()  # the CPU build is installed here


def test_a_worker_never_blames_itself_for_a_broken_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.training import distribution

    config = cluster_config("127.0.0.1:1000,127.0.0.1:1001", 1)
    monkeypatch.setitem(distribution._cluster, "config", config)
    own = RuntimeError("unhealthy: this task /job:worker/replica:0/task:1 lost its heartbeat to the service")
    assert distribution.cluster_failure(own) == (
        "the chief, worker 0 (127.0.0.1:1000), stopped (cancelled, failed or ended); training ended on every worker")
    other = RuntimeError("unhealthy task /job:worker/replica:0/task:0: no heartbeat")
    assert distribution.cluster_failure(other).startswith("the chief, worker 0 (127.0.0.1:1000), stopped")
    monkeypatch.setitem(distribution._cluster, "config", cluster_config("127.0.0.1:1000,127.0.0.1:1001", 0))
    gone = RuntimeError("unhealthy task /job:worker/replica:0/task:1: heartbeat timeout")
    assert distribution.cluster_failure(gone) == (
        "worker 1 (127.0.0.1:1001) stopped responding; training ended on every worker")
