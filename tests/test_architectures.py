"""Output shapes of every architecture, conditional variants, and shape errors."""

import keras
import numpy as np
import pytest

from tfgan_app import architectures
from tfgan_app.errors import UsageError


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_dcgan_shapes(shape):
    generator = architectures.dcgan_generator(16, shape, base_filters=8)
    images = generator(np.random.normal(size=(2, 16)).astype("float32"))
    assert images.shape == (2,) + shape
    assert float(np.abs(images).max()) <= 1.0
    discriminator = architectures.dcgan_discriminator(shape, base_filters=8)
    assert discriminator(images).shape == (2, 1)


@pytest.mark.parametrize("name", ["dcgan", "mlp"])
def test_conditional_generators_and_discriminators(name):
    generator = architectures.build_generator(name, 16, (28, 28, 1), num_classes=10)
    discriminator = architectures.build_discriminator(name, (28, 28, 1), num_classes=10)
    z, labels = keras.ops.convert_to_tensor(np.random.normal(size=(3, 16)), "float32"), keras.ops.array([0, 5, 9], "int32")
    images = generator([z, labels])
    assert images.shape == (3, 28, 28, 1) and discriminator([images, labels]).shape == (3, 1)
    # The label changes the output.
    assert not np.allclose(images, generator([z, keras.ops.array([1, 1, 1], "int32")]))


def test_mlp_on_points():
    generator = architectures.mlp_generator(4, (2,), output_activation="linear")
    assert generator(np.zeros((5, 4), "float32")).shape == (5, 2)
    assert architectures.mlp_discriminator((2,))(np.zeros((5, 2), "float32")).shape == (5, 1)


def test_architectures_round_trip_through_keras_saving(tmp_path):
    generator = architectures.dcgan_generator(8, (28, 28, 1), base_filters=4)
    path = str(tmp_path / "g.keras")
    generator.save(path)
    z = np.random.normal(size=(2, 8)).astype("float32")
    np.testing.assert_allclose(keras.saving.load_model(path)(z), generator(z), atol=1e-6)


def test_unsupported_shapes_and_names():
    with pytest.raises(UsageError, match=r"received image_shape \(30, 30, 1\).*--image_size"):
        architectures.dcgan_generator(8, (30, 30, 1))
    with pytest.raises(UsageError, match="square"):
        architectures.dcgan_discriminator((28, 32, 1))
    with pytest.raises(UsageError, match="Unknown generator architecture 'resnet'. Valid names: .*dcgan, .*mlp"):
        architectures.build_generator("resnet", 8, (28, 28, 1))
    with pytest.raises(UsageError, match="Unknown option 'filters' in discriminator_options of discriminator 'dcgan'"):
        architectures.build_discriminator("dcgan", (28, 28, 1), filters=3)


def test_extended_discriminator_with_a_separate_q_network():
    d = architectures.extended_discriminator((28, 28, 1), extra_outputs=12, extra_hidden_units=16, base_filters=4)
    outputs = d(np.zeros((3, 28, 28, 1), "float32"))
    assert outputs.shape == (3, 13)
    names = {layer.name for layer in d.layers}
    assert {"adversarial_logit", "extra_logits", "logits"} <= names
    # The auxiliary outputs have their own hidden layer: the adversarial logit does not depend on its weights.
    hidden = [layer for layer in d.layers if isinstance(layer, keras.layers.Dense) and layer.units == 16][0]
    before = np.array(outputs)
    hidden.kernel.assign(hidden.kernel * 2.0)
    after = np.array(d(np.zeros((3, 28, 28, 1), "float32")))
    np.testing.assert_allclose(after[:, 0], before[:, 0])


def test_infogan_paper_fully_connected_layers():
    """InfoGAN's MNIST networks: G has a hidden FC layer after the codes, D one shared by both heads."""
    g = architectures.infogan_generator(16, (28, 28, 1), num_categories=4, num_continuous=1, latent_hidden_units=32,
                                        base_filters=4)
    assert g.get_layer("body").inputs[0].shape[-1] == 32  # the base generator reads the hidden layer
    assert g(np.zeros((2, 16), "float32")).shape == (2, 28, 28, 1)
    d = architectures.extended_discriminator((28, 28, 1), extra_outputs=5, extra_hidden_units=8,
                                             shared_hidden_units=24, base_filters=4)
    shared = [layer for layer in d.layers if isinstance(layer, keras.layers.Dense) and layer.units == 24]
    assert len(shared) == 1
    # Both heads read the shared layer: scaling its kernel changes the adversarial logit and the Q outputs.
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    before = np.array(d(images, training=False))
    shared[0].kernel.assign(shared[0].kernel * 3.0)
    after = np.array(d(images, training=False))
    assert not np.allclose(after[:, 0], before[:, 0]) and not np.allclose(after[:, 1:], before[:, 1:])
