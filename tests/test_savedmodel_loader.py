"""Issue #26 item 3: one SavedModel loader, with TF Serving's semantics, for generate, evaluate, export and serve.

A SavedModel without the `serve` tag is one TF Serving rejects while Python's lenient `tf.saved_model.load` runs it;
`tfgan generate`, `tfgan evaluate` and `tfgan serve` must all reject it, with the same one-line message.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.artifacts import open_generator
from tfgan_app.artifacts.savedmodel_loader import ServingCompatibilityError, load_savedmodel
from tfgan_app.cli.main import main
from tfgan_app.evaluation.sources import load_image_source
from tfgan_app.serving.repository import ModelRepository

LATENT_DIM = 4


def _savedmodel(path: str, tags) -> str:
    """A TF1 SavedModel `latents [N, 4] -> images [N, 2, 2, 1]` (tanh) whose MetaGraph carries `tags`."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        latents = tf.compat.v1.placeholder(tf.float32, [None, LATENT_DIM], name="latents")
        images = tf.reshape(tf.tanh(latents), [-1, 2, 2, 1], name="images")
        builder = tf.compat.v1.saved_model.Builder(path)
        signature = tf.compat.v1.saved_model.predict_signature_def({"latents": latents}, {"images": images})
        builder.add_meta_graph_and_variables(session, tags, signature_def_map={"serving_default": signature})
        builder.save()
    return path


def _tail(message: str) -> str:
    """The loader's message after the path (`tfgan serve` names the version relative to its base folder)."""
    return message.split("' does not load", 1)[1]


def test_the_loader_runs_a_serve_savedmodel(tmp_path):
    path = _savedmodel(str(tmp_path / "m" / "1"), ["serve"])
    latents = np.random.default_rng(0).normal(size=(3, LATENT_DIM)).astype(np.float32)
    with load_savedmodel(path) as model:
        images = model.run("serving_default", {"latents": latents})["images"]
    np.testing.assert_allclose(images, np.tanh(latents).reshape(-1, 2, 2, 1), atol=1e-6)
    with open_generator(path) as generator:
        np.testing.assert_allclose(generator(latents), np.tanh(latents).reshape(-1, 2, 2, 1), atol=1e-6)


def test_savedmodel_without_serve_tag_is_rejected_by_generate_evaluate_and_serve_alike(tmp_path, capsys):
    base = str(tmp_path / "base")
    path = _savedmodel(os.path.join(base, "m", "1"), ["train"])
    tf.saved_model.load(path)  # the lenient TF2 object loader takes it; TF Serving does not
    with pytest.raises(ServingCompatibilityError, match="does not load in TensorFlow's session loader") as error:
        open_generator(path)
    message = str(error.value)
    assert "\n" not in message and "serve" in message and repr(path) in message
    with pytest.raises(ServingCompatibilityError) as evaluated:
        load_image_source(path)
    assert str(evaluated.value) == message

    assert main(["tfgan", "generate", f"--model={path}", "--num_images=2", f"--grid={tmp_path / 'g.png'}"]) == 2
    generate_err = capsys.readouterr().err
    assert message in generate_err and "Traceback" not in generate_err
    assert main(["tfgan", "evaluate", f"--generator={path}", "--dataset=mnist"]) == 2
    evaluate_err = capsys.readouterr().err
    assert message in evaluate_err and "Traceback" not in evaluate_err

    repository = ModelRepository(base, poll_wait_seconds=0).start()  # what `tfgan serve` loads and reports
    try:
        [state] = repository.status("m")
        assert state.state == "END" and state.servable is None
        assert _tail(message) in state.error_message and state.error_code != "OK"
    finally:
        repository.stop()
