"""Captioned images for text-conditioned GANs: captions derived from class labels ("a handwritten seven").

| name | images | captions (4 templates x class name), e.g. |
|---|---|---|
| `mnist` | MNIST | "a handwritten seven", "the digit seven", "a picture of the number seven" |
| `fashion_mnist` | Fashion-MNIST | "a photo of a sneaker", "a sneaker in grayscale", "a grey sneaker" |

Each example gets a random template every epoch. The vocabulary is fixed (every
word of every caption, sorted), so token ids do not depend on the data order.
Batches are `(images float32 [B, 28, 28, 1] in [-1, 1], tokens int32 [B, sequence_length])`.

Example:
>>> info, vocabulary = load_captioned("mnist", batch_size=32)
>>> images, tokens = next(iter(info.dataset))
>>> captions_for("mnist", [7])
['a handwritten seven']
"""

from typing import Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.data.info import DatasetInfo
from tfgan_app.data.arrays import load_fashion_mnist, load_mnist
from tfgan_app.data.paired import shuffled_batches
from tfgan_app.errors import UsageError
from tfgan_app.images import tf_from_uint8

__all__ = ["CLASS_NAMES", "TEMPLATES", "captions_for", "caption_vocabulary", "make_vectorizer", "load_captioned"]

CLASS_NAMES: Dict[str, Tuple[str, ...]] = {
    "mnist": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "fashion_mnist": ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                      "ankle boot"),
}
TEMPLATES: Dict[str, Tuple[str, ...]] = {
    "mnist": ("a handwritten {}", "the digit {}", "a {} written by hand", "a picture of the number {}"),
    "fashion_mnist": ("a photo of a {}", "a picture of a {}", "a {} in grayscale", "a grey {}"),
}
_LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}


def _check(name: str) -> None:
    if name not in CLASS_NAMES:
        raise UsageError(f"Unknown captioned dataset {name!r}. Valid names: {', '.join(CLASS_NAMES)}.")


def captions_for(name: str, labels: Sequence[int], template: int = 0) -> List[str]:
    """The captions of class `labels` with template number `template`."""
    _check(name)
    return [TEMPLATES[name][template].format(CLASS_NAMES[name][int(label)]) for label in labels]


def caption_vocabulary(name: str) -> List[str]:
    """Every word of every caption of dataset `name`, sorted (as `TextVectorization` standardises them)."""
    _check(name)
    words = set()
    for template in range(len(TEMPLATES[name])):
        for caption in captions_for(name, range(len(CLASS_NAMES[name])), template):
            words.update(caption.lower().replace("-", "").split())
    return sorted(words)


def make_vectorizer(vocabulary: Sequence[str], sequence_length: int) -> keras.layers.TextVectorization:
    """A `TextVectorization` with a fixed vocabulary: text → int ids `[B, sequence_length]` (0 = padding)."""
    return keras.layers.TextVectorization(vocabulary=list(vocabulary), output_mode="int",
                                          output_sequence_length=int(sequence_length))


def load_captioned(name: str, batch_size: int, split: str = "train", seed: Optional[int] = None,
                   shuffle: bool = True, sequence_length: int = 8) -> Tuple[DatasetInfo, List[str]]:
    """Returns `(DatasetInfo of (images, tokens) batches, vocabulary)` for `mnist` or `fashion_mnist`."""
    _check(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise UsageError(f"batch_size must be a positive integer, received {batch_size!r}.")
    images, labels = _LOADERS[name](split)
    vocabulary = caption_vocabulary(name)
    vectorizer = make_vectorizer(vocabulary, sequence_length)
    num_classes, num_templates = len(CLASS_NAMES[name]), len(TEMPLATES[name])
    table = tf.constant(np.stack([np.asarray(vectorizer(captions_for(name, range(num_classes), t)))
                                  for t in range(num_templates)], axis=1).astype(np.int32))  # [classes, templates, T]
    generator = tf.random.Generator.from_seed(0 if seed is None else seed)

    def to_example(batch_images, batch_labels):
        template = generator.uniform(tf.shape(batch_labels), 0, num_templates, dtype=tf.int32)
        tokens = tf.gather_nd(table, tf.stack([tf.cast(batch_labels, tf.int32), template], axis=1))
        return tf_from_uint8(batch_images), tokens

    dataset = shuffled_batches((images, labels), batch_size, shuffle, seed)
    dataset = dataset.map(to_example).prefetch(tf.data.AUTOTUNE)
    return DatasetInfo(dataset, tuple(images.shape[1:]), num_classes, len(images), batch_size), vocabulary
