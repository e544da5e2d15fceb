"""Keep the best generator: saves only on improvement (fake metric sequences), CLI runs and export's choice."""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import presets, training
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.callback import EvaluationCallback
from tfgan_app.artifacts.run_dir import load_run, run_generator_path
from tfgan_app.gans import GAN


class ScriptedEvaluation(EvaluationCallback):
    """Returns the next value of a fixed metric sequence instead of measuring."""

    def __init__(self, values, metric, **kwargs):
        super().__init__("toy:ring8" if metric in ("high_quality", "modes") else "mnist", metrics=metric,
                         every_n_epochs=1, num_samples=10, **kwargs)
        self.values = list(values)
        self.key = {"fid": "fid", "kid": "kid_mean"}.get(metric, metric)

    def evaluate_now(self):
        return {self.key: self.values.pop(0)}


def fit_with(callback, epochs):
    keras.utils.set_random_seed(0)
    gan = GAN(mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear"),
              mlp_discriminator((2,), hidden_units=(8,)))
    gan.compile()
    data = tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), np.float32)).batch(4).repeat()
    gan.fit(data, epochs=epochs, steps_per_epoch=1, verbose=0, callbacks=[callback])
    return gan


@pytest.mark.parametrize("metric,values,saved_epochs,best", [
    ("fid", [5.0, 7.0, 4.0, 4.0, math.nan, 6.0, 3.5], [1, 3, 7], 3.5),  # lower is better; ties and NaN don't count
    ("kid", [0.1, 0.2, 0.05], [1, 3], 0.05),
    ("confidence", [0.5, 0.4, 0.6, 0.6, 0.9], [1, 3, 5], 0.9),  # higher is better
    ("high_quality", [0.2, 0.1, 0.1], [1], 0.2),
])
def test_saves_only_on_improvement(tmp_path, metric, values, saved_epochs, best):
    saves = []
    callback = ScriptedEvaluation(values, metric, best_path=str(tmp_path / "best_generator.keras"),
                                  save_generator=lambda generator, path: saves.append((callback.best_epoch, path)))
    fit_with(callback, len(values))
    assert [epoch for epoch, _ in saves] == saved_epochs
    assert callback.best == best and callback.best_epoch == saved_epochs[-1]
    record = json.loads((tmp_path / "best_generator.keras.json").read_text())
    assert record["epoch"] == saved_epochs[-1] and record["value"] == best and record["metric"] == metric


def test_saved_best_is_the_generator_of_that_epoch(tmp_path):
    """The file holds the weights at the best epoch, not the last ones."""
    path = str(tmp_path / "best_generator.keras")
    snapshots = {}

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch + 1] = self.model.generator.get_weights()

    callback = ScriptedEvaluation([3.0, 1.0, 2.0], "fid", best_path=path)
    keras.utils.set_random_seed(0)
    gan = GAN(mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear"),
              mlp_discriminator((2,), hidden_units=(8,)))
    gan.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    data = tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).normal(size=(8, 2)).astype("float32"))
    gan.fit(data.batch(4).repeat(), epochs=3, steps_per_epoch=2, verbose=0, callbacks=[Snap(), callback])
    saved = keras.saving.load_model(path).get_weights()
    for a, b in zip(saved, snapshots[2]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(saved, snapshots[3]))


def test_monitor_and_metric_errors():
    with pytest.raises(UsageError, match="Unknown evaluation metric"):
        EvaluationCallback("mnist", metrics="fdi")
    with pytest.raises(UsageError, match="need images"):
        EvaluationCallback("toy:ring8", metrics="fid")
    with pytest.raises(UsageError, match="are for 2-D toy mixtures"):
        EvaluationCallback("mnist", metrics="modes")
    with pytest.raises(UsageError, match="monitor"):
        EvaluationCallback("mnist", metrics="fid", monitor="kid")


def test_train_keeps_best_and_export_picks_it_unless_last(tmp_path):
    preset = presets.from_dict({"gan": "gan", "generator": "mlp", "discriminator": "mlp", "dataset": "toy:ring8",
                                "generator_options": {"hidden_units": [16], "output_activation": "linear"},
                                "discriminator_options": {"hidden_units": [16]}, "latent_dim": 4,
                                "batch_size": 32, "epochs": 3, "steps_per_epoch": 5}, name="tiny_ring")
    out = str(tmp_path / "run")
    result = training.train(preset, out, verbose=0, eval_every=1, eval_metric="high_quality,modes", eval_samples=200)
    record = json.loads(open(os.path.join(out, "best_generator.keras.json")).read())
    values = result.history["eval_high_quality"]
    assert len(values) == 3 and record["epoch"] == 1 + int(np.argmax(values)) and record["value"] == max(values)
    assert run_generator_path(out) == os.path.join(out, "best_generator.keras")
    assert run_generator_path(out, "last") == os.path.join(out, "generator.keras")
    best, last = load_run(out).generator, load_run(out, which="last").generator
    differs = any(not np.array_equal(a, b) for a, b in zip(best.get_weights(), last.get_weights()))
    assert differs == (record["epoch"] != 3)
    assert os.path.isdir(os.path.join(out, "logs", "evaluation"))


class _CrashInEpoch(keras.callbacks.Callback):
    """Raises in the middle of 0-based epoch `epoch` (a crash after that epoch's predecessor was backed up)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch, self.current = epoch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            raise RuntimeError("simulated crash")


def test_a_resumed_run_keeps_the_best_generator_of_before_the_crash(tmp_path, monkeypatch):
    """FID 50, 20 (best), crash in epoch 3, resume: 30, 25 — best_generator.keras stays epoch 2's."""
    from test_distribute import write_images, write_tiny_preset  # pylint: disable=import-outside-toplevel

    values = iter([50.0, 20.0, 30.0, 25.0])
    monkeypatch.setattr(EvaluationCallback, "evaluate_now", lambda self: {"fid": next(values)})
    preset = presets.load_preset(write_tiny_preset(tmp_path / "tiny.json", epochs=4))
    preset = presets.apply_overrides(preset, [f"dataset=\"{write_images(tmp_path / 'images', num=32)}\""])
    kwargs = dict(output_dir=str(tmp_path / "run"), backup_dir=str(tmp_path / "backup"), eval_every=1,
                  eval_metric="fid", verbose=0)
    best = tmp_path / "run" / "best_generator.keras"
    with pytest.raises(RuntimeError, match="simulated crash"):
        training.train(preset, extra_callbacks=[_CrashInEpoch(2)], **kwargs)
    before = best.read_bytes()
    with pytest.raises(UsageError, match="kept .* by 'fid'; resume with --eval_metric=fid"):
        training.train(preset, **{**kwargs, "eval_metric": "kid"})
    training.train(preset, **kwargs)
    with open(str(best) + ".json", encoding="utf-8") as f:
        record = json.load(f)
    assert (record["epoch"], record["value"]) == (2, 20.0)
    assert best.read_bytes() == before
