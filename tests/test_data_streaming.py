"""Streaming image folders, TFRecord shards (`tfgan prepare`, `tfrecord:`), augmentation options."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_app import presets, training
from tfgan_app.cli.main import main
from tfgan_app.data import load_dataset
from tfgan_app.data.folder import load_folder
from tfgan_app.errors import MissingResourceError, UsageError

from test_distribute import write_images, write_tiny_preset


def _all(info):
    """Every (images, labels) of one pass, concatenated."""
    batches = list(info.dataset)
    return np.concatenate([x.numpy() for x, _ in batches]), np.concatenate([y.numpy() for _, y in batches])


def test_folder_images_are_read_while_iterating_not_up_front(image_folder):
    info = load_dataset(f"folder:{image_folder}", batch_size=12, shuffle=False)
    # Replace a 'bright' image after the pipeline was built: the next pass reads the new pixels.
    Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(os.path.join(image_folder, "bright", "0.png"))
    images, labels = _all(info)
    assert labels.tolist() == [0] * 6 + [1] * 6
    assert images[0].max() == -1.0 and images[1].mean() > 0.3


def test_the_check_names_a_truncated_file_and_decodes_no_pixels(image_folder, monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the check decoded pixels")
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "convert", no_decoding)
    info = load_dataset(f"folder:{image_folder}", batch_size=4)  # all fine: checked without pixels
    assert info.num_examples == 12
    good = os.path.join(image_folder, "bright", "1.png")
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(image_folder, "bright", "truncated.png"), "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(MissingResourceError, match=r"Cannot read image file .*truncated\.png"):
        load_dataset(f"folder:{image_folder}", batch_size=4)


def test_mirror_flips_some_images_left_right(tmp_path):
    half = np.zeros((8, 8, 1), np.uint8)
    half[:, 4:] = 255  # dark left, bright right
    os.makedirs(tmp_path / "x")
    for i in range(32):
        Image.fromarray(half[..., 0]).save(tmp_path / "x" / f"{i}.png")
    plain, _ = _all(load_dataset(f"folder:{tmp_path / 'x'}", batch_size=32, seed=1))
    mirrored, _ = _all(load_dataset(f"folder:{tmp_path / 'x'}", batch_size=32, seed=1, options={"mirror": True}))
    assert (plain[:, :, 0] == -1).all()
    flipped = (mirrored[:, :, 0] == 1).all(axis=(1, 2))
    assert 4 <= flipped.sum() <= 28 and ((mirrored[:, :, -1] == -1).all(axis=(1, 2)) == flipped).all()


def test_center_crop_keeps_the_middle_square_resize_keeps_everything(tmp_path):
    wide = np.zeros((8, 24), np.uint8)
    wide[:, 8:16] = 255  # bright middle square between dark sides
    os.makedirs(tmp_path / "w")
    for i in range(2):
        Image.fromarray(wide).save(tmp_path / "w" / f"{i}.png")
    spec = f"folder:{tmp_path / 'w'}"
    cropped, _ = _all(load_dataset(spec, batch_size=2, image_size=(8, 8), options={"crop": "center"}))
    resized, _ = _all(load_dataset(spec, batch_size=2, image_size=(8, 8)))
    assert cropped.min() == 1.0
    assert resized[:, :, 0].max() == -1.0 and resized[:, :, 4].min() == 1.0


def test_bad_data_options_are_named(image_folder):
    with pytest.raises(UsageError, match=r"Unknown data option\(s\) \['flip'\]. Valid options: mirror, crop, cache"):
        load_dataset(f"folder:{image_folder}", batch_size=4, options={"flip": True})
    with pytest.raises(UsageError, match="crop must be one of resize, center, received 'middle'"):
        load_dataset(f"folder:{image_folder}", batch_size=4, options={"crop": "middle"})
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), ["data.mirror=true"])
    assert preset.data == {"mirror": True}


def test_cache_in_memory_gives_the_same_images(image_folder):
    streamed = _all(load_dataset(f"folder:{image_folder}", batch_size=4, shuffle=False))
    cached = load_dataset(f"folder:{image_folder}", batch_size=4, shuffle=False, options={"cache": "memory"})
    for _ in range(2):  # the second pass comes from the cache
        for a, b in zip(streamed, _all(cached)):
            np.testing.assert_array_equal(a, b)


def test_prepare_then_tfrecord_gives_the_folders_images_and_labels(image_folder, tmp_path, capsys):
    out = tmp_path / "packed"
    assert main(["tfgan", "prepare", f"--dataset=folder:{image_folder}", f"--output={out}", "--size=8",
                 "--shards=3"]) == 0
    assert "Wrote 12 images (8x8x3, 2 classes: bright, dark) in 3 shard(s)" in capsys.readouterr().out
    description = json.loads((out / "dataset.json").read_text())
    assert description["count"] == 12 and description["class_names"] == ["bright", "dark"]
    assert sorted(os.listdir(out)) == ["dataset.json"] + [f"shard-0000{i}-of-00003.tfrecord" for i in range(3)]
    folder = load_dataset(f"folder:{image_folder}", batch_size=4, image_size=(8, 8), shuffle=False)
    packed = load_dataset(f"tfrecord:{out}", batch_size=4, shuffle=False)
    assert (packed.image_shape, packed.num_classes, packed.num_examples) == ((8, 8, 3), 2, 12)
    for a, b in zip(_all(folder), _all(packed)):
        np.testing.assert_array_equal(a, b)
    shuffled = _all(load_dataset(f"tfrecord:{out}", batch_size=4, seed=3))
    assert sorted(shuffled[1].tolist()) == [0] * 6 + [1] * 6


def test_prepare_refuses_bad_input(image_folder, tmp_path, capsys):
    assert main(["tfgan", "prepare", f"--dataset={image_folder}", f"--output={tmp_path}/o"]) == 2
    assert "--dataset must be folder:/PATH" in capsys.readouterr().err
    assert main(["tfgan", "prepare", f"--dataset=folder:{image_folder}", f"--output={tmp_path}/o",
                 "--shards=0"]) == 2
    assert "--shards must be" in capsys.readouterr().err
    assert main(["tfgan", "prepare", f"--dataset=folder:{image_folder}", f"--output={tmp_path}/o",
                 "--shards=13"]) == 2
    assert "--shards must be between 1 and the number of images (12), received 13" in capsys.readouterr().err
    with pytest.raises(MissingResourceError, match="No prepared dataset .*tfgan prepare"):
        load_dataset(f"tfrecord:{tmp_path}/nothing", batch_size=4)


def test_folder_and_shards_on_a_non_local_filesystem(image_folder):
    """TensorFlow's in-memory `ram://` filesystem stands in for gs://: listing, checking, reading, writing."""
    root = "ram://tfgan_test_data"
    for name in ("bright", "dark"):
        tf.io.gfile.makedirs(f"{root}/images/{name}")
        for i in range(6):
            tf.io.gfile.copy(os.path.join(image_folder, name, f"{i}.png"), f"{root}/images/{name}/{i}.png",
                             overwrite=True)
    try:
        local = _all(load_dataset(f"folder:{image_folder}", batch_size=4, shuffle=False))
        remote = _all(load_dataset(f"folder:{root}/images", batch_size=4, shuffle=False))
        assert main(["tfgan", "prepare", f"--dataset=folder:{root}/images", f"--output={root}/packed"]) == 0
        packed = _all(load_dataset(f"tfrecord:{root}/packed", batch_size=4, shuffle=False))
        for a, b, c in zip(local, remote, packed):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)
    finally:
        tf.io.gfile.rmtree(root)


def test_tfrecord_trains_the_same_model_as_the_folder(tmp_path):
    folder = write_images(tmp_path / "images", num=16)
    assert main(["tfgan", "prepare", f"--dataset={folder}", f"--output={tmp_path / 'packed'}", "--shards=1"]) == 0
    preset = presets.load_preset(write_tiny_preset(tmp_path / "tiny.json", steps_per_epoch=2))
    weights = []
    for spec in (folder, f"tfrecord:{tmp_path / 'packed'}"):
        run = training.train(presets.apply_overrides(preset, [f"dataset={spec}"]), str(tmp_path / spec[:6]),
                             verbose=0)
        weights.append([w.numpy() for w in run.gan.weights])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_load_folder_still_reads_arrays_for_in_memory_sources(image_folder):
    images, labels, classes = load_folder(image_folder, (6, 6), 1)
    assert images.shape == (12, 6, 6, 1) and images.dtype == np.uint8
    assert classes == ["bright", "dark"] and labels.tolist() == [0] * 6 + [1] * 6
