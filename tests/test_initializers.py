"""Initial weights: every layer draws its own, and `keras.utils.set_random_seed` makes them reproducible."""

import itertools

import keras
import numpy as np
import pytest

from tfgan_app import architectures


def _kernels(model):
    return [w.numpy() for w in model.weights if w.path.endswith("kernel")]


BUILDERS = {
    "dcgan_generator": lambda: architectures.dcgan_generator(16, (28, 28, 1)),
    "dcgan_discriminator": lambda: architectures.dcgan_discriminator((28, 28, 1)),
    "unet_generator": lambda: architectures.unet_generator((16, 16, 1)),
    "patchgan_discriminator": lambda: architectures.patchgan_discriminator((16, 16, 1), (16, 16, 1)),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_layers_of_the_same_shape_start_different(name):
    keras.utils.set_random_seed(0)
    kernels = _kernels(BUILDERS[name]())
    same = [(a.shape, i, j) for (i, a), (j, b) in itertools.combinations(enumerate(kernels), 2)
            if a.shape == b.shape and np.array_equal(a, b)]
    assert not same, f"{name}: kernels with identical initial values (shape, layer i, layer j): {same}"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_initial_weights_follow_the_global_seed(name):
    runs = []
    for seed in (1, 1, 2):
        keras.utils.set_random_seed(seed)
        runs.append(_kernels(BUILDERS[name]()))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1])), "same seed, different weights"
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2])), "different seeds, same weights"
