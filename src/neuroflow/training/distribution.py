"""Where training runs: the devices of this machine, or several machines, through ``tf.distribute``.

NeuroFlow puts training on TensorFlow's own engine for devices and clusters rather than
anything of its own:

* one device - the CPU, or the one GPU - trains as it always did (no strategy at all on a
  machine without GPUs, so nothing changes there);
* several GPUs (or, for tests, several logical CPU devices) train with ``MirroredStrategy``:
  every device holds a copy of the network and takes its share of each batch;
* several machines train with ``MultiWorkerMirroredStrategy``, set up by :func:`start_cluster`
  from ``--cluster``/``--task`` or TensorFlow's own ``TF_CONFIG`` before anything else touches
  TensorFlow; each worker trains on its share of every batch.

The batch size stays the *global* batch: with 2 devices each gets half of it. The learner
says so, and scales nothing behind the user's back.

Precision: ``float32``, or mixed precision (``mixed_float16``, fast on GPUs with Tensor Cores;
``mixed_bfloat16``, for recent CPUs and TPUs): the layers compute in 16 bits and keep float32
weights, and the network's last layer computes in float32 so that its probabilities stay
exact. Keras scales the loss for float16 itself.

Keras 3.15 and ``MultiWorkerMirroredStrategy`` do not work together out of the box
(tensorflow/tensorflow#72388): Keras reduces a data batch across workers just to learn its
shapes, and reduces scalar metrics over an axis they do not have. :func:`_patch_keras_for_workers`
fixes those two reductions while a cluster is in use; tests check that two workers end with
identical weights, so a Keras release that changes them is noticed.

TensorFlow is imported inside the functions only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuroflow.core.errors import ConfigureError, DataError, NeuroFlowError

DEVICE_MODES = ("auto", "cpu", "list")
DEVICE_LABELS = ("auto (every GPU; else the CPU)", "CPU only", "the devices listed")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
PRECISION_LABELS = ("float32", "mixed float16 (GPUs)", "mixed bfloat16")
#: Seconds without a heartbeat after which a worker counts as dead, and the others stop.
HEARTBEAT_TIMEOUT = 10
#: Seconds every worker of a cluster has to start and join before the run fails.
JOIN_TIMEOUT = 120

_DEVICE = re.compile(r"^(?:(cpu|gpu)\s*:?\s*)?(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Placement:
    """The strategy that trains, and what the user is told about it."""

    strategy: Any  # a tf.distribute.Strategy, or None for TensorFlow's default placement
    description: str  # "CPU", "1 GPU: NVIDIA A100", "2 GPUs, mirrored", "2 workers, ..."
    replicas: int = 1
    workers: int = 1
    worker_index: int = 0

    @property
    def is_chief(self) -> bool:
        return self.worker_index == 0

    @property
    def multi_worker(self) -> bool:
        return self.workers > 1

    def share(self, batch_size: int) -> str:
        """What each device gets of a batch, for the learner's message."""
        if self.replicas <= 1:
            return ""
        each, extra = divmod(batch_size, self.replicas)
        if extra == 0:
            return f"each of the {self.replicas} replicas gets {each} of the {batch_size} images of a batch"
        return (f"the {self.replicas} replicas share each batch of {batch_size} images "
                f"({each} or {each + 1} each)")


def parse_device_list(text: str) -> list[str]:
    """``"0,1"`` or ``"GPU:0, GPU:1"`` or ``"CPU:0,CPU:1"`` -> ``["GPU:0", "GPU:1"]`` (numbers are GPUs)."""
    devices = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _DEVICE.match(part)
        if match is None:
            raise ConfigureError(
                f"setting 'device_list': {part!r} is not a device; write GPU numbers (0,1) or names such as GPU:0, CPU:0"
            )
        kind = (match.group(1) or "gpu").upper()
        devices.append(f"{kind}:{int(match.group(2))}")
    if not devices:
        raise ConfigureError("setting 'device_list': no device listed; write GPU numbers such as 0,1")
    if len(set(devices)) != len(devices):
        raise ConfigureError(f"setting 'device_list': a device is listed twice ({', '.join(devices)})")
    return devices


def placement(mode: str, device_list: str = "") -> Placement:
    """The strategy for the learner's ``devices`` setting (a cluster, when started, wins)."""
    cluster = _cluster_placement()
    if cluster is not None:
        return cluster
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if mode == "cpu":  # on a machine without GPUs, exactly as NeuroFlow always trained
        return Placement(tf.distribute.OneDeviceStrategy("/cpu:0") if gpus else None, "CPU")
    if mode == "list":
        wanted = parse_device_list(device_list)
        available = {d.name.split("device:")[-1].upper(): d.name for d in tf.config.list_logical_devices()}
        missing = [d for d in wanted if d not in available]
        if missing:
            have = ", ".join(sorted(available)) or "none"
            raise DataError(
                f"setting 'device_list': {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                f"available on this machine (it has {have})"
            )
        names = [available[d] for d in wanted]
        if len(names) == 1:
            return Placement(tf.distribute.OneDeviceStrategy(names[0]), _describe(wanted))
        return Placement(tf.distribute.MirroredStrategy(names), _describe(wanted) + ", mirrored",
                         replicas=len(names))
    if len(gpus) > 1:
        return Placement(tf.distribute.MirroredStrategy([g.name for g in gpus]),
                         f"{len(gpus)} GPUs, mirrored{_gpu_model()}", replicas=len(gpus))
    # One GPU or none: TensorFlow's default placement (the GPU when there is one), as plain Keras.
    return Placement(None, f"1 GPU{_gpu_model()}" if gpus else "CPU")


def _describe(devices: Sequence[str]) -> str:
    kinds = {d.split(":")[0] for d in devices}
    if kinds == {"GPU"}:
        return f"{len(devices)} GPU{'s' if len(devices) != 1 else ''} ({', '.join(devices)}){_gpu_model()}"
    if kinds == {"CPU"} and len(devices) > 1:
        return f"{len(devices)} logical CPU devices"
    return ", ".join(devices)


def _gpu_model() -> str:
    """": NVIDIA A100-SXM4-40GB" for the first GPU, when TensorFlow can say."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return ""
    try:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
    except (ValueError, RuntimeError):
        name = ""
    return f": {name}" if name else ""


# -- precision -------------------------------------------------------------------------------------
class precision_policy:  # noqa: N801 - used as a context manager, like Keras's own scopes
    """Build layers under ``name`` (a Keras dtype policy), restoring the global policy after."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._previous: Any = None

    def __enter__(self) -> precision_policy:
        import keras

        self._previous = keras.config.dtype_policy()
        if self.name != "float32":
            keras.config.set_dtype_policy(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        import keras

        keras.config.set_dtype_policy(self._previous)


def precision_note(name: str, placement_: Placement) -> str:
    """A warning when the precision cannot pay off on these devices, else ``""``."""
    if name == "mixed_float16" and "GPU" not in placement_.description:
        return ("mixed float16 pays off on GPUs with Tensor Cores; on a CPU it trains slower than "
                "float32 (bfloat16 suits recent CPUs)")
    return ""


def unused_gpu_note() -> str:
    """A warning when this machine has an NVIDIA GPU that TensorFlow cannot use, else ``""``.

    The default install on Linux is ``tensorflow-cpu``; a user with a GPU should learn that
    from the first training, not from its speed.
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU") or not _nvidia_present():
        return ""
    if not tf.test.is_built_with_cuda():
        return ("this machine has an NVIDIA GPU but TensorFlow was installed without CUDA, so training "
                "runs on the CPU: install neuroflow[gpu] (README, 'GPUs and clusters')")
    return ("this machine has an NVIDIA GPU but TensorFlow cannot use it (driver or CUDA libraries "
            "missing?): `neuroflow devices` shows what TensorFlow sees")


def _nvidia_present() -> bool:
    return os.path.exists("/dev/nvidia0") or os.path.exists("/proc/driver/nvidia/version")


def machine_summary() -> list[str]:
    """What TensorFlow can train on here, one line each (``neuroflow devices``)."""
    import tensorflow as tf

    build = tf.sysconfig.get_build_info()
    cuda = f"built with CUDA {build.get('cuda_version', '?')}" if tf.test.is_built_with_cuda() else "CPU build"
    lines = [f"TensorFlow {tf.__version__} ({cuda})", f"CPU:0  {os.cpu_count() or '?'} cores"]
    for index, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (ValueError, RuntimeError):
            details = {}
        capability = details.get("compute_capability")
        extra = f" (compute capability {capability[0]}.{capability[1]})" if capability else ""
        lines.append(f"GPU:{index}  {details.get('device_name', 'GPU')}{extra}")
    if len(lines) == 2:
        lines.append("no GPU: training runs on the CPU")
    note = unused_gpu_note()
    if note:
        lines.append(f"note: {note}")
    return lines


# -- clusters --------------------------------------------------------------------------------------
_cluster: dict[str, Any] = {}


def cluster_config(addresses: str, task: int) -> dict[str, Any]:
    """TensorFlow's ``TF_CONFIG`` for ``--cluster HOST:PORT,... --task N`` (task 0 is the chief)."""
    workers = [a.strip() for a in addresses.split(",") if a.strip()]
    if len(workers) < 2:
        raise NeuroFlowError("--cluster: list at least two workers as HOST:PORT,HOST:PORT")
    for address in workers:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise NeuroFlowError(f"--cluster: {address!r} is not HOST:PORT")
    if not 0 <= task < len(workers):
        raise NeuroFlowError(f"--task: {task} is not a worker of the cluster (0 to {len(workers) - 1})")
    return {"cluster": {"worker": workers}, "task": {"type": "worker", "index": task}}


def config_from_environment() -> dict[str, Any] | None:
    """``TF_CONFIG`` as NeuroFlow reads it (worker jobs; a ``chief`` job counts as task 0)."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster = config["cluster"]
        task = config["task"]
    except (ValueError, KeyError, TypeError):
        raise NeuroFlowError("TF_CONFIG is not TensorFlow's cluster description "
                             '({"cluster": {"worker": [...]}, "task": {"type": "worker", "index": N}})') from None
    jobs = set(cluster) - {"chief", "worker"}
    if jobs:
        raise NeuroFlowError(f"TF_CONFIG: NeuroFlow trains with chief and worker tasks only, not {', '.join(sorted(jobs))}")
    return {"cluster": cluster, "task": task}


def start_cluster(config: dict[str, Any]) -> Placement:
    """Join the cluster ``config`` describes: once per process, before TensorFlow runs anything.

    Every worker must join within :data:`JOIN_TIMEOUT` seconds, and a worker that stops
    sending heartbeats for :data:`HEARTBEAT_TIMEOUT` seconds fails the run on the others.
    """
    if _cluster:
        return _cluster["placement"]
    from neuroflow.tf_quiet import quiet_tensorflow

    os.environ["TF_CONFIG"] = json.dumps(config)
    quiet_tensorflow("3")  # a stopped worker is reported in one line of ours, not TensorFlow's screenful
    import tensorflow as tf
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    jobs = config["cluster"]
    workers = sum(len(jobs[job]) for job in ("chief", "worker") if job in jobs)
    task = config["task"]
    index = int(task.get("index", 0)) + (1 if task.get("type") == "worker" and "chief" in jobs else 0)
    leader = "/job:chief/replica:0/task:0" if "chief" in jobs else "/job:worker/replica:0/task:0"
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=leader,
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(jobs[job]))
                          for job in ("chief", "worker") if job in jobs],
        cluster_register_timeout_in_ms=JOIN_TIMEOUT * 1000,
        heartbeat_timeout_in_ms=HEARTBEAT_TIMEOUT * 1000,
    )
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                timeout_seconds=JOIN_TIMEOUT),
        )
    except Exception as exc:
        raise NeuroFlowError(f"cannot join the cluster: {cluster_failure(exc)}") from None
    _patch_keras_for_workers()
    devices = strategy.extended.worker_devices
    kind = "GPU" if any("GPU" in d.upper() for d in devices) else "CPU"
    result = Placement(
        strategy,
        f"{workers} workers ({strategy.num_replicas_in_sync} {kind} replicas), multi-worker mirrored",
        replicas=strategy.num_replicas_in_sync, workers=workers, worker_index=index,
    )
    _cluster.update(placement=result, config=config)
    return result


def cluster_placement() -> Placement | None:
    """The cluster this process joined, if any."""
    return _cluster_placement()


def _cluster_placement() -> Placement | None:
    return _cluster.get("placement")


def cluster_failure(exc: BaseException) -> str:
    """A TensorFlow error of a cluster run as one line: which worker stopped, and what follows."""
    text = str(exc)
    config = _cluster.get("config") or config_from_environment() or {}
    lowered = text.lower()
    stopped = ("heartbeat" in lowered or "unhealthy" in lowered or "crashed" in lowered
               or "socket closed" in lowered or "connection reset" in lowered or "failed to connect" in lowered
               or "collective ops is aborted" in lowered)
    if stopped:
        tail = text[lowered.find("unhealthy"):] if "unhealthy" in lowered else text
        own = config.get("task", {})
        # TensorFlow may name this very task (it lost the coordination service): never blame it;
        # then a worker that is not the chief knows the chief's end is what it saw.
        named = [(job, int(task)) for job, task in re.findall(r"/job:(\w+)/replica:\d+/task:(\d+)", tail)
                 if (job, int(task)) != (own.get("type"), int(own.get("index", -1)))]
        if not named and own and (own.get("type"), int(own.get("index", 0))) != _chief_task(config):
            named = [_chief_task(config)]
        who = "a worker"
        if named:
            job, task = named[0]
            addresses = config.get("cluster", {}).get(job, [])
            where = f" ({addresses[task]})" if task < len(addresses) else ""
            who = f"{job} {task}{where}"
            if (job, task) == _chief_task(config):
                return (f"the chief, {who}, stopped (cancelled, failed or ended); training ended on "
                        "every worker")
        return f"{who} stopped responding; training ended on every worker"
    if "deadline" in lowered or "timed out" in lowered or "timeout" in lowered:
        return f"the workers did not all join or answer within {JOIN_TIMEOUT} s; are all of them started?"
    lines = [line.strip() for line in text.splitlines() if line.strip() and "Graph execution error" not in line
             and not line.strip().startswith(("File ", "Detected at node"))]
    return (lines[-1] if lines else type(exc).__name__)[:300]


def _chief_task(config: dict[str, Any]) -> tuple[str, int]:
    """The chief's (job, index): the chief job's task when there is one, else worker 0."""
    return ("chief", 0) if "chief" in config.get("cluster", {}) else ("worker", 0)


def is_cluster_error(exc: BaseException) -> bool:
    """True for a TensorFlow error while this process is part of a cluster (a broken cluster)."""
    return _cluster_placement() is not None and type(exc).__module__.startswith("tensorflow")


def _patch_keras_for_workers() -> None:
    """Fix Keras 3's two reductions that fail under ``MultiWorkerMirroredStrategy`` (see above)."""
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer, "_neuroflow_patched", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if not (trainer._collective_all_reduce_multi_worker(strategy) and reduction in ("mean", "auto")):
            return original(values, strategy, reduction)

        def one(value: Any) -> Any:
            if isinstance(value, tf.distribute.DistributedValues):
                rank = len(strategy.experimental_local_results(value)[0].shape)
            elif hasattr(value, "shape"):
                rank = len(value.shape)
            else:
                return value
            return strategy.reduce("MEAN", value, axis=None if rank == 0 else 0)

        return tree.map_structure(one, values)

    def maybe_symbolic_build(self: Any, iterator: Any = None, data_batch: Any = None) -> None:
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, batches in iterator:
                batch = next(batches)
                data_batch = tree.map_structure(
                    lambda v: self.distribute_strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues) else v, batch)
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    trainer.reduce_per_replica = reduce_per_replica
    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer._neuroflow_patched = True
