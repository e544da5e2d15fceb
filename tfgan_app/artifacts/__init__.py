"""Trained generators as artifacts: their kind, their description, and one loader for every form.

The layer between the models (`tfgan_app.gans`) and what reads or writes them (`evaluation`, `export`,
`serving`), as Keras keeps `saving/` apart from `trainers/` and TF Serving its loader apart from its server:

* `kind`: `Kind` (latent, image-to-image, text; class-conditional is a latent generator with labels) and
  its one detection from a Keras generator (`model_kind`, `generator_spec`, `translator_spec`, `text_spec`).
* `layout`: where an export describes itself (`tfgan_model.json`, the TFLite sidecar `generator.json`) and
  TF Serving's numbered versions (`list_versions`).
* `run_dir`: training run directories (`load_run`, `load_keras_generator`) and `float32_generator`.
* `tflite_runner`: `TFLiteGenerator`, running `.tflite` files with LiteRT.
* `generators`: `open_generator(spec)` over all of the above (and served models, through
  `tfgan_app.tfserving`'s clients), returning the `Generator` subclass of the artifact's kind:
  `LatentGenerator`, `TextGenerator` or `ImageToImageGenerator`.

Example:
>>> with open_generator("runs/pix2pix_mnist_edges") as generator:
...     generator.kind, generator.describe()["input_shape"]
(<Kind.IMAGE_TO_IMAGE: 'image_to_image'>, [28, 28, 1])
"""

from tfgan_app.artifacts.generators import (Generator, ImageToImageGenerator, LatentGenerator, TextGenerator,
                                            generate_images, interpolate_images, open_generator)
from tfgan_app.artifacts.kind import IMAGE_TO_IMAGE, LATENT, TEXT, Kind, model_kind
from tfgan_app.artifacts.run_dir import float32_generator

__all__ = ["Generator", "LatentGenerator", "TextGenerator", "ImageToImageGenerator", "Kind", "IMAGE_TO_IMAGE", "LATENT", "TEXT", "float32_generator", "generate_images",
           "interpolate_images", "model_kind", "open_generator"]
