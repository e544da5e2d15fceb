"""Export of text-conditioned generators: caption signatures with the vocabulary in the graph, warm-up, TFLite
with token inputs, `tfgan generate --captions` from every artifact, and the run config that makes it possible."""

import io
import json
import os
import shutil
import sys

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image
from tensorflow.python.saved_model import loader_impl
from tensorflow_serving.apis import prediction_log_pb2

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (LATENT_DIM, SEQUENCE_LENGTH, export_with_failing_int8, text_vocabulary,  # noqa: E402
                              tiny_generator,
                              tiny_text_generator, write_run_dir, write_text_run_dir)

from tfgan_app import training  # noqa: E402
from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.data.captions import make_vectorizer  # noqa: E402
from tfgan_app.errors import MissingResourceError, UsageError  # noqa: E402
from tfgan_app.export import TEXT_SIGNATURES, export_generator, export_run, load_keras_generator  # noqa: E402
from tfgan_app.artifacts.layout import read_metadata  # noqa: E402
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator  # noqa: E402
from tfgan_app.export.savedmodel import write_savedmodel  # noqa: E402
from tfgan_app.export.tflite import PARITY_THRESHOLDS  # noqa: E402
from tfgan_app.images import make_grid, to_uint8  # noqa: E402
from tfgan_app.latent import linear_interpolation, sample_latents  # noqa: E402
from tfgan_app.presets import apply_overrides, load_preset  # noqa: E402
from tfgan_app.serving import LocalModelServer, RestClient  # noqa: E402

# Upper case, punctuation, unknown words, extra spaces, an empty caption, one longer than sequence_length.
TRICKY = ["A Handwritten SEVEN!", "the digit, one.", "a zebra-striped seven", "  the   DIGIT  nine ", "",
          "a a a a a a a a seven", "ünïcödé digit 7"]


@pytest.fixture(scope="module")
def text_export(tmp_path_factory):
    """A text run directory exported with every TFLite file, plus a local server over the export folder."""
    root = tmp_path_factory.mktemp("text")
    run_dir = write_text_run_dir(str(root / "run"))
    plain_run = write_run_dir(str(root / "plain_run"), name="plain")
    base = str(root / "export")
    result = export_run(run_dir, base_dir=base)
    server = LocalModelServer(base, rest_port=0, grpc_port=0).start()
    yield {"run_dir": run_dir, "plain_run": plain_run, "result": result, "server": server,
           "generator": load_keras_generator(os.path.join(run_dir, "generator.keras")),
           "loaded": tf.saved_model.load(result.version_dir)}
    server.stop()


def _tokens(captions):
    return np.asarray(make_vectorizer(text_vocabulary(), SEQUENCE_LENGTH)(captions), np.int32)


def _keras(text_export, latents, captions):
    return np.asarray(text_export["generator"]([latents, _tokens(captions)], training=False))


def test_metadata_and_signature_defs(text_export):
    version_dir = text_export["result"].version_dir
    metadata = read_metadata(version_dir)
    assert metadata["kind"] == "text" and metadata["signatures"] == list(TEXT_SIGNATURES)
    assert metadata["vocabulary"] == text_vocabulary() and metadata["sequence_length"] == SEQUENCE_LENGTH
    assert metadata["latent_dim"] == LATENT_DIM and metadata["image_shape"] == [8, 8, 1]
    signatures = loader_impl.parse_saved_model(version_dir).meta_graphs[0].signature_def

    def info(sig, key, outputs=False):
        tensor = (signatures[sig].outputs if outputs else signatures[sig].inputs)[key]
        return tf.dtypes.as_dtype(tensor.dtype).name, [d.size for d in tensor.tensor_shape.dim]

    assert info("serving_default", "latents") == ("float32", [-1, LATENT_DIM])
    assert info("serving_default", "tokens") == ("int32", [-1, SEQUENCE_LENGTH])
    assert info("serving_default", "images", True) == ("float32", [-1, 8, 8, 1])
    assert info("from_captions", "captions") == ("string", [-1])
    assert info("from_captions", "images", True) == ("float32", [-1, 8, 8, 1])
    assert info("generate_from_captions", "seed") == ("int64", [])
    assert info("generate_from_captions", "captions") == ("string", [-1])
    assert info("generate_from_captions", "images", True) == ("uint8", [-1, 8, 8, 1])
    assert info("generate_from_captions_png", "png_bytes", True) == ("string", [-1])


def test_serving_default_matches_keras_and_checks_tokens(text_export):
    serving = text_export["loaded"].signatures["serving_default"]
    latents = np.random.default_rng(0).normal(size=(len(TRICKY), LATENT_DIM)).astype(np.float32)
    tokens = _tokens(TRICKY)
    images = serving(latents=latents, tokens=tokens)["images"].numpy()
    np.testing.assert_allclose(images, _keras(text_export, latents, TRICKY), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"tokens must be < 22"):
        serving(latents=latents[:1], tokens=np.full((1, SEQUENCE_LENGTH), 22, np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one row per latent"):
        serving(latents=latents[:2], tokens=tokens[:1])


def test_in_graph_tokenisation_gives_the_vectorizer_ids(text_export):
    tokens = _tokens(TRICKY)
    vocabulary = ["", "[UNK]"] + text_vocabulary()
    assert [vocabulary[t] for t in tokens[0] if t] == ["a", "handwritten", "seven"]  # lower-cased, "!" dropped
    assert tokens[2].tolist()[:3] == [2, 1, vocabulary.index("seven")]  # "zebrastriped" is unknown
    assert tokens[4].tolist() == [0] * SEQUENCE_LENGTH and tokens[5].tolist() == [2] * SEQUENCE_LENGTH
    latents = np.repeat(sample_latents(1, LATENT_DIM, 5).numpy(), len(TRICKY), axis=0)
    expected = _keras(text_export, latents, TRICKY)
    # The check below can tell ids apart: other captions give visibly different images for the same latents.
    assert np.abs(expected - np.roll(expected, 1, axis=0)).max() > 1e-2
    from_captions = text_export["loaded"].signatures["from_captions"]
    images = from_captions(latents=latents, captions=tf.constant(TRICKY))["images"].numpy()
    np.testing.assert_allclose(images, expected, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="one row per latent"):
        from_captions(latents=latents[:2], captions=tf.constant(TRICKY))


def test_generate_from_captions_is_seeded_uint8_and_png(text_export):
    loaded = text_export["loaded"]
    captions = tf.constant(["a handwritten seven", "The digit ONE", "a handwritten seven"])
    expected = to_uint8(_keras(text_export, sample_latents(3, LATENT_DIM, 7).numpy(), captions))
    images = loaded.signatures["generate_from_captions"](seed=np.int64(7), captions=captions)["images"].numpy()
    assert images.dtype == np.uint8 and images.shape == (3, 8, 8, 1)
    np.testing.assert_array_equal(images, expected)
    other_seed = loaded.signatures["generate_from_captions"](seed=np.int64(8), captions=captions)["images"].numpy()
    assert not np.array_equal(other_seed, images)
    pngs = loaded.signatures["generate_from_captions_png"](seed=np.int64(7), captions=captions)["png_bytes"].numpy()
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(png))) for png in pngs])
    np.testing.assert_array_equal(decoded, images[..., 0])


def test_warmup_records_parse_and_replay(text_export):
    version_dir = text_export["result"].version_dir
    records = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(
        os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests"))]
    assert [r.predict_log.request.model_spec.signature_name for r in records] == list(TEXT_SIGNATURES)
    assert all(r.predict_log.request.model_spec.name == "text_tiny" for r in records)
    loaded = text_export["loaded"]
    for log in records:
        request = log.predict_log.request
        signature = loaded.signatures[request.model_spec.signature_name]
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        assert set(inputs) == set(signature.structured_input_signature[1])
        assert next(iter(signature(**inputs).values())).shape[0] == 2


def test_tflite_files_take_tokens_and_match(text_export):
    sidecar = text_export["result"].tflite
    assert sidecar["kind"] == "text" and sidecar["vocabulary"] == text_vocabulary()
    assert sidecar["sequence_length"] == SEQUENCE_LENGTH and not sidecar["skipped"]
    assert set(sidecar["files"]) == set(PARITY_THRESHOLDS)
    assert all(entry["parity"]["meets_threshold"] for entry in sidecar["files"].values())
    tflite_dir = os.path.join(text_export["result"].version_dir, "tflite")
    latents = sample_latents(len(TRICKY), LATENT_DIM, 3).numpy()
    expected = _keras(text_export, latents, TRICKY)
    for quantization, limits in PARITY_THRESHOLDS.items():
        runner = TFLiteGenerator(os.path.join(tflite_dir, f"generator_{quantization}.tflite"))
        assert runner.kind == "text" and runner.sequence_length == SEQUENCE_LENGTH
        assert np.abs(runner(latents, tokens=_tokens(TRICKY)) - expected).max() <= limits["max_abs_error"]
    inputs = {d["name"]: d["dtype"] for d in Interpreter(
        model_path=os.path.join(tflite_dir, "generator_int8.tflite")).get_input_details()}
    assert inputs == {"latents": np.int8, "tokens": np.int32}
    with pytest.raises(UsageError, match="text-conditioned: pass tokens"):
        runner(latents)
    with pytest.raises(UsageError, match="text-conditioned"):
        runner(latents, labels=np.zeros(len(TRICKY), np.int32))
    with pytest.raises(UsageError, match=r"tokens of shape \[7, 6\]"):
        runner(latents, tokens=np.zeros((7, 3), np.int32))


def test_failed_quantization_is_skipped_with_its_reason(tmp_path, monkeypatch):
    result = export_with_failing_int8(monkeypatch, tiny_text_generator(), str(tmp_path),
                                      vocabulary=text_vocabulary())
    assert set(result.tflite["files"]) == {"float32"} and "simulated" in result.tflite["skipped"]["int8"]
    assert not os.path.exists(os.path.join(result.version_dir, "tflite", "generator_int8.tflite"))


def _grid(path):
    return np.asarray(Image.open(path)).astype(int)


def _model_spec(text_export, kind):
    version_dir, server = text_export["result"].version_dir, text_export["server"]
    return {"run_dir": text_export["run_dir"], "savedmodel": version_dir, "model_dir": os.path.dirname(version_dir),
            "tflite_float32": os.path.join(version_dir, "tflite", "generator_float32.tflite"),
            "tflite_int8": os.path.join(version_dir, "tflite", "generator_int8.tflite"),
            "rest": f"{server.rest_url}/text_tiny", "grpc": f"grpc://{server.grpc_target}/text_tiny"}[kind]


@pytest.mark.parametrize("kind", ["run_dir", "savedmodel", "model_dir", "tflite_float32", "tflite_int8", "rest",
                                  "grpc"])
def test_generate_with_captions_from_each_artifact(text_export, kind, tmp_path):
    grid = str(tmp_path / "grid.png")
    assert main(["tfgan", "generate", f"--model={_model_spec(text_export, kind)}", "--num_images=3", "--seed=2",
                 "--captions=a handwritten seven; The digit ONE!", f"--grid={grid}"]) == 0
    captions = ["a handwritten seven", "The digit ONE!", "a handwritten seven"]  # cycled like --labels
    expected = make_grid(to_uint8(_keras(text_export, sample_latents(3, LATENT_DIM, 2).numpy(), captions)))[..., 0]
    diff = np.abs(_grid(grid) - expected.astype(int))
    if kind == "tflite_int8":
        assert diff.mean() <= 2.0 and diff.max() <= 16
    else:
        assert diff.max() <= 1  # float rounding may flip a pixel across a .5 grey level


def test_latent_walk_keeps_the_first_caption(text_export, tmp_path):
    strip = str(tmp_path / "walk.png")
    assert main(["tfgan", "generate", f"--model={text_export['result'].version_dir}", "--interpolate=4", "--seed=1",
                 "--captions=the digit nine;a handwritten one", f"--strip={strip}"]) == 0
    ends = sample_latents(2, LATENT_DIM, 1).numpy()
    walk = _keras(text_export, linear_interpolation(ends[0], ends[1], 4), ["the digit nine"] * 4)
    assert np.abs(_grid(strip) - make_grid(to_uint8(walk), cols=4)[..., 0].astype(int)).max() <= 1


def test_generate_rejects_missing_or_misplaced_captions(text_export, tmp_path, capsys):
    grid = f"--grid={tmp_path / 'g.png'}"
    run_dir, version_dir = text_export["run_dir"], text_export["result"].version_dir
    assert main(["tfgan", "generate", f"--model={run_dir}", grid]) == 2
    assert "text-conditioned: pass --captions=" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={text_export['plain_run']}", "--captions=a seven", grid]) == 2
    assert "not text-conditioned; drop --captions" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={version_dir}", "--captions=a seven", "--labels=1", grid]) == 2
    assert "text-conditioned (pass --captions instead)" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={os.path.join(run_dir, 'generator.keras')}", "--captions=a seven",
                 grid]) == 2
    assert "pass the run directory" in capsys.readouterr().err
    lone = str(tmp_path / "generator_float32.tflite")
    shutil.copy(os.path.join(version_dir, "tflite", "generator_float32.tflite"), lone)
    assert main(["tfgan", "generate", f"--model={lone}", "--captions=a seven", grid]) == 2
    assert "generator.json" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "g.png")


def test_text_runs_need_the_vocabulary(tmp_path, capsys):
    old_run = write_text_run_dir(str(tmp_path / "old"), vocabulary=False)
    with pytest.raises(UsageError, match="lacks 'vocabulary'"):
        export_run(old_run, base_dir=str(tmp_path / "export"))
    assert main(["tfgan", "generate", f"--model={old_run}", "--captions=a seven", f"--grid={tmp_path / 'g.png'}"]) == 2
    assert "lacks 'vocabulary'" in capsys.readouterr().err
    run = write_text_run_dir(str(tmp_path / "run"))
    config = json.load(open(os.path.join(run, "config.json")))
    json.dump({**config, "sequence_length": 8}, open(os.path.join(run, "config.json"), "w"))
    with pytest.raises(UsageError, match="sequence_length=8"):
        export_run(run, base_dir=str(tmp_path / "export"))
    generator = tiny_text_generator()
    with pytest.raises(UsageError, match="needs its caption vocabulary"):
        write_savedmodel(generator, str(tmp_path / "sm"))
    with pytest.raises(UsageError, match="takes captions, not labels"):
        write_savedmodel(generator, str(tmp_path / "sm"), num_classes=3, vocabulary=text_vocabulary())
    with pytest.raises(UsageError, match="takes no caption tokens"):
        write_savedmodel(tiny_generator(), str(tmp_path / "sm"), vocabulary=text_vocabulary())
    with pytest.raises(MissingResourceError, match="config.json"):
        export_run(str(tmp_path / "missing"), base_dir=str(tmp_path / "export"))


def test_training_records_the_vocabulary_and_the_export_matches_the_gan(tmp_path):
    preset = apply_overrides(load_preset("textgan_mnist"),
                             ["latent_dim=8", "batch_size=4", "epochs=1", "steps_per_epoch=1"])
    trained = training.train(preset, str(tmp_path / "run"), verbose=0)
    gan = trained.gan
    config = json.load(open(os.path.join(trained.output_dir, "config.json")))
    assert config["vocabulary"] == gan.vocabulary and config["sequence_length"] == gan.sequence_length
    result = export_run(trained.output_dir, base_dir=str(tmp_path / "export"), quantizations=())
    captions = ["a handwritten seven", "the digit one", "A PICTURE of the number 3"]
    generate = tf.saved_model.load(result.version_dir).signatures["generate_from_captions"]
    images = generate(seed=np.int64(4), captions=tf.constant(captions))["images"].numpy()
    assert np.abs(images.astype(int) - to_uint8(gan.generate(3, seed=4, labels=captions)).astype(int)).max() <= 1
