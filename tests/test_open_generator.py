"""`tfgan_app.artifacts.open_generator`: one loader, one kind, one error per fault (issue #16)."""

import os
import shutil
import sys

import numpy as np
import pytest
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, NUM_CLASSES, write_run_dir  # noqa: E402

from tfgan_app.artifacts import LATENT, Kind, open_generator  # noqa: E402
from tfgan_app.errors import MissingResourceError  # noqa: E402
from tfgan_app.evaluation import sources as sources_module  # noqa: E402
from tfgan_app.evaluation.sources import load_image_source  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.export import export_run  # noqa: E402


def _savedmodel_without_serving_default(path):
    module = tf.Module()
    module.double = tf.function(lambda x: {"y": 2.0 * x}, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(module, path, signatures={"double": module.double})
    return path


def test_missing_serving_default_is_the_same_error_for_generate_and_evaluate(tmp_path):
    path = _savedmodel_without_serving_default(str(tmp_path / "sm"))
    with pytest.raises(MissingResourceError, match="serving_default"):
        open_generator(path)
    with pytest.raises(MissingResourceError, match="serving_default"):  # was a UsageError here
        load_image_source(path)


def test_kind_and_description_come_from_the_export(tmp_path):
    run = write_run_dir(str(tmp_path / "run"), conditional=True, name="cond")
    version_dir = export_run(run, base_dir=str(tmp_path / "export"), quantizations=["float32"]).version_dir
    for spec in (run, version_dir, os.path.join(version_dir, "tflite", "generator_float32.tflite")):
        with open_generator(spec) as generator:
            assert generator.kind == LATENT and isinstance(generator.kind, Kind)
            description = generator.describe()
            assert (description["kind"], description["latent_dim"], description["conditional"],
                    description["num_classes"]) == ("latent", LATENT_DIM, True, NUM_CLASSES), spec
            with pytest.raises(Exception, match="samples images from latents"):
                generator.translate(tf.zeros([1, 8, 8, 1]).numpy())


def test_evaluate_reads_every_generator_spec_through_open_generator(tmp_path, monkeypatch):
    """Issue #26 item 2: `open_generator` is the only spec parser; `load_image_source` hands it every spec that is
    not `folder:`, so a folder holding `generator.keras` without config.json is a generator for evaluate as for
    generate (it was read as an image folder), and a run directory goes through the same parser."""
    run = write_run_dir(str(tmp_path / "run"), conditional=False, name="plain")
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(os.path.join(run, "generator.keras"), bare / "generator.keras")
    with open_generator(str(bare)) as generator:
        expected = generator(sample_latents(3, LATENT_DIM, 0).numpy())
    source = load_image_source(str(bare))
    assert source.latent_dim == LATENT_DIM
    np.testing.assert_array_equal(next(source.batches(3, batch_size=3, seed=0)), to_uint8(expected))

    opened = []
    monkeypatch.setattr(sources_module, "open_generator",
                        lambda spec, **kwargs: opened.append(spec) or open_generator(spec, **kwargs))
    for spec in (run, os.path.join(run, "generator.keras")):
        assert load_image_source(spec).latent_dim == LATENT_DIM
    assert opened == [run, os.path.join(run, "generator.keras")]
