"""Distribution strategies by name, so scaling out is a flag, not code.

`get_strategy(name)` returns the `tf.distribute.Strategy` that `tfgan train
--strategy=NAME` trains under:

| name | strategy | devices |
|---|---|---|
| `default` | the default strategy | GPU:0 if present, else the CPU |
| `mirrored` | `MirroredStrategy` | all local GPUs, else all logical CPUs |
| `multi_worker` | `MultiWorkerMirroredStrategy` | every worker listed in `TF_CONFIG` |
| `tpu` | `TPUStrategy` | the TPU named by `$TPU_NAME` (default: the local TPU VM) |

The GAN must be built and compiled inside `strategy.scope()`;
`tfgan_app.training.train(preset, output_dir, strategy=...)` does that.
`GAN.train_step` reduces its losses over the global batch, so the same code is
correct on one device or many.

Multi-worker training reads the cluster from the `TF_CONFIG` environment
variable; `tf_config(addresses, index)` builds it and
`scripts/launch_workers.py` starts N local workers with it. Only the chief
(worker 0) writes the run folder; the other workers write theirs to
`<output_dir>/workers/worker_<index>` (`worker_output_dir`).

Example:
>>> use_logical_cpus(2)            # before TensorFlow touches a device: 2 CPU replicas
>>> strategy = get_strategy("mirrored")
>>> strategy.num_replicas_in_sync
2
>>> with strategy.scope():
...     gan = build_gan(preset, image_shape, num_classes)
"""

import json
import os
from typing import Any, Dict, Optional, Sequence, Tuple

import tensorflow as tf

from tfgan_app.errors import MissingResourceError, UsageError

from tfgan_app.names import STRATEGIES  # noqa: E402  (TF-free, for the CLI flags)
TF_CONFIG_ENV = "TF_CONFIG"


def use_logical_cpus(num: int) -> None:
    """Splits the CPU into `num` logical devices, so `mirrored` runs `num` replicas on one machine.

    Must run before TensorFlow initialises its devices (before any op or strategy is created).
    """
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise UsageError(f"The number of logical CPUs must be a positive integer, received {num!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num)
    except RuntimeError as e:
        raise UsageError(f"Cannot split the CPU into {num} logical devices: TensorFlow has already initialised "
                         "its devices. Call use_logical_cpus() at the start of the program, before any "
                         "TensorFlow op runs.") from e


def read_tf_config() -> Dict[str, Any]:
    """The validated `TF_CONFIG` of this process: `{"cluster": {"worker": [...]}, "task": {...}}`."""
    text = os.environ.get(TF_CONFIG_ENV)
    if not text:
        raise UsageError("--strategy=multi_worker needs the TF_CONFIG environment variable describing the cluster, "
                         "e.g. TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, "
                         "\"task\": {\"type\": \"worker\", \"index\": 0}}'. Set it on every worker, or start local "
                         "workers with scripts/launch_workers.py.")
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task_type, index = config["task"]["type"], int(config["task"]["index"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise UsageError(f"TF_CONFIG must be JSON with cluster.worker (a list of host:port) and task.type/index, "
                         f"received {text!r} ({e}).") from e
    if task_type not in ("worker", "chief") or not isinstance(workers, list) or not workers:
        raise UsageError(f"TF_CONFIG must list at least one worker and give task.type 'worker' (or 'chief'), "
                         f"received {text!r}.")
    if task_type == "worker" and not 0 <= index < len(workers):
        raise UsageError(f"TF_CONFIG task.index {index} is outside the {len(workers)} listed workers; use "
                         f"0..{len(workers) - 1}.")
    return config


def tf_config(worker_addresses: Sequence[str], index: int) -> str:
    """The `TF_CONFIG` JSON for worker `index` of a cluster of `worker_addresses` (`host:port`)."""
    if not 0 <= index < len(worker_addresses):
        raise UsageError(f"Worker index {index} is outside the {len(worker_addresses)} worker addresses.")
    return json.dumps({"cluster": {"worker": list(worker_addresses)}, "task": {"type": "worker", "index": index}})


def _tpu_strategy(tpu: Optional[str]) -> tf.distribute.Strategy:
    address = tpu or os.environ.get("TPU_NAME") or "local"
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise MissingResourceError(
            f"--strategy=tpu was requested but no TPU was found at {address!r} ({str(e).splitlines()[0]}). "
            "Run on a TPU VM, name the TPU in $TPU_NAME (in Python: get_strategy('tpu', tpu=NAME)), or use "
            "--strategy=default/mirrored.") from e
    return tf.distribute.TPUStrategy(resolver)


def get_strategy(name: str = "default", tpu: Optional[str] = None) -> tf.distribute.Strategy:
    """The `tf.distribute.Strategy` called `name` (one of `STRATEGIES`; see the module docstring).

    Args:
      name: `default`, `mirrored`, `multi_worker` or `tpu`.
      tpu: TPU name or `grpc://` address for `tpu` (default: `$TPU_NAME`, else the local TPU VM).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    if name == "multi_worker":
        read_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy(tpu)
    raise UsageError(f"Unknown strategy {name!r}. Valid strategies: {', '.join(STRATEGIES)}.")


def _multi_worker_task(strategy: tf.distribute.Strategy) -> Optional[Tuple[str, int, int]]:
    """(task type, task index, number of workers) under `MultiWorkerMirroredStrategy`, else None."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None
    resolver = strategy.cluster_resolver
    spec = resolver.cluster_spec()
    workers = sum(spec.num_tasks(job) for job in ("chief", "worker") if job in spec.jobs)
    if not workers:  # MultiWorkerMirroredStrategy without TF_CONFIG runs as a single local worker
        return None
    return resolver.task_type, int(resolver.task_id), workers


def num_workers(strategy: tf.distribute.Strategy) -> int:
    """How many worker processes train together (1 unless multi-worker)."""
    task = _multi_worker_task(strategy)
    return task[2] if task else 1


def task_name(strategy: tf.distribute.Strategy) -> str:
    """This process's task in the cluster, e.g. `worker_1` (`worker_0` unless multi-worker)."""
    task = _multi_worker_task(strategy)
    return f"{task[0]}_{task[1]}" if task else "worker_0"


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the process that writes the run folder: the only process, or the chief (else worker 0)."""
    task = _multi_worker_task(strategy)
    if task is None or task[0] == "chief":
        return True
    return task[1] == 0 and "chief" not in strategy.cluster_resolver.cluster_spec().jobs


def worker_output_dir(output_dir: str, strategy: tf.distribute.Strategy) -> str:
    """`output_dir` for the chief; `output_dir/workers/<task_name>` for the other workers.

    Every worker of a multi-worker run saves the same weights; giving the others
    their own folder keeps them from overwriting the chief's files.
    """
    return output_dir if is_chief(strategy) else os.path.join(output_dir, "workers", task_name(strategy))


def describe(strategy: tf.distribute.Strategy) -> str:
    """One line naming the strategy and its replicas, for logs."""
    try:
        devices = list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy places ops itself: on GPU:0 when there is one
        devices = [(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU"))[0].name]
    return f"{type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s) on {', '.join(devices)}"


def replica_context_info():
    """Returns (replica id as an int32 tensor, number of replicas in sync) for the current replica.

    In a cross-replica context (outside `strategy.run`) the id is 0 and the count is the current strategy's.
    Used by the GANs to split a global batch and to give each replica its own random streams.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context
        return tf.constant(0, tf.int32), tf.distribute.get_strategy().num_replicas_in_sync
    return tf.cast(ctx.replica_id_in_sync_group, tf.int32), ctx.num_replicas_in_sync
