"""Names and defaults shared by the library and the `tfgan` flags, importable without TensorFlow.

The library modules that use these (`distribute`, `evaluation`, `export`, `gans.cyclegan`,
`serving`) import TensorFlow; the CLI defines its flags from this module instead, so that
`tfgan COMMAND --help` and `tfgan train --list_models` start in well under a second.

Example:
  >>> from tfgan_app.names import STRATEGIES
  >>> STRATEGIES[0]
  'default'
"""

# tfgan_app.distribute: tf.distribute strategies by name.
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
# tfgan_app.data.folder: how an image is fitted to the training size (stretched, or centre-cropped first).
CROP_MODES = ("resize", "center")
# tfgan_app.evaluation: metric names and the feature extractors.
METRICS = ("fid", "kid", "is", "pr")
SHIPPED_CLASSIFIERS = ("mnist", "fashion_mnist")
EXTRACTOR_NAMES = ("inception",) + SHIPPED_CLASSIFIERS
# tfgan_app.export: TFLite quantizations and images per generator call when streaming.
QUANTIZATIONS = ("float32", "float16", "int8")
DEFAULT_BATCH_SIZE = 256
# tfgan_app.export.run_dir: which generator of a run `tfgan export` reads (best_generator.keras or generator.keras).
GENERATOR_CHOICES = ("best", "last")
# tfgan_app.gans.cyclegan: the two generators of a CycleGAN.
DIRECTIONS = ("a_to_b", "b_to_a")
# tfgan_app.serving: server limits.
DEFAULT_MAX_BATCH_SIZE = 256
DEFAULT_POLL_WAIT_SECONDS = 1.0
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 30.0
# PNG/JPEG request inputs of a model without a fixed image size: most pixels a header may declare (4096 x 4096).
DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096
DEFAULT_GRACE_SECONDS = 10.0  # SIGTERM / Ctrl-C: how long requests in flight may finish (docker stop waits 10 s)
