"""Strategy selection, TF_CONFIG handling, the new `tfgan train` flags and mixed precision.

Fast, in-process tests (no device reconfiguration: the 2-replica tests live in
test_distribute_parity.py and test_distribute_multiworker.py, in subprocesses).
`write_images` / `write_tiny_preset` are shared with the other distribute and
fault-tolerance test modules.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_app import distribute, presets, training
from tfgan_app.cli import train as train_cli
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError


def write_images(folder, num: int = 32, size: int = 8) -> str:
    """Writes `num` random grayscale PNGs; returns the `folder:` dataset spec."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(num):
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(os.path.join(folder, f"{i:03d}.png"))
    return f"folder:{folder}"


def write_tiny_preset(path, **fields) -> str:
    """A preset .json for a tiny MLP GAN (batch 8); returns its path."""
    values = {"description": "tiny test GAN", "generator": "mlp", "generator_options": {"hidden_units": [16]},
              "discriminator": "mlp", "discriminator_options": {"hidden_units": [16]}, "latent_dim": 8,
              "batch_size": 8, "epochs": 1, **fields}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(values, f)
    return str(path)


def test_unknown_strategy_lists_valid_ones():
    with pytest.raises(UsageError, match="default, mirrored, multi_worker, tpu"):
        distribute.get_strategy("horovod")


def test_default_strategy_is_single_chief_worker():
    strategy = distribute.get_strategy("default")
    assert strategy.num_replicas_in_sync == 1
    assert distribute.is_chief(strategy) and distribute.num_workers(strategy) == 1
    assert distribute.worker_output_dir("/runs/a", strategy) == "/runs/a"
    assert "1 replica(s) on /device:CPU:0" in distribute.describe(strategy)


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UsageError, match="TF_CONFIG.*launch_workers.py"):
        distribute.get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UsageError, match="must be JSON"):
        distribute.read_tf_config()
    monkeypatch.setenv("TF_CONFIG", distribute.tf_config(["127.0.0.1:1", "127.0.0.1:2"], 0).replace('"index": 0',
                                                                                                   '"index": 5'))
    with pytest.raises(UsageError, match="task.index 5 is outside the 2 listed workers"):
        distribute.read_tf_config()


def test_tf_config_round_trip(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", distribute.tf_config(["127.0.0.1:1111", "127.0.0.1:2222"], 1))
    config = distribute.read_tf_config()
    assert config == {"cluster": {"worker": ["127.0.0.1:1111", "127.0.0.1:2222"]},
                      "task": {"type": "worker", "index": 1}}


def test_logical_cpus_after_initialisation_is_a_clear_error():
    _ = tf.constant(1.0) + 1.0  # devices are initialised by now
    with pytest.raises(UsageError, match="before any TensorFlow op"):
        distribute.use_logical_cpus(2)


def test_cli_flags_override_the_preset(tmp_path):
    from absl import flags
    fv = flags.FlagValues()
    train_cli.define_flags(fv)
    fv(["tfgan train", f"--model={write_tiny_preset(tmp_path / 'tiny.json')}", "--mixed_precision=mixed_bfloat16",
        "--jit_compile", "--dataset=folder:/x y", "--strategy=mirrored", "--backup_dir=/tmp/b"])
    preset = train_cli.resolve_preset(fv)
    assert (preset.mixed_precision, preset.jit_compile, preset.dataset) == ("mixed_bfloat16", True, "folder:/x y")
    assert (fv.strategy, fv.backup_dir) == ("mirrored", "/tmp/b")
    assert main(["tfgan", "train", "--strategy=gpus"]) == 2  # not one of the enum values


def test_tpu_requested_without_a_tpu_fails_clearly(tmp_path):
    # In a subprocess: TPU initialisation attempts change the process's TensorFlow context.
    proc = subprocess.run([sys.executable, "-m", "tfgan_app.cli.main", "train", "--strategy=tpu",
                           f"--model={write_tiny_preset(tmp_path / 'tiny.json')}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "--strategy=tpu was requested but no TPU was found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mixed_float16_trains_with_loss_scaling_on_both_optimizers(tmp_path):
    preset = presets.load_preset(write_tiny_preset(tmp_path / "tiny.json", mixed_precision="mixed_float16"))
    preset.dataset = write_images(tmp_path / "images")
    result = training.train(preset, str(tmp_path / "run"), verbose=0)
    gan = result.gan
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.generator.layers[1].compute_dtype == "float16"
    assert int(gan.g_optimizer.iterations.numpy()) == 4  # 32 images / batch 8: every step applied
    assert all(np.isfinite(result.history[k][-1]) for k in ("d_loss", "g_loss"))
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored after the run
