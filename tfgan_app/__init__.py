"""tfgan_app: train, evaluate and deploy GANs with TensorFlow 2 / Keras 3.

>>> from tfgan_app import GAN, architectures, data
>>> gan = GAN(architectures.dcgan_generator(100, (28, 28, 1)), architectures.dcgan_discriminator((28, 28, 1)))
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(data.load_dataset("mnist", batch_size=128).dataset, epochs=1)

`GAN` and `ConditionalGAN` are imported lazily so that `tfgan --help` and
`tfgan_app.errors` load without importing TensorFlow.
"""

__version__ = "0.1.0"
__all__ = ["GAN", "ConditionalGAN", "__version__"]


def __getattr__(name):
    if name in ("GAN", "ConditionalGAN"):
        from tfgan_app import gans  # pylint: disable=import-outside-toplevel  # lazy: `tfgan --help` needs no TF
        return getattr(gans, name)
    raise AttributeError(f"module 'tfgan_app' has no attribute {name!r}")
