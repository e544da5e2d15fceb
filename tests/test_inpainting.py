"""Context-encoder inpainting (`tfgan_app.gans.inpainting`): the hole-only reconstruction of Pathak et al. 2016.

The reconstruction term sees the hole only, the training inputs are the images with the central hole
blanked, the generator loss is λ_rec·hole + λ_adv·adversarial, and the preset trains from the CLI and
exports as an image-to-image model.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.architectures import patchgan_discriminator, unet_generator
from tfgan_app.cli.main import main
from tfgan_app.data.paired import center_mask, load_paired
from tfgan_app.errors import UsageError
from tfgan_app.gans.inpainting import ContextEncoder


def test_center_mask_is_the_central_quarter():
    mask = center_mask(28, 28).numpy()[0, :, :, 0]
    assert mask.sum() == 14 * 14 and mask[7:21, 7:21].all()
    assert mask[:7].sum() == mask[21:].sum() == mask[:, :7].sum() == mask[:, 21:].sum() == 0


def test_hole_reconstruction_loss_sees_the_hole_only():
    rng = np.random.default_rng(0)
    targets, outputs = (rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32) for _ in range(2))
    mask = center_mask(8, 8).numpy()
    expected = ((targets - outputs) ** 2 * mask).sum(axis=(1, 2, 3)) / mask.sum()
    np.testing.assert_allclose(losses.hole_reconstruction_loss(targets, outputs, mask), expected, rtol=1e-5)
    outside = outputs + 5.0 * (1 - mask)  # a different image outside the hole: same loss
    np.testing.assert_allclose(losses.hole_reconstruction_loss(targets, outside, mask), expected, rtol=1e-5)
    inside = outputs + 0.5 * mask
    assert np.all(losses.hole_reconstruction_loss(targets, inside, mask).numpy() != pytest.approx(expected))


def test_mnist_inpaint_inputs_are_the_targets_with_the_hole_blanked():
    inputs, targets = next(iter(load_paired("mnist_inpaint", batch_size=4, split="test", shuffle=False).dataset))
    mask = center_mask(28, 28).numpy()
    np.testing.assert_array_equal(inputs.numpy() * mask, 0.0)
    np.testing.assert_allclose(inputs.numpy() * (1 - mask), targets.numpy() * (1 - mask))
    assert float(tf.reduce_max(tf.abs(targets * mask))) > 0.5  # the hole hid some of the digit


def tiny_context_encoder(**options):
    keras.utils.set_random_seed(0)
    gan = ContextEncoder(unet_generator((8, 8, 1), base_filters=4),
                         patchgan_discriminator((8, 8, 1), condition_shape=(8, 8, 1), base_filters=4, num_layers=1),
                         **options)
    gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    return gan


def test_generator_loss_weights_hole_reconstruction_and_adversarial_terms():
    gan = tiny_context_encoder(rec_weight=0.9, adv_weight=0.1)
    rng = np.random.default_rng(1)
    real, fake = (tf.constant(rng.uniform(-1, 1, (2, 8, 8, 1)), tf.float32) for _ in range(2))
    logits = tf.constant(rng.normal(size=(2, 2, 2, 1)), tf.float32)
    hole = losses.hole_reconstruction_loss(real, fake, center_mask(8, 8))
    adversarial = losses.get("non_saturating").generator(logits)
    np.testing.assert_allclose(gan.generator_loss(logits, fake, real, None), 0.9 * hole + 0.1 * adversarial,
                               rtol=1e-5)
    assert float(gan.extra_trackers["hole_mse"].result()) == pytest.approx(float(tf.reduce_mean(hole)), rel=1e-5)
    with pytest.raises(UsageError, match="rec_weight=-1"):
        tiny_context_encoder(rec_weight=-1)


def test_preset_trains_from_the_cli_and_exports_as_image_to_image(tmp_path, capsys):
    out, base = str(tmp_path / "run"), str(tmp_path / "export")
    assert main(["tfgan", "train", "--model=inpaint_mnist", "--epochs=1", "--steps_per_epoch=2", "--batch_size=4",
                 "--set", "generator_options.base_filters=4", "--set", "discriminator_options.base_filters=4",
                 f"--output_dir={out}"]) == 0
    assert "hole_mse" in capsys.readouterr().out
    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    assert type(gan) is ContextEncoder and (gan.rec_weight, gan.adv_weight) == (0.999, 0.001)
    assert main(["tfgan", "export", f"--run_dir={out}", f"--base={base}", "--tflite=float32"]) == 0
    version = os.path.join(base, "inpaint_mnist", "1")
    with open(os.path.join(version, "tflite", "generator.json")) as f:
        assert all(e["parity"]["meets_threshold"] for e in json.load(f)["files"].values())
    signature = tf.saved_model.load(version).signatures["serving_default"]
    assert list(signature.structured_input_signature[1].values())[0].shape.as_list() == [None, 28, 28, 1]


def test_generate_mask_fills_the_hole_of_user_images_and_keeps_the_rest(tmp_path, capsys):
    from PIL import Image
    from tfgan_app.images import from_uint8
    run, inputs = tmp_path / "run", tmp_path / "inputs"
    os.makedirs(run)
    generator = unet_generator((8, 8, 1), base_filters=4)
    generator.save(str(run / "generator.keras"))
    with open(run / "config.json", "w") as f:
        json.dump({"name": "tiny_inpaint", "image_shape": [8, 8, 1], "input_shape": [8, 8, 1]}, f)
    os.makedirs(inputs)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 8, 8), np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(inputs / f"d{i}.png")
    for mask in ("center", "random"):
        out = tmp_path / mask
        assert main(["tfgan", "generate", f"--model={run}", f"--inputs={inputs}", f"--mask={mask}",
                     f"--output_dir={out}"] + (["--seed=1"] if mask == "random" else [])) == 0
        written = np.stack([np.asarray(Image.open(out / f"d{i}.png").convert("L")) for i in range(2)])
        holes = np.stack([np.asarray(Image.open(out / f"d{i}.png").convert("L")) != pixels[i] for i in range(2)])
        if mask == "center":
            hole = center_mask(8, 8).numpy()[0, :, :, 0].astype(bool)
            np.testing.assert_array_equal(written[:, ~hole], pixels[:, ~hole])  # the user's pixels outside
            assert holes[:, hole].mean() > 0.5  # the generator's fill inside
            expected = np.asarray(generator(from_uint8(pixels[..., None]) * (1 - center_mask(8, 8).numpy())))
            np.testing.assert_allclose(from_uint8(written)[:, hole], expected[:, hole, 0], atol=1 / 127.5 + 1e-6)
        else:
            assert 0 < holes.mean() < 0.5  # one block of a quarter of the pixels changes
    capsys.readouterr()
    assert main(["tfgan", "generate", f"--model={run}", "--mask=center", f"--output_dir={tmp_path / 'x'}"]) == 2
    assert "--mask=center" in capsys.readouterr().err
