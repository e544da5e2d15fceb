"""Where evaluated images come from: generators, SavedModels, image folders and datasets.

Each source yields uint8 `[B, H, W, C]` batches, the common currency of the
extractors. Generator outputs in [-1, 1] are quantised with
`tfgan_app.images.to_uint8`, just like real data is stored, so metrics compare
like with like.

`load_image_source(spec)` accepts, for `tfgan evaluate --generator=...`:
* any generator spec, parsed and opened by `tfgan_app.artifacts.open_generator` (the only spec parser, the
  same as `tfgan generate`): a training run directory (its best generator when it kept one; a
  text-conditioned run generates class i from the caption of class i), a `.keras` generator file, a
  SavedModel directory or TF Serving model folder, a `.tflite` file, or a served model
  `http://host:port/<name>` / `grpc://host:port/<name>`;
* a folder of images (`folder:/path`, or a folder that holds no generator).

Latents are `tfgan_app.latent.sample_latents(num, latent_dim, seed)`, so the
evaluated images are those of `GAN.generate(num, seed)`; conditional
generators get balanced labels `i % num_classes`.

Example:
>>> source = load_image_source("runs/dcgan_mnist")
>>> for batch in source.batches(1000, batch_size=250, seed=0): ...
"""

import abc
import os
from typing import Callable, Iterator, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.data import load_dataset
from tfgan_app.data.folder import load_folder
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.artifacts.generators import Generator, NoGeneratorError, open_generator
from tfgan_app.artifacts.kind import embedding_classes, is_conditional
from tfgan_app.gans.conditional import labels_in_turn
from tfgan_app.images import to_uint8
from tfgan_app.latent import sample_latents


class ImageSource(abc.ABC):
    """A finite or unbounded supply of uint8 images of shape `image_shape`.

    Subclasses implement `batches(num, batch_size, seed)`.

    Args:
      name: the source's name in reports (e.g. the run's).
      image_shape: `(H, W, C)` of the images it yields.

    Example:
    >>> source = ArraySource("digits", load_mnist("test")[0])
    >>> isinstance(source, ImageSource), source.image_shape
    (True, (28, 28, 1))
    """

    def __init__(self, name: str, image_shape: Tuple[int, int, int]) -> None:
        self.name = name
        self.image_shape = tuple(int(d) for d in image_shape)

    @abc.abstractmethod
    def batches(self, num: int, batch_size: int, seed: int = 0) -> Iterator[np.ndarray]:
        """Yields uint8 batches holding `num` images in total."""


class GeneratorSource(ImageSource):
    """Images from a generator function `(latents, labels or None) -> float images in [-1, 1]`.

    Its batches are those of `GAN.generate(num, seed)`: latents from `sample_latents(num, latent_dim, seed)`,
    labels `i % num_classes` for a conditional generator, outputs quantised with `to_uint8`.

    Args:
      name: the source's name in reports.
      generate: `fn(latents [B, latent_dim], labels int32 [B] or None)` returning images in [-1, 1].
      latent_dim: size of the latent vectors.
      num_classes: classes of a conditional generator, or None.
      image_shape: `(H, W, C)` of the generated images.

    Example:
    >>> source = GeneratorSource.from_keras(dcgan_generator(16, (28, 28, 1), base_filters=8))
    >>> batch = next(source.batches(4, batch_size=2))
    >>> batch.shape, batch.dtype
    ((2, 28, 28, 1), dtype('uint8'))
    """

    def __init__(self, name: str, generate: Callable, latent_dim: int, num_classes: Optional[int],
                 image_shape: Tuple[int, int, int]) -> None:
        super().__init__(name, image_shape)
        self.generate, self.latent_dim, self.num_classes = generate, latent_dim, num_classes

    @classmethod
    def from_keras(cls, generator: keras.Model, name: str = "generator",
                   num_classes: Optional[int] = None) -> "GeneratorSource":
        """Wraps a Keras generator following the contract (latents, or `[latents, labels]`).

        `num_classes` of a conditional generator defaults to its label Embedding's size.
        """
        conditional = is_conditional(generator)
        if not conditional:
            num_classes = None
        elif num_classes is None:
            num_classes = _num_classes_of(generator)

        def generate(latents, labels):
            inputs = [latents, labels] if conditional else latents
            return generator(inputs, training=False)

        return cls(name, generate, int(generator.inputs[0].shape[-1]), num_classes,
                   tuple(generator.outputs[0].shape[1:]))

    def batches(self, num: int, batch_size: int, seed: int = 0) -> Iterator[np.ndarray]:
        latents = sample_latents(num, self.latent_dim, seed)
        labels = labels_in_turn(num, self.num_classes) if self.num_classes else None
        for start in range(0, num, batch_size):
            part = None if labels is None else tf.constant(labels[start:start + batch_size])
            yield to_uint8(self.generate(latents[start:start + batch_size], part))


def _num_classes_of(generator: keras.Model) -> int:
    """Number of classes of a conditional Keras generator, read from its label embedding."""
    num_classes = embedding_classes(generator)
    if num_classes is None:
        raise UsageError(f"Cannot tell how many classes conditional generator {generator.name!r} has (no Embedding "
                         "layer). Evaluate its training run directory instead, whose config.json says num_classes.")
    return num_classes


class ArraySource(ImageSource):
    """Images held in memory (e.g. a folder of images); yields a seeded random subset of `num` (all if fewer).

    Args:
      name: the source's name in reports.
      images: uint8 `[N, H, W, C]` images.

    Example:
    >>> source = ArraySource("zeros", np.zeros((10, 8, 8, 1), np.uint8))
    >>> [len(batch) for batch in source.batches(25, batch_size=4)]
    [4, 4, 2]
    """

    def __init__(self, name: str, images: np.ndarray) -> None:
        super().__init__(name, images.shape[1:])
        self.images = images

    def batches(self, num: int, batch_size: int, seed: int = 0) -> Iterator[np.ndarray]:
        order = np.random.default_rng(seed).permutation(len(self.images))[:num]
        for start in range(0, len(order), batch_size):
            yield self.images[order[start:start + batch_size]]


class DatasetSource(ImageSource):
    """Real images from a dataset spec (`mnist`, `fashion_mnist`, `tfds:NAME`, `folder:/PATH`) via `load_dataset`.

    `image_shape` resizes/converts the real images like training does, so they
    match the generator's output size.

    Args:
      spec: a dataset spec `load_dataset` accepts.
      split: the split of the real images.
      image_shape: `(H, W, C)` to resize / convert the images to (default: the dataset's own).
      data_dir: TFDS data folder.

    Raises:
      UsageError / MissingResourceError: as `load_dataset`, when the dataset is opened in the constructor.

    Example:
    >>> source = DatasetSource("mnist", "test", image_shape=(32, 32, 1))
    >>> source.name, source.image_shape, source.num_examples
    ('mnist (test)', (32, 32, 1), 10000)
    >>> next(source.batches(8, batch_size=4)).shape
    (4, 32, 32, 1)
    """

    def __init__(self, spec: str, split: str = "train",
                 image_shape: Optional[Tuple[int, int, int]] = None, data_dir: Optional[str] = None) -> None:
        self.spec, self.split, self.data_dir = spec, split, data_dir
        self._size = None if image_shape is None else tuple(image_shape[:2])
        self._channels = None if image_shape is None else int(image_shape[2])
        info = self._load(batch_size=1, seed=0)
        self.num_examples: Optional[int] = info.num_examples  # None where the loader cannot tell (e.g. TFDS)
        super().__init__(f"{spec} ({split})", info.image_shape)

    def _load(self, batch_size: int, seed: int):
        return load_dataset(self.spec, batch_size=batch_size, split=self.split, image_size=self._size,
                            channels=self._channels, shuffle=True, seed=seed, data_dir=self.data_dir)

    def batches(self, num: int, batch_size: int, seed: int = 0) -> Iterator[np.ndarray]:
        """Yields `num` images in shuffled batches (fewer if the split is smaller)."""
        seen = 0
        for images, _ in self._load(batch_size, seed).dataset:
            if seen >= num:
                return
            batch = to_uint8(images.numpy()[: num - seen])
            seen += len(batch)
            yield batch


def _generator_source(spec: str, generator: Generator) -> GeneratorSource:
    """A latent generator opened by `open_generator` as an `ImageSource`; labels in turn, or for a
    text-conditioned run the caption of class i for label i (`GeneratorSource.from_captioned_run`'s rule)."""
    config = generator.config or {}
    name = str(config.get("name") or os.path.basename(os.path.normpath(spec)))
    num_classes, generate = generator.class_sampler(spec)
    probe = generate(sample_latents(1, generator.latent_dim, 0), np.zeros([1], np.int32) if num_classes else None)
    return GeneratorSource(name, generate, generator.latent_dim, num_classes, probe.shape[1:])


def load_image_source(spec: str, which: str = "best") -> ImageSource:
    """Opens what `--generator` names (see the module docstring) as an `ImageSource`.

    Args:
        spec: `folder:/path`, an image folder, or any generator spec `open_generator` reads.
        which: for a run directory, "best" (its kept best generator when it has one) or "last".

    Returns:
        An `ArraySource` for images, else a `GeneratorSource`.

    Raises:
        MissingResourceError: `spec` does not exist (or names an unusable generator).
        UsageError: a file that is no generator, or a generator evaluate cannot score.

    Example:
    >>> source = load_image_source("runs/dcgan_mnist")  # a `tfgan train` run directory
    >>> type(source).__name__, source.image_shape
    ('GeneratorSource', (28, 28, 1))
    >>> next(source.batches(1000, batch_size=250, seed=0)).shape
    (250, 28, 28, 1)
    """
    if spec.startswith("folder:"):
        return _folder_source(spec[len("folder:"):])
    try:
        generator = open_generator(spec, which=which)
    except NoGeneratorError:
        if os.path.isdir(spec):
            return _folder_source(spec)
        if os.path.isfile(spec):
            raise UsageError(f"Expected a .keras generator file, a run directory, a SavedModel or an image "
                             f"folder, received the file {spec!r}.") from None
        raise MissingResourceError(
            f"{spec!r} does not exist. Pass --generator=RUN_DIR (written by `tfgan train`), a .keras generator, "
            "a SavedModel directory (e.g. export/NAME/1) or an image folder (folder:/path).") from None
    try:
        return _generator_source(spec, generator)
    except BaseException:
        generator.close()
        raise


def _folder_source(folder: str) -> ArraySource:
    images, _, _ = load_folder(folder)
    return ArraySource(os.path.basename(os.path.normpath(folder)), images)
