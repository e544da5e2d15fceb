"""`tfgan evaluate` checks (or adapts, saying so) before it computes, and reuses reference statistics.

The issue's path: a small RGB image folder as the real data, offline. Each of these used to fail
only after every generated image's features were computed (batch 250 > the folder; KID subsets
of 1000 > the samples), and the MNIST classifier read RGB images without a word.
"""

import os

import numpy as np
import pytest
from PIL import Image

from tfgan_app.architectures.mlp import mlp_generator
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError
from tfgan_app.evaluation import scoring
from tfgan_app.evaluation.sources import GeneratorSource

NUM = 24


@pytest.fixture(scope="module")
def rgb(tmp_path_factory):
    root = tmp_path_factory.mktemp("rgb")
    rng = np.random.default_rng(0)
    for i in range(NUM):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / f"{i:03d}.png")
    generator = mlp_generator(8, (32, 32, 3), hidden_units=(16,))
    generator.save(root / "generator.keras")
    return root


def test_small_rgb_folder_is_adapted_before_any_feature_is_computed(rgb, monkeypatch, tmp_path, capsys):
    calls = []
    real_extract = scoring.extract
    monkeypatch.setattr(scoring, "extract", lambda *a, **k: calls.append(1) or real_extract(*a, **k))
    out = tmp_path / "ev.json"
    assert main(["tfgan", "evaluate", f"--generator={rgb / 'generator.keras'}", f"--dataset=folder:{rgb}",
                 "--extractor=mnist", "--num_samples=100", f"--output_json={out}"]) == 0
    text = capsys.readouterr().out
    notes = [line for line in text.splitlines() if line.startswith("note: ")]
    assert any(f"has {NUM} images, fewer than num_samples=100" in n for n in notes), text
    assert any("batch_size=250" in n and f"batches of {NUM}" in n for n in notes), text
    assert any("kid_subset_size=1000" in n and f"subsets of {NUM}" in n for n in notes), text
    assert any("28x28 grayscale" in n and "32x32 RGB" in n and "converted to grayscale" in n for n in notes), text
    # The notes come before the first progress line: nothing was computed before them.
    assert text.index("note: ") < text.index("Generated images")
    assert len(calls) == 2 and f"{NUM} generated, {NUM} real" in text


def test_reference_stats_are_written_once_reused_and_refused_for_another_setup(rgb, monkeypatch, tmp_path):
    stats = str(tmp_path / "ref.npz")
    source = GeneratorSource.from_keras(__import__("keras").saving.load_model(rgb / "generator.keras"))
    common = dict(metrics="fid,kid", num_samples=NUM, extractor="mnist", reference_stats=stats)
    first = scoring.evaluate(source, f"folder:{rgb}", **common)
    assert os.path.exists(stats) and any("wrote the reference statistics" in n for n in first["notes"])

    extracted = []
    real_extract = scoring.extract
    monkeypatch.setattr(scoring, "extract", lambda *a, **k: extracted.append(1) or real_extract(*a, **k))
    second = scoring.evaluate(source, f"folder:{rgb}", **common)
    assert extracted == [1]  # only the generated images: the real features were read from the file
    assert any("read the reference statistics" in n for n in second["notes"])
    for name, value in first["metrics"].items():
        np.testing.assert_allclose(second["metrics"][name], value, rtol=1e-6, err_msg=name)

    with pytest.raises(UsageError, match=r"another setup: extractor='mnist' \(now 'fashion_mnist'\)"):
        scoring.evaluate(source, f"folder:{rgb}", **{**common, "extractor": "fashion_mnist"})
    with pytest.raises(UsageError, match=r"another setup: dataset="):
        scoring.evaluate(source, "mnist", **common)
    (tmp_path / "junk.npz").write_bytes(b"not npz")
    with pytest.raises(UsageError, match="not a reference statistics file"):
        scoring.evaluate(source, f"folder:{rgb}", **{**common, "reference_stats": str(tmp_path / "junk.npz")})


def test_missing_inception_weights_say_how_to_get_them_before_computing(rgb, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["tfgan", "evaluate", f"--generator={rgb / 'generator.keras'}", f"--dataset=folder:{rgb}",
                 "--num_samples=10", f"--output_json={tmp_path / 'ev.json'}"]) != 0
    captured = capsys.readouterr()
    assert "Generated images" not in captured.out
    for part in ("InceptionV3 weights not found", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                 "--inception_weights=PATH", "--extractor=mnist"):
        assert part in captured.err, captured.err
