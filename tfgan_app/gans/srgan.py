"""SRGAN (Ledig et al. 2017): adversarial super-resolution with a perceptual content loss.

Batches are `(low_res, high_res)` pairs (e.g. `load_paired("mnist_lowres")`).
The generator (`srgan_generator`) upsamples; the discriminator judges high-res
images (real vs super-resolved). The generator minimises

    pixel_weight·MSE(G(x), y) + perceptual_weight·MSE(φ(G(x)), φ(y)) + adversarial_weight·adv(D(G(x)))

where φ is a frozen feature extractor (VGG19 in the paper, adversarial_weight
10⁻³). φ is pluggable (`feature_extractor`):

| value | φ |
|---|---|
| `"mnist"` / `"fashion_mnist"` (default `"mnist"`) | last conv block of the shipped offline classifier CNN |
| a path to a `.keras` classifier | its last conv block (the input of its global pooling layer) |
| `"vgg19"` | Keras VGG19 `block5_conv4` (ImageNet weights; needs them in the Keras cache offline) |
| a `keras.Model` | any model taking images in [-1, 1] |
| `None` | no perceptual term (SRResNet-style pixel MSE) |

`super_resolution_report` measures PSNR / SSIM of the generator and of bicubic
upsampling against the high-res images (both on [-1, 1] images, `max_val=2`,
i.e. the same as on 0..255 pixels).

Example:
>>> info = load_paired("mnist_lowres", batch_size=16)
>>> gan = SRGAN(srgan_generator((14, 14, 1), scale=2, filters=32, num_blocks=4),
...             dcgan_discriminator((28, 28, 1), base_filters=16))
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(info.dataset, epochs=1)
>>> super_resolution_report(gan.generator, low_res, high_res)
{'psnr': ..., 'ssim': ..., 'bicubic_psnr': ..., 'bicubic_ssim': ...}
"""

import os
from typing import Any, Dict, Optional, Union

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures.dcgan import dcgan_discriminator
from tfgan_app.architectures.srgan import srgan_generator
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.gans.image_to_image import ImageToImageGAN, check_builder, pair_shapes, translate_images
from tfgan_app.images import PIXEL_SCALE
from tfgan_app.paths import CLASSIFIER_DIR

ExtractorSpec = Union[None, str, keras.Model]


def _classifier_features(path: str) -> keras.Model:
    """A `.keras` classifier truncated at its last spatial feature map, taking images in [-1, 1]."""
    if not os.path.isfile(path):
        raise MissingResourceError(f"Feature extractor file {path!r} does not exist; pass an existing .keras "
                                   "classifier, 'mnist', 'fashion_mnist', 'vgg19' or None.")
    classifier = keras.saving.load_model(path, compile=False)
    pools = [layer for layer in classifier.layers
             if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D,
                                   keras.layers.Flatten))]
    if not pools:
        raise UsageError(f"Classifier {path!r} has no global pooling or Flatten layer; cannot find its last "
                         "convolutional feature map to use as perceptual features.")
    trunk = keras.Model(classifier.inputs, pools[0].input)
    images = keras.Input(shape=tuple(classifier.inputs[0].shape[1:]), name="images")
    # The shipped classifiers take 0..255 pixel values (their scaling is inside the model).
    features = trunk(keras.layers.Rescaling(PIXEL_SCALE, offset=PIXEL_SCALE)(images), training=False)
    return keras.Model(images, features, name="content_features")


def _vgg19_features() -> keras.Model:
    try:
        vgg = keras.applications.VGG19(include_top=False, weights="imagenet")
    except Exception as e:  # Keras raises several kinds of errors when it cannot download.
        raise MissingResourceError(
            f"VGG19 ImageNet weights are not available ({type(e).__name__}: {e}). Offline, put "
            "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 in ~/.keras/models/, or use "
            "feature_extractor='mnist' (shipped) or None.") from e
    trunk = keras.Model(vgg.inputs, vgg.get_layer("block5_conv4").output)
    images = keras.Input(shape=(None, None, 3), name="images")
    # Caffe preprocessing of keras.applications.vgg19: RGB → BGR, minus the ImageNet channel means.
    bgr = keras.layers.Rescaling(PIXEL_SCALE, offset=PIXEL_SCALE)(images)[..., ::-1]
    features = trunk(bgr - np.array([103.939, 116.779, 123.68], np.float32), training=False)
    return keras.Model(images, features, name="content_features")


def content_feature_extractor(spec: ExtractorSpec) -> Optional[keras.Model]:
    """Resolves a `feature_extractor` value (see the module docstring) to a frozen model, or None."""
    if spec is None or isinstance(spec, keras.Model):
        model = spec
    elif spec in ("mnist", "fashion_mnist"):
        model = _classifier_features(os.path.join(CLASSIFIER_DIR, f"{spec}_classifier.keras"))
    elif spec == "vgg19":
        model = _vgg19_features()
    elif isinstance(spec, str) and spec.endswith(".keras"):
        model = _classifier_features(spec)
    else:
        raise UsageError(f"Unknown feature_extractor {spec!r}; expected 'mnist', 'fashion_mnist', 'vgg19', a "
                         ".keras classifier path, a keras.Model or None.")
    if model is not None:
        model.trainable = False
    return model


def super_resolution_report(generator: keras.Model, low_res, high_res, batch_size: int = 256) -> Dict[str, float]:
    """Mean PSNR (dB) and SSIM of `generator(low_res)` and of bicubic upsampling against `high_res`.

    All images are in [-1, 1]; outputs are clipped to it. Returns
    `{"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"}`.
    """
    high_res = tf.convert_to_tensor(np.asarray(high_res, np.float32))
    low_res = np.asarray(low_res, np.float32)
    outputs = tf.clip_by_value(translate_images(generator, low_res, batch_size), -1.0, 1.0)
    bicubic = tf.clip_by_value(tf.image.resize(low_res, high_res.shape[1:3], method="bicubic"), -1.0, 1.0)
    return {
        "psnr": float(tf.reduce_mean(tf.image.psnr(outputs, high_res, max_val=2.0))),
        "ssim": float(tf.reduce_mean(tf.image.ssim(outputs, high_res, max_val=2.0))),
        "bicubic_psnr": float(tf.reduce_mean(tf.image.psnr(bicubic, high_res, max_val=2.0))),
        "bicubic_ssim": float(tf.reduce_mean(tf.image.ssim(bicubic, high_res, max_val=2.0))),
    }


def _mse(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    diff = tf.square(tf.cast(a, tf.float32) - tf.cast(b, tf.float32))
    return tf.reduce_mean(tf.reshape(diff, [tf.shape(diff)[0], -1]), axis=1)


@keras.saving.register_keras_serializable(package="tfgan_app")
class SRGAN(ImageToImageGAN):
    """SRGAN: generator `low-res → high-res`, discriminator `high-res → logits` (see the module docstring).

    Args:
      generator: image-in upsampling model (e.g. `srgan_generator`).
      discriminator: high-res images → logits (e.g. `dcgan_discriminator`).
      feature_extractor: φ of the perceptual loss (a name, a `.keras` path, a `keras.Model` or None).
      pixel_weight, perceptual_weight, adversarial_weight: weights of the three generator terms.
      (other arguments as `AdversarialModel`)

    Raises:
      UsageError: for a negative loss weight, a bad option of `AdversarialModel`, or an unknown
        `feature_extractor`.
      MissingResourceError: for a `feature_extractor` file (or shipped classifier) that does not exist.

    Example:
    >>> info = load_paired("mnist_lowres", batch_size=16)
    >>> gan = SRGAN(srgan_generator((14, 14, 1), scale=2, filters=8, num_blocks=1),
    ...             dcgan_discriminator((28, 28, 1), base_filters=8))
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> gan.translate(np.zeros((2, 14, 14, 1), np.float32)).shape   # 2x super-resolution
    (2, 28, 28, 1)
    """

    extra_metric_names = ("content",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 feature_extractor: ExtractorSpec = "mnist", pixel_weight: float = 1.0,
                 perceptual_weight: float = 1e-2, adversarial_weight: float = 1e-3, **kwargs):
        if isinstance(feature_extractor, dict):  # from_config of a serialised keras.Model
            feature_extractor = keras.saving.deserialize_keras_object(feature_extractor)
        if min(pixel_weight, perceptual_weight, adversarial_weight) < 0:
            raise UsageError("pixel_weight, perceptual_weight and adversarial_weight must be >= 0.")
        super().__init__(generator, discriminator, **kwargs)
        self.feature_extractor = feature_extractor
        self.content_model = content_feature_extractor(feature_extractor)
        self.pixel_weight = float(pixel_weight)
        self.perceptual_weight = float(perceptual_weight)
        self.adversarial_weight = float(adversarial_weight)

    @classmethod
    def from_preset(cls, preset, info) -> "SRGAN":
        """Builds the (uncompiled) model of a preset for a paired `(low_res, high_res)` `DatasetInfo`.

        The scale is the ratio of the two image sizes.
        """
        check_builder("generator", preset.generator, ("srgan",))
        check_builder("discriminator", preset.discriminator, ("dcgan",))
        input_shape, target_shape = pair_shapes(info)
        scale = target_shape[0] // input_shape[0]
        if scale * input_shape[0] != target_shape[0] or scale * input_shape[1] != target_shape[1]:
            raise UsageError(f"SRGAN needs high-res images an integer multiple of the low-res ones, received "
                             f"{input_shape} → {target_shape}.")
        generator = srgan_generator(input_shape, scale=scale, output_channels=target_shape[-1],
                                    **preset.generator_options)
        discriminator = dcgan_discriminator(target_shape, **preset.discriminator_options)
        return cls(generator, discriminator, seed=preset.seed, **preset.gan_options)

    def get_config(self) -> Dict[str, Any]:
        extractor = self.feature_extractor
        if isinstance(extractor, keras.Model):
            extractor = keras.saving.serialize_keras_object(extractor)
        return {**super().get_config(), "feature_extractor": extractor, "pixel_weight": self.pixel_weight,
                "perceptual_weight": self.perceptual_weight, "adversarial_weight": self.adversarial_weight}

    def content_loss(self, fake: tf.Tensor, real: tf.Tensor) -> tf.Tensor:
        """Per-example pixel_weight·MSE + perceptual_weight·feature MSE."""
        loss = self.pixel_weight * _mse(fake, real)
        if self.content_model is not None and self.perceptual_weight:
            loss += self.perceptual_weight * _mse(self.content_model(fake, training=False),
                                                  self.content_model(real, training=False))
        return loss

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        content = self.content_loss(fake, real)
        self.extra_trackers["content"].update_state(content)
        return content + self.adversarial_weight * self.adversarial_generator_loss(fake_logits, fake, real, condition)
