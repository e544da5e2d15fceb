"""Shared test set-up: quiet TensorFlow, small fixtures."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Presets say mixed_precision "auto", which follows the CPU (bfloat16 only where it is native). Tests pin float32
# so that their numbers do not depend on the machine; tests/test_precision.py covers "auto" itself.
os.environ["TFGAN_MIXED_PRECISION"] = "float32"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture
def image_folder(tmp_path):
    """A folder with two class sub-folders of 12x12 RGB PNGs (6 'dark', 6 'bright')."""
    rng = np.random.default_rng(0)
    for label, (name, level) in enumerate((("dark", 40), ("bright", 200))):
        os.makedirs(tmp_path / name)
        for i in range(6):
            pixels = np.clip(rng.normal(level, 10, (12, 12, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    return str(tmp_path)
