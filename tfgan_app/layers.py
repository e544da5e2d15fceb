"""Custom Keras layers used by the GAN zoo (all serializable with `keras.saving`).

* `MinibatchDiscrimination` (Salimans et al. 2016, §3.2): lets the discriminator
  see how similar a sample is to the rest of its batch, so a generator that
  collapses to one mode is easy to reject.
* `LatentCodes` (Chen et al. 2016, InfoGAN): turns a standard-normal latent
  vector into `[noise, one-hot categorical code, uniform continuous codes]`, so
  a generator that starts with it can be fed `tfgan_app.latent.sample_latents`
  like any other (exports and `tfgan generate` need no special case).

* `OutputGradLeakyReLU`: `keras.layers.LeakyReLU` whose gradient reads its output, so TensorFlow's CPU
  remapper can fuse Conv2D + BiasAdd + LeakyRelu in training graphs (see its docstring).

Example:
>>> features = keras.Input((64,))
>>> x = MinibatchDiscrimination(num_kernels=50, kernel_dim=5)(features)  # [B, 64 + 50]
>>> codes = LatentCodes(num_categories=10, num_continuous=2)(keras.random.normal((4, 74)))
"""

import math
from typing import Any, Dict

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfgan_app")
class MinibatchDiscrimination(keras.layers.Layer):
    """Appends minibatch features `o(x_i)` to the input features `f(x_i)` (Salimans et al. 2016).

    With a learned tensor T `[A, num_kernels, kernel_dim]`: M_i = f(x_i)·T,
    c_b(x_i, x_j) = exp(−‖M_i,b − M_j,b‖₁), o(x_i)_b = Σ_j c_b(x_i, x_j) (the sum runs
    over the whole local batch, j = i included, as in the paper). Output:
    `concat([f(x_i), o(x_i)])`, shape `[B, A + num_kernels]`.

    Args:
      num_kernels: B in the paper, number of similarity features added.
      kernel_dim: C in the paper, dimension of each kernel's projection.
    """

    def __init__(self, num_kernels: int = 50, kernel_dim: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
                                      initializer=keras.initializers.RandomNormal(stddev=0.05))

    def call(self, features):
        m = tf.reshape(tf.matmul(features, self.kernel), [-1, self.num_kernels, self.kernel_dim])
        l1 = tf.reduce_sum(tf.abs(m[:, None, :, :] - m[None, :, :, :]), axis=-1)  # [B, B, kernels]
        return tf.concat([features, tf.reduce_sum(tf.exp(-l1), axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(input_shape[-1]) + self.num_kernels)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}


@keras.saving.register_keras_serializable(package="tfgan_app")
class LatentCodes(keras.layers.Layer):
    """Maps a standard-normal latent `[B, D]` to InfoGAN inputs `[noise, one-hot code, continuous codes]`.

    The last `num_categories + num_continuous` entries of z are the codes in
    "normal form": the categorical code is the argmax of its `num_categories`
    entries (uniform over categories, since they are i.i.d.) and each continuous
    code is `erf(z / √2) = 2Φ(z) − 1`, uniform on (−1, 1). The output has the same
    size D as the input. `codes_from_latents` gives the codes alone (what the Q
    head must recover).

    Args:
      num_categories: size of the categorical code (10 for MNIST digits).
      num_continuous: number of continuous codes.
    """

    def __init__(self, num_categories: int = 10, num_continuous: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.num_categories = int(num_categories)
        self.num_continuous = int(num_continuous)

    @property
    def num_codes(self) -> int:
        """Entries of z that are codes (the rest is incompressible noise)."""
        return self.num_categories + self.num_continuous

    def codes_from_latents(self, z):
        """Returns `(categories int32 [B], continuous float32 [B, num_continuous])` encoded in z."""
        noise_dim = int(z.shape[-1]) - self.num_codes
        categories = tf.argmax(z[:, noise_dim:noise_dim + self.num_categories], axis=-1, output_type=tf.int32)
        continuous = tf.math.erf(z[:, noise_dim + self.num_categories:] / math.sqrt(2.0))
        return categories, continuous

    def call(self, z):
        noise_dim = int(z.shape[-1]) - self.num_codes
        categories, continuous = self.codes_from_latents(z)
        return tf.concat([z[:, :noise_dim], tf.one_hot(categories, self.num_categories, dtype=z.dtype),
                          tf.cast(continuous, z.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_categories": self.num_categories,
                "num_continuous": self.num_continuous}


_SWAPS = {"layer": lambda: keras.layers.LayerNormalization(name="layer_norm"), "none": lambda: None}


@keras.saving.register_keras_serializable(package="tfgan_app")
class NormalizationSwap(keras.layers.Layer):
    """Stands in for a `BatchNormalization` layer when a model is rewritten: layer norm or nothing.

    Accepts batch norm's call arguments (`training`, `mask`), so it can replace one
    inside a cloned functional model (see `tfgan_app.architectures.variants`).
    WGAN-GP critics use `kind="layer"` (Gulrajani et al. 2017: no batch norm, whose
    cross-example coupling breaks the per-example gradient penalty); SNGAN uses
    `kind="none"`.

    Args:
      kind: "layer" (LayerNormalization over the last axis) or "none" (identity).
    """

    def __init__(self, kind: str = "layer", **kwargs):
        super().__init__(**kwargs)
        if kind not in _SWAPS:
            raise ValueError(f"kind must be 'layer' or 'none', received {kind!r}.")
        self.kind = kind
        self.norm = _SWAPS[kind]()

    def build(self, input_shape):
        if self.norm is not None:
            self.norm.build(input_shape)

    def call(self, inputs, training=None, mask=None):
        return inputs if self.norm is None else self.norm(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "kind": self.kind}


def _leaky_relu(x, negative_slope: float):
    """`leaky_relu(x)` whose gradient reads its output `y` (y > 0 exactly where x > 0, as the slope is > 0)."""

    @tf.custom_gradient
    def forward(x):
        y = tf.nn.leaky_relu(x, alpha=negative_slope)

        def grad(dy):
            return tf.where(y > 0, dy, dy * tf.cast(negative_slope, dy.dtype))

        return y, grad

    return forward(x)


@keras.saving.register_keras_serializable(package="tfgan_app")
class OutputGradLeakyReLU(keras.layers.LeakyReLU):
    """`keras.layers.LeakyReLU` (same values, first and second derivatives) whose gradient reads its output.

    After a `Conv2D` with bias, TensorFlow's CPU (oneDNN) grappler remapper fuses Conv2D + BiasAdd +
    LeakyRelu into one op and deletes the BiasAdd that the backward pass's `LeakyReluGrad` still reads,
    so every training graph logged `E... remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout
    '.../LeakyReluGrad' exist for missing node '.../BiasAdd'` and ran with no remapper fusion at all.
    Taking the gradient from the output leaves the activation the BiasAdd's only reader, so the fusion is
    valid and the error is gone. Needs a slope > 0.
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        super().__init__(negative_slope=negative_slope, **kwargs)
        if not self.negative_slope > 0:
            raise ValueError(f"Expected negative_slope > 0, received negative_slope={negative_slope}.")

    def call(self, inputs):
        return _leaky_relu(inputs, float(self.negative_slope))
