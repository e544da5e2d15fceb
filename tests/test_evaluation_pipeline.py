"""Image sources (Keras, SavedModel, run dir, folder), the `evaluate` pipeline and the training callback."""

import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from _export_fixtures import (LATENT_DIM, NUM_CLASSES, keras_images, tiny_conditional_generator, tiny_generator,
                              write_run_dir)
from tfgan_app.callbacks import SampleGrid
from tfgan_app.data import load_mnist
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.evaluation import (ArraySource, EvaluationCallback, GeneratorSource, evaluate, load_image_source)
from tfgan_app.export.savedmodel import write_savedmodel
from tfgan_app.gans import GAN
from tfgan_app.images import to_uint8
from tfgan_app.latent import sample_latents


def _all(source, num, batch_size=4, seed=0):
    return np.concatenate(list(source.batches(num, batch_size, seed)))


def test_generator_source_yields_quantised_generate_images():
    generator = tiny_generator()
    source = GeneratorSource.from_keras(generator)
    batches = list(source.batches(10, 4, seed=3))
    assert [len(b) for b in batches] == [4, 4, 2] and batches[0].dtype == np.uint8
    expected = to_uint8(keras_images(generator, sample_latents(10, LATENT_DIM, 3).numpy()))
    np.testing.assert_array_equal(np.concatenate(batches), expected)
    assert source.image_shape == (8, 8, 1) and source.num_classes is None


def test_conditional_generator_source_uses_balanced_labels():
    generator = tiny_conditional_generator()
    source = GeneratorSource.from_keras(generator)
    assert source.num_classes == NUM_CLASSES
    labels = np.arange(7) % NUM_CLASSES
    expected = to_uint8(keras_images(generator, sample_latents(7, LATENT_DIM, 0).numpy(), labels))
    np.testing.assert_array_equal(_all(source, 7), expected)


@pytest.mark.parametrize("conditional", [False, True])
def test_savedmodel_source_matches_keras_source(tmp_path, conditional):
    generator = tiny_conditional_generator() if conditional else tiny_generator()
    write_savedmodel(generator, str(tmp_path / "model" / "1"), num_classes=NUM_CLASSES if conditional else None)
    keras_source = GeneratorSource.from_keras(generator)
    for path in (tmp_path / "model" / "1", tmp_path / "model"):  # a version dir, or the TF Serving model folder
        source = load_image_source(str(path))
        assert source.latent_dim == LATENT_DIM and source.image_shape == (8, 8, 1)
        assert source.num_classes == (NUM_CLASSES if conditional else None)
        diff = np.abs(_all(source, 9).astype(int) - _all(keras_source, 9).astype(int))
        assert diff.max() <= 1  # graph vs eager float rounding can move a pixel across a quantisation step


def test_run_dir_and_keras_file_sources(tmp_path):
    run = write_run_dir(str(tmp_path / "run"), conditional=True)
    source = load_image_source(run)
    assert source.name == "tiny" and source.num_classes == NUM_CLASSES
    from_file = load_image_source(os.path.join(run, "generator.keras"))
    np.testing.assert_array_equal(_all(source, 6), _all(from_file, 6))


def test_folder_source_reads_every_image(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    for spec in (str(tmp_path), f"folder:{tmp_path}"):
        source = load_image_source(spec)
        assert isinstance(source, ArraySource) and source.image_shape == (8, 8, 1)
        got = _all(source, 100, batch_size=2)
        assert len(got) == 5
        assert sorted(map(bytes, got)) == sorted(map(bytes, images[..., None]))


def test_load_image_source_errors(tmp_path):
    with pytest.raises(MissingResourceError, match="does not exist"):
        load_image_source(str(tmp_path / "missing"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match=".keras generator"):
        load_image_source(str(tmp_path / "notes.txt"))


def test_evaluate_separates_real_digits_from_noise():
    images, _ = load_mnist("test")
    real = ArraySource("mnist-test", images[:400])
    noise = ArraySource("noise", np.random.default_rng(0).integers(0, 256, (400, 28, 28, 1), dtype=np.uint8))
    kwargs = dict(dataset="mnist", metrics="fid,kid,is,pr", num_samples=400, split="train",
                  kid_subsets=10, kid_subset_size=200)
    good = evaluate(real, **kwargs)
    bad = evaluate(noise, **kwargs)
    assert good["extractor"] == "mnist" and good["num_generated"] == 400 and good["num_real"] == 400
    assert bad["metrics"]["fid"] > 20 * good["metrics"]["fid"]
    assert bad["metrics"]["kid_mean"] > 20 * abs(good["metrics"]["kid_mean"])
    assert good["metrics"]["is_mean"] > 8.5
    assert good["metrics"]["precision"] > 0.8 and good["metrics"]["recall"] > 0.8
    assert bad["metrics"]["precision"] < 0.1


def test_evaluate_rejects_unknown_metric():
    with pytest.raises(UsageError, match="fid, kid, is, pr"):
        evaluate(ArraySource("x", np.zeros((4, 8, 8, 1), np.uint8)), "mnist", metrics="fid,ssim")


def _tiny_gan():
    generator = tiny_generator()
    images = keras.Input((8, 8, 1))
    discriminator = keras.Model(images, keras.layers.Dense(1)(keras.layers.Flatten()(images)))
    gan = GAN(generator, discriminator)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def _event_tags(folder):
    events = glob.glob(str(folder / "events.out.tfevents.*"))
    assert len(events) == 1
    return {value.tag: (event.step, tf.make_ndarray(value.tensor))
            for event in tf.compat.v1.train.summary_iterator(events[0]) for value in event.summary.value}


@pytest.mark.parametrize("keras_tensorboard", [False, True], ids=["alone", "beside_keras_tensorboard"])
def test_callback_logs_metrics_to_tensorboard_every_n_epochs(tmp_path, keras_tensorboard):
    gan = _tiny_gan()
    callback = EvaluationCallback("mnist", metrics="fid,is", every_n_epochs=2, num_samples=200,
                                  log_dir=str(tmp_path), batch_size=100)
    grids = SampleGrid(str(tmp_path / "run"), num_samples=4, log_dir=str(tmp_path))
    # As `tfgan train` runs them: Keras' TensorBoard callback logging every 3 steps (log_every_steps) first. It
    # records summaries inside fit only on every 3rd train batch; epoch ends here are batches 2, 4, 6.
    callbacks = [keras.callbacks.TensorBoard(log_dir=str(tmp_path / "keras"), update_freq=3)] * keras_tensorboard
    real = tf.data.Dataset.from_tensor_slices(
        (np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype(np.float32), np.zeros(32, np.int32)))
    history = gan.fit(real.batch(16), epochs=3, callbacks=callbacks + [callback, grids], verbose=0, shuffle=False)
    images = _event_tags(tmp_path / "samples")
    assert images["samples"][0] == 2 and images["samples"][1].shape == (3,)  # the last epoch's grid: a PNG summary
    assert sorted(callback.history) == [1]  # epochs are 0-based: only the 2nd of 3 epochs is evaluated
    assert history.history["eval_fid"] == [callback.history[1]["fid"]]
    tags = {tag: (step, value.item()) for tag, (step, value) in _event_tags(tmp_path / "evaluation").items()}
    assert tags["evaluation/fid"] == (2, pytest.approx(callback.history[1]["fid"], rel=1e-5))
    assert set(tags) == {"evaluation/fid", "evaluation/is_mean", "evaluation/is_std"}


def test_text_conditioned_run_is_evaluated_class_by_class_from_captions(tmp_path):
    """Label i of a text run becomes the caption of class i ("a handwritten <i>"), exactly as tokenised in training."""
    from _export_fixtures import SEQUENCE_LENGTH, text_vocabulary, write_text_run_dir
    from tfgan_app.data.captions import captions_for, make_vectorizer
    from tfgan_app.artifacts.run_dir import load_keras_generator

    run = write_text_run_dir(str(tmp_path / "run"))
    config_path = tmp_path / "run" / "config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "dataset": "captions:mnist"}))
    source = load_image_source(run)
    assert source.num_classes == 10
    images = np.concatenate(list(source.batches(12, batch_size=5, seed=3)))
    generator = load_keras_generator(str(tmp_path / "run" / "generator.keras"))
    tokens = make_vectorizer(text_vocabulary(), SEQUENCE_LENGTH)(captions_for("mnist", np.arange(12) % 10))
    expected = to_uint8(generator([sample_latents(12, source.latent_dim, 3), tokens], training=False))
    np.testing.assert_array_equal(images, expected)
    config_path.write_text(json.dumps({**config, "dataset": "mnist"}))
    with pytest.raises(UsageError, match="captions:NAME"):
        load_image_source(run)
