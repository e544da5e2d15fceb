"""Conditional editing of image files with an Age-cGAN run (`tfgan generate --inputs=... --condition=...`).

`edit_files(run_dir, inputs, output_dir, condition)` loads the run's whole model (`gan.keras`: the conditional
generator *and* the encoder that inverts it; the exported generator alone cannot invert images), reads every
input like `translate_files` does, re-generates each image under `condition` with `AgeCGAN.edit` (encoder,
identity-preserving latent optimisation, generator) and writes `<output_dir>/<input name>.png`.

Example:
>>> edit_files("runs/agecgan_mnist", resolve_inputs("sevens/*.png"), "as_ones", condition=1)
"""

import importlib
import os
from typing import Callable, List, Optional, Sequence

import numpy as np

from tfgan_app.artifacts.run_dir import load_keras_generator
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.generation.translation import check_unique_names, read_input_image, write_batches

DEFAULT_EDIT_STEPS = 100


def load_editor(spec: str):
    """The editing model of `spec`: a run directory holding `gan.keras`, or that file.

    Returns:
      The loaded model (it has `edit`, e.g. `tfgan_app.gans.AgeCGAN`).

    Raises:
      MissingResourceError: no `gan.keras` there.
      UsageError: the model cannot edit images (it is not an Age-cGAN).
    """
    path = spec if spec.endswith(".keras") else os.path.join(spec, "gan.keras")
    if not os.path.isfile(path):
        raise MissingResourceError(f"--condition edits images with an Age-cGAN run: its gan.keras holds the encoder "
                                   f"that inverts the generator. {path!r} does not exist; pass --model=RUN_DIR of a "
                                   "run trained with e.g. --model=agecgan_mnist.")
    importlib.import_module("tfgan_app.gans")  # registers the GAN classes gan.keras may hold
    model = load_keras_generator(path)
    if not callable(getattr(model, "edit", None)):
        raise UsageError(f"--condition edits images with a conditional-editing model (Age-cGAN, e.g. the "
                         f"agecgan_mnist preset); {path!r} holds a {type(model).__name__}. Received: "
                         f"--model={spec!r}")
    return model


def edit_files(spec: str, paths: Sequence[str], output_dir: str, condition: int, resize: bool = False,
               batch_size: int = 16, steps: int = DEFAULT_EDIT_STEPS, source_condition: Optional[int] = None,
               on_file: Optional[Callable[[str, str], None]] = None) -> List[str]:
    """Edits each of `paths` to `condition` and writes `output_dir/<name>.png`; returns the written paths.

    Args:
      spec: an Age-cGAN run directory (or its `gan.keras`).
      paths: input image files (`resolve_inputs`); read and checked before anything is written.
      output_dir: where the edited PNGs go (named like the inputs).
      condition: the target condition (class) of every image.
      resize: resize inputs of another size to the model's (bilinear) instead of refusing them.
      batch_size: images edited together.
      steps: latent-optimisation steps per batch (0: the encoder's latent as is).
      source_condition: the inputs' condition (None: inferred per image, `AgeCGAN.infer_condition`).
      on_file: called with (input, output) per written file.

    Returns:
      The written paths, in input order.

    Raises:
      UsageError: a condition out of range, a bad batch size, or inputs whose names collide.
      MissingResourceError: no Age-cGAN run at `spec`, or an unreadable input.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"Expected --batch_size >= 1. Received: batch_size={batch_size!r}")
    model = load_editor(spec)
    for name, value in (("condition", condition), ("source_condition", source_condition)):
        if value is not None and not 0 <= int(value) < model.num_classes:
            raise UsageError(f"--{name} must be a class in [0, {model.num_classes}). Received: --{name}={value}")
    check_unique_names(paths)
    shape = [int(d) for d in model.generator.outputs[0].shape[1:]]
    images = np.stack([read_input_image(path, shape, resize) for path in paths])

    def edit(batch, _):
        source = None if source_condition is None else [int(source_condition)] * len(batch)
        return model.edit(batch, [int(condition)] * len(batch), source, steps=steps)
    return write_batches(paths, images, output_dir, batch_size, edit, on_file)
