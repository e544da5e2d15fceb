"""The one [-1, 1] <-> uint8 mapping (`tfgan_app.images`): NumPy and TensorFlow twins agree and invert each other."""

import numpy as np
import tensorflow as tf

from tfgan_app.images import PIXEL_SCALE, from_uint8, tf_from_uint8, tf_to_uint8, to_uint8


def test_numpy_and_tensorflow_twins_agree_and_round_trip():
    pixels = np.arange(256, dtype=np.uint8)
    floats = from_uint8(pixels)
    assert floats.dtype == np.float32 and floats[0] == -1.0 and floats[-1] == 1.0
    np.testing.assert_array_equal(tf_from_uint8(tf.constant(pixels)).numpy(), floats)
    np.testing.assert_array_equal(to_uint8(floats), pixels)  # exact inverse on the pixel grid
    x = np.linspace(-1.2, 1.2, 1001, dtype=np.float32)  # out-of-range values clip
    np.testing.assert_array_equal(tf_to_uint8(tf.constant(x)).numpy(), to_uint8(x))
    np.testing.assert_array_equal(to_uint8(x), np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8))
    assert PIXEL_SCALE == 255 / 2
