"""Writing what a generator makes to image files, for `tfgan generate`.

* `streaming`: any number of sampled images in bounded memory (`stream_images`, `write_image_files`).
* `translation`: image-to-image generators over the user's files (`translate_files`, inpainting holes).

Example:
>>> from tfgan_app.artifacts import open_generator
>>> from tfgan_app.generation import write_image_files
>>> with open_generator("export/dcgan_mnist") as source:
...     write_image_files(source, 1000, "out", seed=0).images_per_second
"""

from tfgan_app.generation.streaming import stream_images, write_image_files
from tfgan_app.generation.translation import translate_files

__all__ = ["stream_images", "translate_files", "write_image_files"]
