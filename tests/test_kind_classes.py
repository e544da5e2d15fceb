"""Issue #26 items 1 and 3: a generator's kind is a class on the loading side, decided once; one SavedModel loader.

* `open_generator` reads the kind once (the export's description, else the input names of a foreign artifact)
  and returns that kind's class, for every form; the class's methods do the kind-specific work.
* Outside the kind-class modules no code branches on a kind (`kind ==`, `kind in (`...: the issue's grep).
* Exactly one module calls TensorFlow's SavedModel loaders (`artifacts/savedmodel_loader.py`).
"""

import ast
import os
import re
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, NUM_CLASSES, write_run_dir, write_text_run_dir  # noqa: E402

from tfgan_app.artifacts.generators import (GENERATOR_CLASSES, ImageToImageGenerator, LatentGenerator,  # noqa: E402
                                            TextGenerator, open_generator)
from tfgan_app.artifacts.kind import IMAGE_TO_IMAGE, LATENT, TEXT, Kind, signature_kind  # noqa: E402
from tfgan_app.errors import MissingResourceError, UsageError  # noqa: E402
from tfgan_app.export import export_generator, export_run  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tfgan_app")
KIND_BRANCH = re.compile(r"kind ==|kind !=|kind is |kind in \(")  # the "done when" grep
KIND_CLASS_MODULES = {os.path.join("artifacts", "kind.py"), os.path.join("artifacts", "generators.py"),
                      os.path.join("export", "kinds.py")}


def _package_files(extensions):
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(extensions):
                path = os.path.join(root, name)
                yield os.path.relpath(path, PACKAGE), path


def test_no_branch_on_a_kind_outside_the_kind_class_modules():
    found = [f"{rel}:{number}: {line.strip()}" for rel, path in _package_files((".py", ".js"))
             if rel not in KIND_CLASS_MODULES
             for number, line in enumerate(open(path, encoding="utf-8"), 1) if KIND_BRANCH.search(line)]
    assert not found, "branches on a kind outside the kind classes:\n" + "\n".join(found)


def _saved_model_loader_calls(tree):
    """Calls of tf.saved_model.load / tf.compat.v1.saved_model.load(er.load) / keras TFSMLayer in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if re.search(r"saved_model\.(loader\.)?load$|saved_model\.load_v2$|TFSMLayer$", name):
                yield name


def test_one_module_calls_a_savedmodel_loader():
    callers = {rel for rel, path in _package_files((".py",))
               if any(_saved_model_loader_calls(ast.parse(open(path, encoding="utf-8").read())))}
    assert callers == {os.path.join("artifacts", "savedmodel_loader.py")}


def test_the_grep_and_the_loader_check_catch_a_planted_branch():
    """Control: the two checks above see what they look for."""
    assert KIND_BRANCH.search("    if generator.kind == IMAGE_TO_IMAGE:")
    assert KIND_BRANCH.search("    if kind in (LATENT, TEXT):")
    assert list(_saved_model_loader_calls(ast.parse("m = tf.saved_model.load(path)")))
    assert list(_saved_model_loader_calls(ast.parse("tf.compat.v1.saved_model.loader.load(s, tags, path)")))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """One export per kind: (spec of the run or .keras file, SavedModel version dir, float32 .tflite)."""
    root = tmp_path_factory.mktemp("kinds")
    result = {}
    for name, conditional in (("latent", False), ("conditional", True)):
        run = write_run_dir(str(root / name), conditional=conditional, name=name)
        version = export_run(run, base_dir=str(root / "export"), quantizations=["float32"]).version_dir
        result[name] = (run, version)
    text_run = write_text_run_dir(str(root / "text"))
    result["text"] = (text_run, export_run(text_run, base_dir=str(root / "export"),
                                           quantizations=["float32"]).version_dir)
    keras.utils.set_random_seed(0)
    translator = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same",
                                                                             activation="tanh")])
    translator_path = str(root / "translator.keras")
    translator.save(translator_path)
    result["image_to_image"] = (translator_path, export_generator(
        translator, "translator", str(root / "export"), quantizations=["float32"]).version_dir)
    return result


EXPECTED = {"latent": (LatentGenerator, LATENT), "conditional": (LatentGenerator, LATENT),
            "text": (TextGenerator, TEXT), "image_to_image": (ImageToImageGenerator, IMAGE_TO_IMAGE)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("form", ["keras", "savedmodel", "tflite"])
def test_every_form_opens_as_its_kinds_class(exports, name, form):
    keras_spec, version = exports[name]
    spec = {"keras": keras_spec, "savedmodel": version,
            "tflite": os.path.join(version, "tflite", "generator_float32.tflite")}[form]
    cls, kind = EXPECTED[name]
    with open_generator(spec) as generator:
        assert type(generator) is cls and generator.kind is kind and GENERATOR_CLASSES[kind] is cls
        assert generator.form == form and generator.describe()["kind"] == str(kind)
        if kind is IMAGE_TO_IMAGE:
            assert generator.translate(np.zeros([2, 8, 8, 1], np.float32)).shape == (2, 8, 8, 1)
            with pytest.raises(UsageError, match="translates images"):
                generator.check_samples(spec)
            return
        with pytest.raises(UsageError, match="needs an image-to-image generator"):
            generator.check_translates()
        labels = generator.labels_for(3, None)
        captions = generator.captions_for(3, ["a handwritten seven"] if kind is TEXT else None)
        assert (labels is not None) == (name == "conditional") and (captions is not None) == (kind is TEXT)
        images = generator(sample_latents(3, generator.latent_dim, 0).numpy(), labels, captions)
        assert images.shape[0] == 3 and np.all(np.abs(images) <= 1.0)
        if name == "conditional":
            assert generator.num_classes == NUM_CLASSES and list(labels) == [0, 1, 2]


def test_each_kind_refuses_the_other_kinds_conditions(exports):
    with open_generator(exports["latent"][1]) as latent, open_generator(exports["text"][1]) as text:
        with pytest.raises(UsageError, match="unconditional; drop --labels"):
            latent.labels_for(2, [1])
        with pytest.raises(UsageError, match="not text-conditioned; drop --captions"):
            latent.captions_for(2, ["a seven"])
        with pytest.raises(UsageError, match=r"text-conditioned \(pass --captions instead\)"):
            text.labels_for(2, [1])
        with pytest.raises(UsageError, match="pass --captions"):
            text.captions_for(2, None)


def test_a_foreign_savedmodel_is_classified_once_from_its_signature(tmp_path):
    """A SavedModel without tfgan's description (a user's own) gets its kind from its input names: an image
    model opens as an image-to-image generator (it was refused as "not 'latents'")."""
    module = tf.Module()
    module.serving_default = tf.function(lambda images: {"images": -images},
                                         input_signature=[tf.TensorSpec([None, 4, 4, 1], tf.float32, name="images")])
    path = str(tmp_path / "foreign" / "1")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serving_default})
    with open_generator(path) as generator:
        assert type(generator) is ImageToImageGenerator and generator.input_shape == [4, 4, 1]
        images = np.random.default_rng(0).uniform(-1, 1, (3, 4, 4, 1)).astype(np.float32)
        np.testing.assert_allclose(generator.translate(images), -images)


@pytest.mark.parametrize("names, kind", [(["latents"], LATENT), (["latents", "labels"], LATENT),
                                         (["latents", "tokens"], TEXT), (["images"], IMAGE_TO_IMAGE),
                                         (["serving_default_images:0"], IMAGE_TO_IMAGE)])
def test_signature_kind_reads_the_input_names(names, kind):
    assert signature_kind(names, "test") is kind and isinstance(kind, Kind)


@pytest.mark.parametrize("names", [["x"], ["images", "latents"]])
def test_signature_kind_refuses_names_that_say_no_kind(names):
    with pytest.raises(MissingResourceError, match=r"do not say its kind.*Received: inputs="):
        signature_kind(names, "test")
