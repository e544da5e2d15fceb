"""Model presets in models/: every one loads and builds; overrides and bad values are reported clearly."""

import json

import pytest

from tfgan_app import presets, training
from tfgan_app.errors import MissingResourceError, UsageError


@pytest.mark.parametrize("name", presets.available_presets())
def test_every_preset_is_valid(name):
    preset = presets.load_preset(name)
    assert preset.name == name and preset.description
    presets.build_optimizer(preset.d_optimizer)
    presets.build_optimizer(preset.g_optimizer)


def test_default_preset_builds_a_compiled_gan():
    preset = presets.load_preset("dcgan_mnist")
    gan = training.build_gan(preset, (28, 28, 1), 10)
    assert gan.latent_dim == preset.latent_dim and gan.loss_pair.name == preset.loss
    assert gan.d_optimizer.learning_rate.numpy() == pytest.approx(preset.d_optimizer["learning_rate"])


def test_overrides_parse_json_and_reach_nested_options():
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"),
                                     ["batch_size=32", "generator_options.base_filters=16", "loss=hinge",
                                      "image_size=32"])
    assert preset.batch_size == 32 and preset.generator_options["base_filters"] == 16
    assert preset.loss == "hinge" and preset.image_size == [32, 32]


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(MissingResourceError, match="Unknown model preset 'dcgan_mnst'. Available presets: .*dcgan_mnist"):
        presets.load_preset("dcgan_mnst")


@pytest.mark.parametrize("override, message", [
    ("batch_size=0", "batch_size must be a positive integer, received 0"),
    ("epochs=-1", "epochs must be a positive integer"),
    ("epoch=3", "Unknown preset field 'epoch'"),
    ("batch_size", "must look like field=value"),
    ("mixed_precision=fp8", "mixed_precision must be"),
    ("loss.name=x", "'loss' is not an object field"),
])
def test_bad_overrides(override, message):
    with pytest.raises(UsageError, match=message):
        presets.apply_overrides(presets.load_preset("dcgan_mnist"), [override])


def test_preset_files_reject_unknown_fields_and_bad_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"latent": 3}))
    with pytest.raises(UsageError, match="Unknown preset field"):
        presets.load_preset(str(bad))
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        presets.load_preset(str(bad))


def test_conditional_preset_on_unlabelled_data_is_rejected():
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), ["conditional=true"])
    with pytest.raises(UsageError, match="conditional but dataset 'mnist' has no labels"):
        training.build_gan(preset, (28, 28, 1), None)
