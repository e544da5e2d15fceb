"""`tfgan_app.artifacts.open_generator`: one loader, one kind, one error per fault (issue #16)."""

import os
import sys

import pytest
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, NUM_CLASSES, write_run_dir  # noqa: E402

from tfgan_app.artifacts import LATENT, Kind, open_generator  # noqa: E402
from tfgan_app.errors import MissingResourceError  # noqa: E402
from tfgan_app.evaluation.sources import load_image_source  # noqa: E402
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
