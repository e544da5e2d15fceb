"""`DatasetInfo`: a batched dataset and what a model needs to know about it.

Its own module so that every source in `tfgan_app.data` can return one without importing the package
`__init__`, which imports every source (no cycle).
"""

import dataclasses
from typing import Optional, Tuple

import tensorflow as tf


@dataclasses.dataclass
class DatasetInfo:
    """A batched dataset and what a model needs to know about it."""

    dataset: tf.data.Dataset
    image_shape: Tuple[int, int, int]
    num_classes: Optional[int]
    num_examples: Optional[int]
    batch_size: int

    @property
    def steps_per_epoch(self) -> Optional[int]:
        """Full batches per pass over the data (None if the size is unknown)."""
        return None if self.num_examples is None else self.num_examples // self.batch_size
