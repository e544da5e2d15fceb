"""`DatasetInfo`: a batched dataset and what a model needs to know about it.

Its own module so that every source in `tfgan_app.data` can return one without importing the package
`__init__`, which imports every source (no cycle).
"""

import dataclasses
from typing import Optional, Tuple

import tensorflow as tf


@dataclasses.dataclass
class DatasetInfo:
    """A batched dataset and what a model needs to know about it.

    Args:
      dataset: the batched `tf.data.Dataset` (for image sources: `(images float32 [B, H, W, C] in [-1, 1],
        labels int32 [B])`).
      image_shape: `(H, W, C)` of one image as the model sees it.
      num_classes: number of classes, or None for unlabelled data.
      num_examples: examples in the split, or None if unknown (streamed TFDS).
      batch_size: examples per batch (every batch is full).

    Example:
    >>> info = DatasetInfo(tf.data.Dataset.range(10).batch(4, drop_remainder=True), (28, 28, 1), None, 10, 4)
    >>> info.steps_per_epoch
    2
    """

    dataset: tf.data.Dataset
    image_shape: Tuple[int, int, int]
    num_classes: Optional[int]
    num_examples: Optional[int]
    batch_size: int

    @property
    def steps_per_epoch(self) -> Optional[int]:
        """Full batches per pass over the data (None if the size is unknown)."""
        return None if self.num_examples is None else self.num_examples // self.batch_size
