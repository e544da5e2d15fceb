"""Translating image files with an image-to-image generator (`tfgan generate --inputs=...`).

`translate_files(generator, inputs, output_dir)` reads every input image (PNG, JPEG, ... via Pillow),
converts it to the generator's channels, maps it to [-1, 1] (`tfgan_app.images.from_uint8`), runs
`Generator.translate` in batches and writes one PNG per input into `output_dir`, named like the input
(`cat.jpg` -> `cat.png`). An image whose size differs from the generator's input size is an error
naming both sizes, unless `resize=True` (bilinear resize to the input size, as training data is resized).

Example:
>>> with open_generator("runs/pix2pix_mnist_edges") as generator:
...     translate_files(generator, resolve_inputs("edges/*.png"), "translated")
"""

import glob
import os
from typing import Callable, List, Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from tfgan_app.artifacts.generators import Generator
from tfgan_app.data.folder import IMAGE_EXTENSIONS
from tfgan_app.data.paired import hole_masks
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.images import from_uint8, save_png

DEFAULT_TRANSLATE_BATCH = 16


def resolve_inputs(spec: str) -> List[str]:
    """The image files `--inputs` names: one file, the images of a folder, or a glob pattern; sorted.

    Raises `MissingResourceError` when nothing matches.
    """
    if os.path.isdir(spec):
        paths = [os.path.join(spec, name) for name in os.listdir(spec)]
        paths = [p for p in paths if os.path.isfile(p) and p.lower().endswith(IMAGE_EXTENSIONS)]
    elif os.path.isfile(spec):
        paths = [spec]
    else:
        paths = [p for p in glob.glob(spec) if os.path.isfile(p)]
    if not paths:
        raise MissingResourceError(f"--inputs={spec!r} names no image file: expected a file, a folder of images "
                                   f"({', '.join(IMAGE_EXTENSIONS)}) or a glob pattern such as 'edges/*.png'.")
    return sorted(paths)


def output_name(path: str) -> str:
    """`<input file name without extension>.png`."""
    return os.path.splitext(os.path.basename(path))[0] + ".png"


def check_unique_names(paths: Sequence[str]) -> None:
    seen = {}
    for path in paths:
        name = output_name(path)
        if name in seen:
            raise UsageError(f"{seen[name]!r} and {path!r} would both be written as {name!r}; translate them "
                             "in separate runs (or rename one) so no output is overwritten.")
        seen[name] = path


def read_input_image(path: str, input_shape: Sequence[int], resize: bool) -> np.ndarray:
    """`path` as float32 `[H, W, C]` in [-1, 1] for a generator taking `input_shape` `[H, W, C]` images."""
    height, width, channels = (int(d) for d in input_shape)
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):
                if not resize:
                    raise UsageError(f"{path!r} is {image.size[1]}x{image.size[0]} pixels (height x width) but the "
                                     f"model expects {height}x{width} images; resize it, or pass --resize to "
                                     "resize every input (bilinear).")
                image = image.resize((width, height), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise MissingResourceError(f"Cannot read image file {path!r} ({e}).") from e
    return from_uint8(pixels.reshape(height, width, channels))


def translate_files(generator: Generator, paths: Sequence[str], output_dir: str, resize: bool = False,
                    batch_size: int = DEFAULT_TRANSLATE_BATCH,
                    on_file: Optional[Callable[[str, str], None]] = None, mask: Optional[str] = None,
                    seed: int = 0) -> List[str]:
    """Translates each of `paths` with an image-to-image generator and writes `output_dir/<name>.png`.

    Every input is read and checked before anything is written. With `mask` the inputs are inpainted: each
    image gets its hole blanked (`tfgan_app.data.paired.hole_masks`), the generator fills it, and the written
    image is the input outside the hole and the generator's fill inside it.

    Args:
        generator: an open `ImageToImageGenerator`.
        paths: input image files (`resolve_inputs`).
        output_dir: where the PNGs go, named like the inputs (`cat.jpg` -> `cat.png`).
        resize: resize inputs of another size to the generator's (bilinear) instead of refusing them.
        batch_size: images translated per call.
        on_file: called with `(input, output)` per written file.
        mask: "center" or "random" (inpainting models), or None.
        seed: seed of the random holes.

    Returns:
        The written paths, in input order.

    Raises:
        UsageError: a generator that does not translate images, a bad batch size, names that would collide, or an
            input of another size without `resize`.
        MissingResourceError: an unreadable input (named).

    Example:
    >>> with open_generator("runs/pix2pix_mnist_edges") as generator:
    ...     translate_files(generator, resolve_inputs("edges/*.png"), "translated")
    ['translated/0.png', 'translated/1.png']
    """
    generator.check_translates()
    if batch_size < 1:
        raise UsageError(f"Expected --batch_size >= 1, received {batch_size}.")
    check_unique_names(paths)
    images = np.stack([read_input_image(path, generator.input_shape, resize) for path in paths])
    holes = None if mask is None else hole_masks(mask, len(images), images.shape[1], images.shape[2], seed)

    def fill(batch, start):
        if holes is None:
            return generator.translate(batch)
        hole = holes[start:start + len(batch)]
        return batch * (1.0 - hole) + np.asarray(generator.translate(batch * (1.0 - hole))) * hole
    return write_batches(paths, images, output_dir, batch_size, fill, on_file)


def write_batches(paths: Sequence[str], images: np.ndarray, output_dir: str, batch_size: int,
                  transform: Callable[[np.ndarray, int], np.ndarray],
                  on_file: Optional[Callable[[str, str], None]] = None) -> List[str]:
    """Runs `transform(batch, start)` over `images` (read from `paths`) in batches and writes each result as
    `output_dir/<input name>.png`, calling `on_file(input, output)` per file; returns the written paths in order."""
    written = []
    for start in range(0, len(paths), batch_size):
        for path, image in zip(paths[start:start + batch_size], transform(images[start:start + batch_size], start)):
            out = save_png(os.path.join(output_dir, output_name(path)), image)
            written.append(out)
            if on_file:
                on_file(path, out)
    return written
