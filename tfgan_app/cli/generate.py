"""Generate images from a generator: a .keras file, run directory, SavedModel, .tflite file or served model.

--model accepts: path/to/generator.keras, a run directory, export/<name>[/<version>],
path/to/generator_int8.tflite, http://host:8501/<name>[/versions/N] (REST) or
grpc://host:8500/<name>[/versions/N]. Latents come from --seed exactly as in
GAN.generate, so the same seed gives the same images from every artifact.

Examples:
  tfgan generate --model=export/dcgan_mnist --num_images=64 --grid=grid.png
  tfgan generate --model=runs/cgan_mnist --labels=7 --output_dir=sevens
  tfgan generate --model=grpc://127.0.0.1:8500/dcgan_mnist --interpolate=10 --strip=walk.png
  tfgan generate --model=runs/dcgan_mnist --interpolate=24 --interpolation=slerp --gif=walk.gif
"""

import os

from absl import flags

from tfgan_app.errors import UsageError
from tfgan_app.export.sources import generate_images, interpolate_images, open_source
from tfgan_app.images import make_grid, save_grid, save_png
from tfgan_app.latent import save_gif


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan generate` flags on `fv`."""
    flags.DEFINE_string("model", None, "Generator to read (see the command help for the accepted forms).",
                        flag_values=fv, required=True)
    flags.DEFINE_integer("num_images", 16, "Number of images to generate.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the latents (same seed, same images).", flag_values=fv)
    flags.DEFINE_list("labels", [], "Class labels of a conditional model, cycled over the images (one value: "
                      "all images of that class; default: 0, 1, ..., num_classes-1 repeated).", flag_values=fv)
    flags.DEFINE_integer("num_classes", None, "Class count, when the artifact does not record it.", flag_values=fv)
    flags.DEFINE_string("output_dir", None, "Write each image as <output_dir>/image_0000.png, ...", flag_values=fv)
    flags.DEFINE_string("grid", None, "Write all images tiled into this PNG.", flag_values=fv)
    flags.DEFINE_integer("interpolate", 0, "If >= 2, also write a latent-walk strip with this many steps.",
                         flag_values=fv)
    flags.DEFINE_string("strip", None, "Path of the interpolation strip PNG "
                        "(default: <output_dir or .>/interpolation.png).", flag_values=fv)
    flags.DEFINE_enum("interpolation", "linear", ["linear", "slerp"],
                      "Path of the latent walk: straight line or spherical (slerp).", flag_values=fv)
    flags.DEFINE_string("gif", None, "Also write the latent walk as an animated GIF at this path.", flag_values=fv)
    flags.DEFINE_float("timeout", 30.0, "Seconds to wait for a served model.", flag_values=fv)


def _labels(values) -> list:
    try:
        return [int(v) for v in values]
    except ValueError as e:
        raise UsageError(f"Expected integer class ids in --labels (e.g. --labels=0,1,2), received {values}.") from e


def run(fv: flags.FlagValues) -> int:
    """Generates and writes the requested PNGs; prints their paths."""
    if not (fv.output_dir or fv.grid or fv.interpolate):
        raise UsageError("Nothing to write: pass --output_dir (one PNG per image), --grid=FILE.png "
                         "and/or --interpolate=STEPS.")
    if fv.interpolate and fv.interpolate < 2:
        raise UsageError(f"Expected --interpolate >= 2 steps, received {fv.interpolate}.")
    labels = _labels(fv.labels)
    with open_source(fv.model, num_classes=fv.num_classes, timeout=fv.timeout) as source:
        if fv.output_dir or fv.grid:
            images = generate_images(source, fv.num_images, fv.seed, labels)
            if fv.output_dir:
                for i, image in enumerate(images):
                    save_png(os.path.join(fv.output_dir, f"image_{i:04d}.png"), image)
                print(f"Wrote {len(images)} images to {fv.output_dir}/ ({source.kind} generator)")
            if fv.grid:
                print(f"Wrote grid {save_grid(fv.grid, images)} ({source.kind} generator)")
        if fv.interpolate:
            strip = interpolate_images(source, fv.interpolate, fv.seed, labels, fv.interpolation)
            path = fv.strip or os.path.join(fv.output_dir or ".", "interpolation.png")
            print(f"Wrote interpolation strip {save_png(path, make_grid(strip, cols=len(strip)))}")
            if fv.gif:
                print(f"Wrote animated latent walk {save_gif(fv.gif, strip)}")
    return 0
