"""The `tfds:` path offline: TFDS's own dependencies, training under `tfds.testing.mock_data`, clear errors.

`tfds.testing.mock_data` stands in for the prepared data (random examples with the
dataset's real features), so `tfgan train` on `tfds:cifar10`, `tfds:mnist` and the
`dcgan_cifar10` preset runs here without the data or the network.
"""

import os

import pytest
import tensorflow_datasets as tfds

from tfgan_app.cli.main import main
from tfgan_app.data import load_dataset
from tfgan_app.errors import MissingResourceError


def test_tfds_finds_every_module_it_imports_lazily():
    """TFDS imports importlib_resources when it first prepares a dataset but declares it only for
    Python < 3.9 (tensorflow/datasets#11212); setup.cfg declares it for us."""
    from tensorflow_datasets.core import dataset_builder  # pylint: disable=import-outside-toplevel
    assert dataset_builder.importlib_resources.abc.Traversable is not None


@pytest.mark.parametrize("spec, args", [
    ("tfds:cifar10", ["--dataset=tfds:cifar10", "--model=gan_mlp_mnist"]),
    ("tfds:mnist", ["--dataset=tfds:mnist", "--model=gan_mlp_mnist"]),
    ("dcgan_cifar10", ["--model=dcgan_cifar10", "--set=generator_options={\"base_filters\": 8}",
                       "--set=discriminator_options={\"base_filters\": 8}"]),
])
def test_train_two_steps_on_tfds_under_mock_data(tmp_path, spec, args):
    out = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=16):
        code = main(["tfgan", "train", *args, "--epochs=1", "--steps_per_epoch=2", "--batch_size=4",
                     f"--output_dir={out}"])
    assert code == 0, spec
    assert os.path.exists(out / "generator.keras") and os.path.exists(out / "gan.keras"), spec


def _prepare_fails(monkeypatch, error):
    def download_and_prepare(self, *args, **kwargs):
        raise error
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: False)


def test_a_missing_python_package_is_named_not_blamed_on_the_network(monkeypatch):
    _prepare_fails(monkeypatch, ModuleNotFoundError("No module named 'importlib_resources'",
                                                    name="importlib_resources"))
    with pytest.raises(MissingResourceError) as error:
        load_dataset("tfds:cifar10", batch_size=4)
    message = str(error.value)
    assert "'importlib_resources'" in message and "pip install importlib_resources" in message, message
    assert "internet" not in message and "tfds build" not in message, message


def test_unprepared_data_says_it_is_not_prepared_and_why_preparing_failed(monkeypatch, tmp_path):
    _prepare_fails(monkeypatch, ConnectionError("Failed to resolve 'www.cs.toronto.edu'"))
    with pytest.raises(MissingResourceError) as error:
        load_dataset("tfds:cifar10", batch_size=4, data_dir=str(tmp_path))
    message = str(error.value)
    for part in ("'cifar10'", "not prepared", str(tmp_path), "ConnectionError: Failed to resolve", "tfds build cifar10",
                 "TFDS_DATA_DIR"):
        assert part in message, message


def test_a_boolean_attribute_is_the_class_for_face_aging_on_celeb_a(tmp_path):
    """`data.label=attributes/Young` makes celeb_a's boolean attribute a 2-class label (Age-cGAN's face aging), and
    the agecgan model trains on it."""
    with tfds.testing.mock_data(num_examples=16):
        info = load_dataset("tfds:celeb_a", batch_size=8, image_size=(16, 16), options={"label": "attributes/Young"})
        _, labels = next(iter(info.dataset))
        assert info.num_classes == 2 and set(labels.numpy()) <= {0, 1}
        out = tmp_path / "run"
        assert main(["tfgan", "train", "--model=agecgan_mnist", "--dataset=tfds:celeb_a", "--set=image_size=[16,16]",
                     "--set=data.label=attributes/Young", "--set=generator_options.base_filters=4",
                     "--set=discriminator_options.base_filters=4", "--set=gan_options.encoder_filters=4",
                     "--epochs=1", "--steps_per_epoch=2", "--batch_size=4", f"--output_dir={out}"]) == 0
    assert os.path.exists(out / "gan.keras")


@pytest.mark.parametrize("spec, label, message", [
    ("mnist", "attributes/Young", "not a tfds: dataset"),
    ("tfds:celeb_a", "attributes/Ageless", "has no feature 'attributes/Ageless'"),
    ("tfds:celeb_a", "image", "must name a class or boolean feature"),
])
def test_a_label_the_dataset_cannot_give_is_a_usage_error(spec, label, message):
    from tfgan_app.errors import UsageError  # pylint: disable=import-outside-toplevel
    with tfds.testing.mock_data(num_examples=4), pytest.raises(UsageError, match=message):
        load_dataset(spec, batch_size=2, options={"label": label})
