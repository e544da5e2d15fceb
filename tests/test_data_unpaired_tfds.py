"""TFDS `cycle_gan/*` through the unpaired loader, offline (`tfds.testing.mock_data`).

`cycle_gan` has the splits trainA, trainB, testA, testB and the features image
(uint8, any size, 3 channels) and label (A/B). `mock_data`'s default generator
gives every split the same random images, so the tests that check which split
feeds which domain replace the generator with one that records the requested
splits and paints each split in its own grey level.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfgan_app.data import load_dataset
from tfgan_app.data.unpaired import load_unpaired
from tfgan_app.errors import MissingResourceError, UsageError

SPEC = "unpaired:tfds:cycle_gan/horse2zebra"
LEVELS = {"trainA": 10, "trainB": 200, "testA": 60, "testB": 250}  # pixel value of each split's images


def split_painter(num: int = 8):
    """A `mock_data(as_dataset_fn=...)` standing in for cycle_gan's reader, and the list of its requests.

    Each split yields `num` 20x30 RGB images: the left half black, the right half
    the split's grey level; labels 0 for *A splits, 1 for *B splits, as in the
    real dataset. Every request appends (dataset, config, split) to the list.
    """
    requests = []

    def as_dataset(builder, split, decoders=None, read_config=None, shuffle_files=False):
        del decoders, read_config, shuffle_files
        requests.append((builder.name, builder.builder_config.name, str(split)))
        images = np.zeros((num, 20, 30, 3), np.uint8)
        images[:, :, 15:] = LEVELS[str(split)]
        labels = np.full(num, 0 if str(split).endswith("A") else 1, np.int64)
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})

    return as_dataset, requests


def _model_range(level: int) -> float:
    return level / 127.5 - 1.0


def test_cycle_gan_mock_batches_are_resized_and_scaled():
    # mock_data's own generator: random pixels, random image sizes (cycle_gan's image shape is (None, None, 3)).
    with tfds.testing.mock_data(num_examples=12):
        info = load_dataset(SPEC, batch_size=4, image_size=(24, 32), seed=0)
        batches = list(info.dataset)
    assert info.image_shape == (24, 32, 3) and info.batch_size == 4
    assert len(batches) == 3  # 12 images per domain, full batches only
    for a, b in batches:
        for images in (a, b):
            assert images.shape == (4, 24, 32, 3) and images.dtype == tf.float32
            values = images.numpy()
            assert values.min() >= -1.0 and values.max() <= 1.0
            assert values.std() > 0.2  # random pixels survive, not a constant
    whole = np.concatenate([np.concatenate([a.numpy(), b.numpy()]) for a, b in batches])
    assert whole.min() < -0.9 and whole.max() > 0.9  # the full uint8 range maps onto [-1, 1]


def test_cycle_gan_default_size_is_256():
    with tfds.testing.mock_data(num_examples=2):
        info = load_unpaired("tfds:cycle_gan/horse2zebra", batch_size=2)
        a, b = next(iter(info.dataset))
    assert info.image_shape == (256, 256, 3)
    assert a.shape == (2, 256, 256, 3) and b.shape == (2, 256, 256, 3)


@pytest.mark.parametrize("split", ["train", "test"])
def test_domain_a_reads_split_a_and_domain_b_split_b(split):
    as_dataset, requests = split_painter()
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        info = load_dataset(SPEC, batch_size=4, split=split, image_size=(16, 16), seed=0)
        batches = list(info.dataset)
    assert requests == [("cycle_gan", "horse2zebra", f"{split}A"), ("cycle_gan", "horse2zebra", f"{split}B")]
    assert len(batches) == 2
    for a, b in batches:
        assert a.shape == (4, 16, 16, 3) and b.shape == (4, 16, 16, 3)
        for images, level in ((a.numpy(), LEVELS[f"{split}A"]), (b.numpy(), LEVELS[f"{split}B"])):
            # 20x30 -> 16x16 keeps the picture: left columns black, right columns the split's grey.
            np.testing.assert_allclose(images[:, :, :6], -1.0)
            np.testing.assert_allclose(images[:, :, -6:], _model_range(level), atol=1e-6)


def test_same_examples_as_tfds_load_of_the_split():
    """Without shuffling, the pixels are tfds.load's examples of the split, resized, in order.

    (mock_data's generator gives every split the same examples, so which split feeds which
    domain is checked by test_domain_a_reads_split_a_and_domain_b_split_b.)
    """
    with tfds.testing.mock_data(num_examples=6):
        info = load_dataset(SPEC, batch_size=3, image_size=(8, 8), shuffle=False)
        a, b = next(iter(info.dataset))
        expected = {}
        for split in ("trainA", "trainB"):
            ds = tfds.load("cycle_gan/horse2zebra", split=split, shuffle_files=False)
            expected[split] = np.stack([tf.image.resize(ex["image"], (8, 8), antialias=True).numpy()
                                        for ex in ds.take(3)])
    # The loader resizes antialiased bilinear and rounds to uint8: within half a grey level of the float resize.
    np.testing.assert_allclose((a.numpy() + 1.0) * 127.5, expected["trainA"], atol=0.5 + 1e-3)
    np.testing.assert_allclose((b.numpy() + 1.0) * 127.5, expected["trainB"], atol=0.5 + 1e-3)


def test_missing_data_offline_is_a_clear_error(monkeypatch):
    """No prepared data and no network: one MissingResourceError saying what to do (network simulated)."""
    calls = []

    def offline_download(self, *args, **kwargs):
        calls.append(self.name)
        raise ConnectionError("Failed to resolve 'efrosgans.eecs.berkeley.edu' (Name or service not known)")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline_download)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: False)
    with pytest.raises(MissingResourceError) as error:
        load_dataset(SPEC, batch_size=2, image_size=(16, 16))
    message = str(error.value)
    assert calls == ["cycle_gan"]  # stops at the first domain
    for part in ("'cycle_gan/horse2zebra'", "'trainA'", "Failed to resolve", "tfds build cycle_gan/horse2zebra",
                 "TFDS_DATA_DIR"):
        assert part in message, message


def test_bad_cycle_gan_names_are_usage_errors():
    with pytest.raises(UsageError, match="Unknown TFDS dataset 'horse2zebra'"):
        load_dataset("unpaired:tfds:horse2zebra", batch_size=2)
    with pytest.raises(UsageError, match="cycle_gan/horses.*horse2zebra"):
        load_dataset("unpaired:tfds:cycle_gan/horses", batch_size=2)
    with pytest.raises(UsageError, match="cannot be loaded at version 9.9.9, only: 3.0.0"):
        load_dataset("unpaired:tfds:cycle_gan/horse2zebra:9.9.9", batch_size=2)
