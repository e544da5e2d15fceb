"""Generate images from a generator: a .keras file, run directory, SavedModel, .tflite file or served model.

--model accepts: path/to/generator.keras, a run directory, export/<name>[/<version>],
path/to/generator_int8.tflite, http://host:8501/<name>[/versions/N] (REST) or
grpc://host:8500/<name>[/versions/N]. Latents come from --seed exactly as in
GAN.generate, so the same seed gives the same images from every artifact.
Text-conditioned models need --captions (separated by ';', cycled over the
images); their .keras generator is read through its run directory, whose
config.json holds the vocabulary. Image-to-image models (pix2pix, SRGAN,
CycleGAN) translate --inputs (a file, a folder or a glob) into --output_dir,
one PNG per input with the same name; inputs must have the model's input size
unless --resize is given.

Examples:
  tfgan generate --model=export/dcgan_mnist --num_images=64 --grid=grid.png
  tfgan generate --model=export/dcgan_mnist/1/tflite/generator_int8.tflite --num_images=1000000 --output_dir=out
  tfgan generate --model=runs/cgan_mnist --labels=7 --output_dir=sevens
  tfgan generate --model=runs/dcgan_mnist --truncation=0.7 --grid=grid.png   # latents 0.7·z
  tfgan generate --model=export/textgan_mnist --captions="a handwritten seven;the digit one" --grid=grid.png
  tfgan generate --model=grpc://127.0.0.1:8500/dcgan_mnist --interpolate=10 --strip=walk.png
  tfgan generate --model=runs/dcgan_mnist --interpolate=24 --interpolation=slerp --gif=walk.gif
  tfgan generate --model=runs/cgan_mnist --class_walk=classes.png --interpolate=10
  tfgan generate --model=runs/dcgan_mnist --num_images=64 --arithmetic="3,7;12;40,41" --arithmetic_output=a.png
  tfgan generate --model=runs/pix2pix_mnist_edges --inputs="edges/*.png" --output_dir=translated
  tfgan generate --model=export/srgan_mnist/1/tflite/generator_float32.tflite --inputs=small/ --output_dir=big --resize
  tfgan generate --model=runs/agecgan_mnist --inputs="sevens/*.png" --condition=1 --output_dir=as_ones
"""

import os
from typing import List, Optional

import numpy as np
from absl import flags

from tfgan_app.cli import quiet
from tfgan_app.errors import UsageError
from tfgan_app.images import make_grid, save_grid, save_png, upscale
from tfgan_app.names import DEFAULT_BATCH_SIZE
from tfgan_app.paths import writable_dir, writable_file

CAPTION_SEPARATOR = ";"
# A grid holds every image in memory and in one PNG: beyond this many, write --output_dir instead.
MAX_GRID_IMAGES = 10_000


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan generate` flags on `fv`."""
    flags.DEFINE_string("model", None, "Generator to read (see the command help for the accepted forms).",
                        flag_values=fv, required=True)
    flags.DEFINE_integer("num_images", 16, "Number of images to generate.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the latents (same seed, same images).", flag_values=fv)
    flags.DEFINE_list("labels", [], "Class labels of a conditional model, cycled over the images (one value: "
                      "all images of that class; default: 0, 1, ..., num_classes-1 repeated).", flag_values=fv)
    flags.DEFINE_integer("num_classes", None, "Class count, when the artifact does not record it.", flag_values=fv)
    flags.DEFINE_string("captions", None, "Text-conditioned models only (required there): captions separated by "
                        "';' (captions may contain commas), cycled over the images, e.g. "
                        "--captions=\"a handwritten seven;the digit one\". Walks use the first caption.",
                        flag_values=fv)
    flags.DEFINE_string("output_dir", None, "Write each image as <output_dir>/image_0000.png, ...", flag_values=fv)
    flags.DEFINE_string("grid", None, "Write all images tiled into this PNG.", flag_values=fv)
    flags.DEFINE_integer("interpolate", 0, "If >= 2, also write a latent-walk strip with this many steps (with "
                         "--class_walk: the steps of the class walk; the strip PNG is then written only to an explicit "
                         "--strip).", flag_values=fv)
    flags.DEFINE_string("strip", None, "Path of the interpolation strip PNG "
                        "(default: <output_dir or .>/interpolation.png).", flag_values=fv)
    flags.DEFINE_enum("interpolation", "linear", ["linear", "slerp"],
                      "Path of the latent walk: straight line or spherical (slerp).", flag_values=fv)
    flags.DEFINE_string("gif", None, "Also write the latent walk as an animated GIF at this path.", flag_values=fv)
    flags.DEFINE_string("class_walk", None, "Conditional models: write a PNG with one row per class, each row "
                        "the same latent walk (--interpolate steps, default 8).", flag_values=fv)
    flags.DEFINE_string("arithmetic", None, "Latent vector arithmetic 'A;B;C': each a comma-separated list of "
                        "indices into the --num_images latents of --seed; writes mean(A), mean(B), mean(C) and "
                        "mean(A) - mean(B) + mean(C) as a 4-image strip to --arithmetic_output.", flag_values=fv)
    flags.DEFINE_string("arithmetic_output", "arithmetic.png", "PNG path of the --arithmetic strip.",
                        flag_values=fv)
    flags.DEFINE_float("truncation", 1.0, "Truncation trick for --output_dir / --grid images: latents psi*z, psi in "
                       "[0, 1] (1: none; 0: every image is the mean latent's). Same images as "
                       "GAN.generate(truncation=psi) and the SavedModel generate_truncated signature.",
                       flag_values=fv)
    flags.DEFINE_integer("scale", 1, "Nearest-neighbour upscaling factor of --grid, --strip, --gif, --class_walk "
                         "and --arithmetic pictures (e.g. 4: a 28-px image becomes 112 px). --output_dir files keep "
                         "the generator's size.", flag_values=fv)
    flags.DEFINE_float("timeout", 30.0, "Seconds to wait for a served model.", flag_values=fv)
    flags.DEFINE_integer("batch_size", DEFAULT_BATCH_SIZE, "Images generated per call; --output_dir memory is "
                         "bounded by one batch.", flag_values=fv)
    flags.DEFINE_string("inputs", None, "Image-to-image models only: the images to translate, a file, a folder or a "
                        "glob (quote it), e.g. --inputs=\"edges/*.png\"; writes <output_dir>/<input name>.png each.",
                        flag_values=fv)
    flags.DEFINE_enum("mask", None, ["center", "random"], "With --inputs, for an inpainting model (inpaint_mnist): "
                      "blank a hole in each input (center: the central quarter it was trained on; random: a block "
                      "of that size at a random place, from --seed) and write the input with the hole filled.",
                      flag_values=fv)
    flags.DEFINE_integer("condition", None, "With --inputs, for a conditional-editing run (Age-cGAN, agecgan_mnist; "
                         "--model=RUN_DIR): re-generate each input under this class, keeping its style (encoder, then "
                         "identity-preserving latent optimisation, then the generator).", flag_values=fv)
    flags.DEFINE_integer("source_condition", None, "With --condition: the inputs' own class (default: inferred per "
                         "image, the class under which the generator reconstructs it best).", flag_values=fv)
    flags.DEFINE_integer("edit_steps", 100, "With --condition: latent-optimisation steps (0: the encoder's latent "
                         "as is).", flag_values=fv)
    flags.DEFINE_bool("resize", False, "With --inputs: resize inputs of another size to the model's input size "
                      "(bilinear); without it such an input is an error that says the expected size.", flag_values=fv)
    flags.DEFINE_string("tflite_threads", None, ".tflite models only: interpreter threads, a positive integer or "
                        "'auto' (time 1 thread against all cores on the first batch). Default: 1, the measured "
                        "fastest (benchmarks/README.md).", flag_values=fv)


def _labels(values) -> list:
    try:
        return [int(v) for v in values]
    except ValueError as e:
        raise UsageError(f"Expected integer class ids in --labels (e.g. --labels=0,1,2), received {values}.") from e


def _captions(text: Optional[str]) -> List[str]:
    """The ';'-separated --captions, stripped, empty ones dropped."""
    return [caption.strip() for caption in (text or "").split(CAPTION_SEPARATOR) if caption.strip()]


def _arithmetic_sets(text: str, num_images: int) -> List[List[int]]:
    parts = text.split(";")
    try:
        sets = [[int(i) for i in part.split(",") if i.strip()] for part in parts]
    except ValueError as e:
        raise UsageError(f"--arithmetic must look like '0,1;2;3,4' (three index lists), received {text!r}.") from e
    if len(sets) != 3 or not all(sets):
        raise UsageError(f"--arithmetic needs three non-empty index lists separated by ';', received {text!r}.")
    bad = sorted({i for s in sets for i in s if not 0 <= i < num_images})
    if bad:
        raise UsageError(f"--arithmetic indices {bad} are outside the {num_images} latents; raise --num_images.")
    return sets


def _write_class_walk(source, fv: flags.FlagValues) -> None:
    if not source.conditional or not source.num_classes:
        raise UsageError("--class_walk needs a conditional generator with a known class count.")
    # deferred so --help does not import TensorFlow
    from tfgan_app import latent  # pylint: disable=import-outside-toplevel
    steps = fv.interpolate or 8
    latents, labels = latent.class_walk(source.num_classes, steps, source.latent_dim, fv.seed, fv.interpolation)
    images = _check_images(latent.render(source, latents, labels), source)
    path = latent.save_strip(fv.class_walk, upscale(images, fv.scale), cols=steps)
    print(f"Wrote class walk {path} ({source.num_classes} classes x {steps} steps)")


def _write_arithmetic(source, fv: flags.FlagValues, labels, captions) -> None:
    a, b, c = _arithmetic_sets(fv.arithmetic, fv.num_images)
    # deferred so --help does not import TensorFlow
    from tfgan_app import latent  # pylint: disable=import-outside-toplevel
    from tfgan_app.artifacts.generators import resolve_captions, resolve_labels  # pylint: disable=import-outside-toplevel
    pool = latent.sample_latents(fv.num_images, source.latent_dim, fv.seed).numpy()
    means = [pool[idx].mean(axis=0) for idx in (a, b, c)]
    latents = np.stack(means + [latent.vector_arithmetic(pool[a], pool[b], pool[c])])
    walk_labels = resolve_labels(source, 4, labels[:1] or [0]) if source.conditional else None
    images = _check_images(source(latents, walk_labels, resolve_captions(source, 4, captions[:1])), source)
    path = latent.save_strip(fv.arithmetic_output, upscale(images, fv.scale))
    print(f"Wrote vector arithmetic strip {path} (mean A, mean B, mean C, A - B + C)")


def _writes_strip(fv: flags.FlagValues) -> bool:
    """Whether the latent-walk strip PNG is written: for --interpolate, unless --class_walk without --strip.

    With --class_walk, --interpolate sets the class walk's steps and writes no ./interpolation.png.
    """
    return bool(fv.interpolate) and (not fv.class_walk or bool(fv.strip))


def _check_outputs(fv: flags.FlagValues) -> None:
    """Checks every path the command will write, before any image is generated."""
    if fv.output_dir:
        writable_dir(fv.output_dir, "--output_dir")
    for flag in ("grid", "strip", "gif", "class_walk"):
        if fv[flag].value:
            writable_file(fv[flag].value, f"--{flag}")
    if _writes_strip(fv) and not fv.strip:
        writable_dir(fv.output_dir or ".", "the folder of the interpolation strip (--strip)")
    if fv.arithmetic:
        writable_file(fv.arithmetic_output, "--arithmetic_output")


def _check_images(images: np.ndarray, source) -> np.ndarray:
    """`images` if they are `[N, H, W, C]` images; a `UsageError` for generators of other outputs."""
    if images.ndim != 4:
        raise UsageError(f"The {source.form} generator outputs arrays of shape {images.shape[1:]}, not images "
                         "[H, W, C] (e.g. 2-D points of a toy mixture), so there is nothing to write as PNG; "
                         "call it from Python (tfgan_app.artifacts.open_generator) instead.")
    return images


# Flags of latent sampling, which an --inputs translation cannot honour.
LATENT_ONLY_FLAGS = ("num_images", "seed", "grid", "interpolate", "strip", "gif", "class_walk", "arithmetic",
                     "labels", "captions", "num_classes")


def _threads(fv: flags.FlagValues):
    """--tflite_threads parsed (None: the default)."""
    # deferred so --help does not import TensorFlow
    from tfgan_app.artifacts.tflite_runner import parse_threads  # pylint: disable=import-outside-toplevel
    return None if fv.tflite_threads is None else parse_threads(fv.tflite_threads)


def _edit(fv: flags.FlagValues) -> int:
    """`--inputs --condition`: re-generates image files under another condition with an Age-cGAN run."""
    # deferred so --help does not import TensorFlow
    # pylint: disable=import-outside-toplevel
    from tfgan_app.generation.editing import edit_files
    from tfgan_app.generation.translation import resolve_inputs
    # pylint: enable=import-outside-toplevel
    given = [f"--{name}" for name in LATENT_ONLY_FLAGS + ("mask", "tflite_threads", "timeout") if fv[name].present]
    if given:
        raise UsageError(f"--condition edits --inputs images; {', '.join(given)} do not apply to it: drop them.")
    if not fv.output_dir:
        raise UsageError("--condition needs --output_dir=DIR for the edited PNGs (one per input, same name).")
    if fv.edit_steps < 0:
        raise UsageError(f"Expected --edit_steps >= 0. Received: --edit_steps={fv.edit_steps}")
    paths = resolve_inputs(fv.inputs)
    writable_dir(fv.output_dir, "--output_dir")
    written = edit_files(fv.model, paths, fv.output_dir, fv.condition, resize=fv.resize,
                         batch_size=min(fv.batch_size, len(paths)), steps=fv.edit_steps,
                         source_condition=fv.source_condition)
    print(f"Edited {len(written)} image(s) to class {fv.condition} into {fv.output_dir}/ "
          f"({fv.edit_steps} latent-optimisation steps each)")
    return 0


def _translate(fv: flags.FlagValues, threads) -> int:
    """`--inputs`: translates image files with an image-to-image generator into --output_dir."""
    # deferred so --help does not import TensorFlow
    # pylint: disable=import-outside-toplevel
    from tfgan_app.artifacts.generators import open_generator
    from tfgan_app.generation.translation import resolve_inputs, translate_files
    # pylint: enable=import-outside-toplevel
    given = [f"--{name}" for name in LATENT_ONLY_FLAGS
             if fv[name].present and not (name == "seed" and fv.mask == "random")]  # --seed places random holes
    if given:
        raise UsageError(f"--inputs translates images with an image-to-image model; {', '.join(given)} apply to "
                         "latent models only: drop them.")
    if not fv.output_dir:
        raise UsageError("--inputs needs --output_dir=DIR for the translated PNGs (one per input, same name).")
    if fv.batch_size < 1:
        raise UsageError(f"Expected --batch_size >= 1, received {fv.batch_size}.")
    paths = resolve_inputs(fv.inputs)
    writable_dir(fv.output_dir, "--output_dir")
    with open_generator(fv.model, timeout=fv.timeout, tflite_threads=threads) as generator:
        written = translate_files(generator, paths, fv.output_dir, resize=fv.resize,
                                  batch_size=min(fv.batch_size, len(paths)), mask=fv.mask, seed=fv.seed)
        print(f"Translated {len(written)} image(s) into {fv.output_dir}/ ({generator.form} "
              f"{generator.kind} generator, input {'x'.join(map(str, generator.input_shape))})")
    return 0


def run(fv: flags.FlagValues) -> int:
    """Generates and writes the requested PNGs; prints their paths."""
    if fv.mask and not fv.inputs:
        raise UsageError(f"--mask={fv.mask} blanks and fills holes in --inputs images (an inpainting model); pass "
                         "--inputs=<file, folder or glob> --output_dir=DIR, or drop --mask.")
    if fv.condition is not None or fv.source_condition is not None or fv["edit_steps"].present:
        if fv.condition is None or not fv.inputs:
            raise UsageError("--condition, --source_condition and --edit_steps edit --inputs images with an Age-cGAN "
                             "run; pass --inputs=<file, folder or glob> --condition=CLASS --output_dir=DIR.")
        quiet.import_tensorflow()
        return _edit(fv)
    if fv.inputs or fv.resize:
        if not fv.inputs:
            raise UsageError("--resize applies to --inputs (image-to-image translation) only; drop it or pass "
                             "--inputs.")
        quiet.import_tensorflow()
        return _translate(fv, _threads(fv))
    if not (fv.output_dir or fv.grid or fv.interpolate or fv.class_walk or fv.arithmetic):
        raise UsageError("Nothing to write: pass --output_dir (one PNG per image), --grid=FILE.png, "
                         "--interpolate=STEPS, --class_walk=FILE.png and/or --arithmetic='A;B;C'.")
    if fv.interpolate and fv.interpolate < 2:
        raise UsageError(f"Expected --interpolate >= 2 steps, received {fv.interpolate}.")
    if fv.batch_size < 1:
        raise UsageError(f"Expected --batch_size >= 1, received {fv.batch_size}.")
    if fv.scale < 1:
        raise UsageError(f"Expected --scale >= 1 (an integer upscaling factor), received {fv.scale}.")
    if fv.grid and fv.num_images > MAX_GRID_IMAGES:
        raise UsageError(f"--grid tiles all images into one PNG held in memory; expected --num_images <= "
                         f"{MAX_GRID_IMAGES} with --grid, received {fv.num_images} (use --output_dir for more).")
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    # pylint: disable=import-outside-toplevel
    from tfgan_app import latent
    from tfgan_app.artifacts.generators import interpolate_images, open_generator, resolve_captions
    from tfgan_app.generation.streaming import image_file_name, stream_images, write_image_files
    # pylint: enable=import-outside-toplevel
    threads = _threads(fv)
    labels, captions = _labels(fv.labels), _captions(fv.captions)
    if not 0.0 <= fv.truncation <= 1.0:
        raise UsageError(f"Expected --truncation in [0, 1] (1: none, 0: the mean latent), received {fv.truncation}.")
    _check_outputs(fv)
    with open_generator(fv.model, num_classes=fv.num_classes, timeout=fv.timeout, tflite_threads=threads) as source:
        source.check_samples(fv.model)
        resolve_captions(source, 1, captions)  # before any output: captions given to the wrong model, or missing
        grid_batches = []
        if fv.output_dir:
            summary = write_image_files(source, fv.num_images, fv.output_dir, fv.seed, labels, captions,
                                        fv.batch_size, truncation=fv.truncation,
                                        on_batch=(lambda _, b: grid_batches.append(b)) if fv.grid else None)
            print(f"Wrote {summary.num_images} images to {fv.output_dir}/ "
                  f"({image_file_name(0, fv.num_images)} ...) in {summary.seconds:.1f} s, "
                  f"{summary.images_per_second:.1f} images/s ({source.form} generator)")
        elif fv.grid:
            grid_batches = [_check_images(images, source) for _, images in stream_images(
                source, fv.num_images, fv.seed, labels, captions, fv.batch_size,
                truncation=fv.truncation)]
        if fv.grid:
            grid = upscale(np.concatenate(grid_batches), fv.scale)
            print(f"Wrote grid {save_grid(fv.grid, grid)} ({source.form} generator)")
        if fv.interpolate and (_writes_strip(fv) or fv.gif):
            strip = upscale(_check_images(interpolate_images(source, fv.interpolate, fv.seed, labels,
                                                             fv.interpolation, captions), source), fv.scale)
            if _writes_strip(fv):
                path = fv.strip or os.path.join(fv.output_dir or ".", "interpolation.png")
                print(f"Wrote interpolation strip {save_png(path, make_grid(strip, cols=len(strip)))}")
            if fv.gif:
                print(f"Wrote animated latent walk {latent.save_gif(fv.gif, strip)}")
        if fv.class_walk:
            _write_class_walk(source, fv)
        if fv.arithmetic:
            _write_arithmetic(source, fv, labels, captions)
    return 0
