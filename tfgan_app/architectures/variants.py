"""Architectures for the GAN zoo, derived from the base DCGAN / MLP builders by transformation.

Rather than copying the DCGAN or MLP code, `extended_discriminator` builds the
base network and rewrites it:

* `spectral_norm=True` wraps every Dense/Conv layer in Keras
  `SpectralNormalization` (Miyato et al. 2018, SNGAN) and drops batch norm;
* `normalization="layer"` / `None` replaces batch norm (WGAN-GP's critic must not
  use it: the gradient penalty is per example);
* `minibatch_kernels > 0` inserts a `MinibatchDiscrimination` layer before the
  output (Salimans et al. 2016);
* `extra_outputs = n` widens the output to `[B, 1 + n]`: column 0 is the
  adversarial logit, the rest are auxiliary heads (InfoGAN Q head), all sharing
  the body; `class_head=True` adds `num_classes` class logits the same way
  (ACGAN) instead of taking labels as an input.

`infogan_generator` prepends a `LatentCodes` layer to a base generator.

Example (an SNGAN discriminator for MNIST and an ACGAN one):
>>> sn_d = extended_discriminator((28, 28, 1), base="dcgan", spectral_norm=True)
>>> ac_d = extended_discriminator((28, 28, 1), num_classes=10, base="dcgan", class_head=True)
>>> ac_d(keras.random.normal((2, 28, 28, 1))).shape
(2, 11)
"""

from typing import Optional, Sequence

import keras
from keras import layers

from tfgan_app.architectures.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.layers import LatentCodes, MinibatchDiscrimination, NormalizationSwap, OutputGradLeakyReLU

_BASE_DISCRIMINATORS = {"dcgan": dcgan_discriminator, "mlp": mlp_discriminator}
_BASE_GENERATORS = {"dcgan": dcgan_generator, "mlp": mlp_generator}
_NORMALIZATIONS = {"batch": None, "layer": "layer", None: "none"}


def _base(table, base: str, kind: str):
    if base not in table:
        raise UsageError(f"Unknown base {kind} {base!r} for the zoo architectures. Valid: {', '.join(sorted(table))}.")
    return table[base]


def _rewrite(model: keras.Model, spectral_norm: bool, normalization: Optional[str]) -> keras.Model:
    """Clones `model`, wrapping Dense/Conv layers in SpectralNormalization and replacing batch norm."""
    if normalization not in _NORMALIZATIONS:
        raise UsageError(f"normalization must be 'batch', 'layer' or null, received {normalization!r}.")
    replacement = _NORMALIZATIONS[normalization]
    if spectral_norm and normalization == "batch":
        replacement = "none"  # SNGAN's discriminator has no batch norm.
    if replacement is None and not spectral_norm:
        return model

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, layers.BatchNormalization) and replacement is not None:
            return NormalizationSwap(replacement, name=layer.name)
        if spectral_norm and isinstance(layer, (layers.Dense, layers.Conv2D)):
            inner = layer.__class__.from_config({**config, "name": f"{layer.name}_inner"})
            return layers.SpectralNormalization(inner, name=layer.name)
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=clone)


Q_NETWORK_LAYERS = ("q_hidden_dense", "q_hidden_norm", "extra_logits")


def _dense_bn_lrelu(features, units: int, name: str):
    """Dense → BatchNorm → LeakyReLU(0.2), the fully connected block of InfoGAN's D and Q networks."""
    x = layers.BatchNormalization(name=f"{name}_norm")(layers.Dense(int(units), name=f"{name}_dense")(features))
    return OutputGradLeakyReLU(0.2, name=f"{name}_activation")(x)


def extended_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None, base: str = "dcgan",
                           extra_outputs: int = 0, class_head: bool = False, spectral_norm: bool = False,
                           normalization: Optional[str] = "batch", minibatch_kernels: int = 0,
                           minibatch_kernel_dim: int = 5, extra_hidden_units: int = 0,
                           shared_hidden_units: int = 0, name: str = "discriminator",
                           **base_options) -> keras.Model:
    """Builds a base discriminator (`dcgan` or `mlp`) and extends it (see the module docstring).

    Args:
      image_shape, num_classes: as for the base builder.
      base: "dcgan" or "mlp".
      extra_outputs: auxiliary logits appended after the adversarial logit.
      class_head: use `num_classes` for K class logits after the adversarial logit (ACGAN's auxiliary
        classifier, placed before any `extra_outputs`) instead of for a label input.
      spectral_norm: spectral-normalise every Dense/Conv layer (and drop batch norm).
      normalization: "batch" (keep the base's), "layer" (LayerNormalization instead) or null (none).
      minibatch_kernels, minibatch_kernel_dim: `MinibatchDiscrimination` size (0 disables it).
      extra_hidden_units: if > 0, the `extra_outputs` come from their own hidden layer of this size
        (Dense → BatchNorm → LeakyReLU, InfoGAN's Q network) instead of sharing the adversarial logit's
        linear layer.
      shared_hidden_units: if > 0 (with `extra_outputs`), a Dense → BatchNorm → LeakyReLU layer of this
        size between the convolutional body and both heads (InfoGAN's MNIST discriminator: 1024).
      name: the model's name.
      **base_options: passed to the base builder (e.g. `base_filters`, `hidden_units`).

    Returns:
      The uncompiled `keras.Model`, float32 logits `[B, 1 + extra outputs]`: the adversarial logit first,
      then the class logits (with `class_head`), then the `extra_outputs`. With neither extra outputs nor
      minibatch discrimination it is the rewritten base model itself.

    Raises:
      UsageError: for `class_head=True` without `num_classes`, an unknown `base` or `normalization`, or an
        error of the base builder.

    Example:
    >>> d = extended_discriminator((28, 28, 1), 10, class_head=True, spectral_norm=True, base_filters=16)
    >>> d.output_shape
    (None, 11)
    """
    if class_head:
        if not num_classes:
            raise UsageError("class_head=true needs class labels: set conditional=true on a labelled dataset.")
        extra_outputs, num_classes = int(extra_outputs) + int(num_classes), None
    model = _base(_BASE_DISCRIMINATORS, base, "discriminator")(image_shape, num_classes, name=name, **base_options)
    model = _rewrite(model, spectral_norm, normalization)
    if not extra_outputs and not minibatch_kernels:
        return model
    features = model.get_layer("logits").input
    if minibatch_kernels:
        features = MinibatchDiscrimination(minibatch_kernels, minibatch_kernel_dim, name="minibatch")(features)
    if shared_hidden_units and extra_outputs:
        features = _dense_bn_lrelu(features, shared_hidden_units, "shared_hidden")
    if extra_hidden_units and extra_outputs:
        hidden = _dense_bn_lrelu(features, extra_hidden_units, "q_hidden")
        adversarial = layers.Dense(1, dtype="float32", name="adversarial_logit")(features)
        extra = layers.Dense(int(extra_outputs), dtype="float32", name="extra_logits")(hidden)
        logits = layers.Concatenate(dtype="float32", name="logits")([adversarial, extra])
        return keras.Model(model.inputs if num_classes else model.inputs[0], logits, name=name)
    head = layers.Dense(1 + int(extra_outputs), dtype="float32", name="logits")
    if spectral_norm:
        head = layers.SpectralNormalization(layers.Dense(1 + int(extra_outputs), name="logits_inner"),
                                            dtype="float32", name="logits")
    return keras.Model(model.inputs if num_classes else model.inputs[0], head(features), name=name)


def infogan_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                      num_categories: int = 10, num_continuous: int = 2, base: str = "dcgan",
                      latent_hidden_units: int = 0, name: str = "generator", **base_options) -> keras.Model:
    """A base generator preceded by `LatentCodes`: standard-normal z `[B, latent_dim]` → images.

    `latent_dim` counts noise and codes (InfoGAN MNIST: 62 + 10 + 2 = 74). `latent_hidden_units > 0` inserts
    a Dense → BatchNorm → ReLU layer of that size between the codes and the base generator (InfoGAN's
    MNIST generator: 1024), so codes and noise interact non-linearly before the image layers.

    Args:
      latent_dim: size of the whole latent vector (noise + codes).
      image_shape: `(H, W, C)` of the generated images.
      num_classes: must be None (the categorical code replaces labels).
      num_categories: size of the one-hot categorical code.
      num_continuous: number of continuous (uniform) codes.
      base: the base generator, "dcgan" or "mlp".
      latent_hidden_units: if > 0, a Dense → BatchNorm → ReLU layer of this size after the codes.
      name: the model's name.
      **base_options: passed to the base builder (e.g. `base_filters`).

    Returns:
      The uncompiled `keras.Model` from z `[B, latent_dim]` to float32 images in [-1, 1].

    Raises:
      UsageError: for a conditional request, a `latent_dim` not above `num_categories + num_continuous`, an
        unknown `base`, or an error of the base builder.

    Example:
    >>> infogan_generator(74, (28, 28, 1), num_categories=10, num_continuous=2, base_filters=16).output_shape
    (None, 28, 28, 1)
    """
    if num_classes:
        raise UsageError("The InfoGAN generator is unconditional (its categorical code replaces labels); "
                         "set conditional=false.")
    if latent_dim <= num_categories + num_continuous:
        raise UsageError(f"latent_dim ({latent_dim}) must exceed num_categories + num_continuous "
                         f"({num_categories + num_continuous}): it counts the noise and the codes.")
    z = keras.Input(shape=(latent_dim,), name="latents")
    x = LatentCodes(num_categories, num_continuous, name="latent_codes")(z)
    if latent_hidden_units:
        x = layers.ReLU()(layers.BatchNormalization()(layers.Dense(int(latent_hidden_units), use_bias=False)(x)))
    body = _base(_BASE_GENERATORS, base, "generator")(int(x.shape[-1]), image_shape, None, name="body",
                                                      **base_options)
    return keras.Model(z, body(x), name=name)
