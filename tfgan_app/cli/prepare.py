"""tfgan prepare: pack an image folder once into TFRecord shards, then train from them with tfrecord:DIR.

Checks every image (an unreadable file is named), resizes (or centre-crops, --crop=center) each to
--size, and writes --shards TFRecord files plus dataset.json (count, size, channels, class names) to
--output, which may be a local folder or any path TensorFlow's filesystems take (gs://bucket/dir).
Class sub-folders of the image folder become labels, as with folder:/PATH.

Examples:
  tfgan prepare --dataset=folder:/data/faces --output=/data/faces_64 --size=64
  tfgan train --model=dcgan_rgb64 --dataset=tfrecord:/data/faces_64
  tfgan prepare --dataset=folder:/data/pets --output=gs://my-bucket/pets_128 --size=128 --shards=64
"""

from absl import flags

from tfgan_app.cli import quiet
from tfgan_app.names import CROP_MODES


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan prepare` flags on `fv`."""
    flags.DEFINE_string("dataset", None, "The images to pack: folder:/PATH (flat, or one sub-folder per class).",
                        flag_values=fv)
    flags.DEFINE_string("output", None, "Folder to write the shards and dataset.json to (local or gs://...).",
                        flag_values=fv)
    flags.DEFINE_integer("size", None, "Height and width to store the images at (default: the first image's).",
                         flag_values=fv)
    flags.DEFINE_integer("channels", None, "1 (grayscale) or 3 (RGB) (default: the first image's).", flag_values=fv)
    flags.DEFINE_integer("shards", None, "Number of TFRecord files (default: one per ~2,000 images); use at "
                         "least as many as training workers, so that each reads its own.", flag_values=fv)
    flags.DEFINE_enum("crop", "resize", list(CROP_MODES), "resize: stretch each image to --size; center: "
                      "centre-crop it to a square first, then resize.", flag_values=fv)


def run(fv: flags.FlagValues) -> int:
    """Writes the shards; prints what was written."""
    from tfgan_app.errors import UsageError  # lazy: --help needs no TF

    if not fv.dataset or not fv.dataset.startswith("folder:"):
        raise UsageError(f"--dataset must be folder:/PATH (a folder of images), received --dataset={fv.dataset!r}.")
    if not fv.output:
        raise UsageError("--output is required: the folder to write the TFRecord shards to (e.g. --output=data/faces_64).")
    quiet.import_tensorflow()
    from tfgan_app.data.tfrecord import prepare_folder  # lazy: imports TensorFlow

    size = None if fv.size is None else (fv.size, fv.size)
    description = prepare_folder(fv.dataset[len("folder:"):], fv.output, size, fv.channels, fv.shards, fv.crop)
    classes = description["class_names"]
    height, width = description["image_size"]
    print(f"Wrote {description['count']} images ({height}x{width}x{description['channels']}, "
          f"{len(classes) or 'no'} classes{': ' + ', '.join(classes[:10]) if classes else ''}"
          f"{', ...' if len(classes) > 10 else ''}) in {len(description['shards'])} shard(s) to {fv.output}.")
    print(f"Train from them with: tfgan train --dataset=tfrecord:{fv.output}")
    return 0
