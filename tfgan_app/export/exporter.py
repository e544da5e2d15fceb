"""One-call export of a generator into the TF Serving layout, with TFLite files.

    <base>/models.config, models.docker.config     every model in <base> (see serving_config)
    <base>/<name>/<version>/saved_model.pb, variables/
    <base>/<name>/<version>/assets.extra/tf_serving_warmup_requests, tfgan_model.json
    <base>/<name>/<version>/tflite/generator_{float32,float16,int8}.tflite, generator.json

Image-to-image generators (pix2pix, SRGAN, CycleGAN A->B or B->A: one `[None, H, W, C]`
input) get the `serving_default` / `translate_png` signatures instead, text-conditioned
generators (`[latents, tokens]`, plus their caption vocabulary) `serving_default` /
`from_captions` / `generate_from_captions` / `generate_from_captions_png` (see savedmodel).

A version is assembled in a hidden `<base>/<name>/.staging-*` folder and renamed
into place when complete, so a running TF Serving never sees half a version.
Existing versions are never overwritten, and a new version must have the signature of
the existing ones (kind, input and output shapes, class count: `SIGNATURE_FIELDS` of their
`assets.extra/tfgan_model.json`), so that clients of `<name>` keep working; a different
model needs its own `name`.

Example:
>>> result = export_run("runs/dcgan_mnist", base_dir="export")
>>> result.version_dir
'export/dcgan_mnist/1'
"""

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Union

import keras
import numpy as np

from tfgan_app.artifacts.kind import model_kind
from tfgan_app.artifacts.layout import METADATA_FILE, read_metadata
from tfgan_app.artifacts.run_dir import load_run
from tfgan_app.errors import UsageError
from tfgan_app.export import serving_config
from tfgan_app.export.kinds import export_kind
from tfgan_app.export.savedmodel import write_savedmodel
from tfgan_app.export.tflite import QUANTIZATIONS, export_tflite
from tfgan_app.export.warmup import write_warmup
from tfgan_app.paths import writable_dir

DEFAULT_BASE_DIR = "export"


@dataclass
class ExportResult:
    """Where an export went (`export_generator`, `export_run`).

    Args:
        name: the model name.
        version: the version written.
        base_dir: the TF Serving base folder.
        version_dir: `<base_dir>/<name>/<version>`.
        models_config: the rewritten `models.config`.
        tflite: the TFLite sidecar (files, parity), or None when no TFLite file was asked for.

    Example:
    >>> export_run("runs/dcgan_mnist", base_dir="export").version_dir
    'export/dcgan_mnist/1'
    """

    name: str
    version: int
    base_dir: str
    version_dir: str
    models_config: str
    tflite: Optional[Dict]


def _resolve_version(model_dir: str, version: Union[int, str, None]) -> int:
    if version in (None, "auto", ""):
        return serving_config.next_version(model_dir)
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = -1
    if number < 1:
        raise UsageError(f"Expected --version=auto or a positive integer, received {version!r}.")
    if os.path.exists(os.path.join(model_dir, str(number))):
        raise UsageError(f"Version {number} already exists in {model_dir!r} and is never overwritten; "
                         "pass --version=auto (next free version) or another number.")
    return number


# What a client of a model name relies on; every version of a name must agree on these metadata fields.
# (All inputs and outputs of one kind have fixed dtypes: float32 latents / images, int32 labels, strings.)
SIGNATURE_FIELDS = ("kind", "latent_dim", "num_classes", "input_shape", "image_shape", "sequence_length")


def serving_signature(generator: keras.Model, num_classes: Optional[int] = None) -> Dict:
    """The `SIGNATURE_FIELDS` the export of `generator` will record in `tfgan_model.json`."""
    spec = export_kind(model_kind(generator)).spec(generator)
    num_classes = num_classes if spec.get("conditional") else None  # only latent specs have "conditional"
    spec = {**spec, "num_classes": num_classes}
    return {field: spec.get(field) for field in SIGNATURE_FIELDS}


def check_same_signature(model_dir: str, name: str, signature: Dict) -> None:
    """Raises `UsageError` if an existing version in `model_dir` has another signature than `signature`.

    Versions without `tfgan_model.json` (not written by `tfgan export`) are not compared.
    """
    for version in serving_config.list_versions(model_dir):
        version_dir = os.path.join(model_dir, str(version))
        if not os.path.isfile(os.path.join(version_dir, METADATA_FILE)):
            continue
        existing = read_metadata(version_dir)
        differences = [f"{field} {existing.get(field)!r} -> {signature[field]!r}" for field in SIGNATURE_FIELDS
                       if _normalise(existing.get(field)) != _normalise(signature[field])]
        if differences:
            raise UsageError(f"Model {name!r} in {os.path.dirname(model_dir) or '.'!r} has version {version} with "
                             f"another signature ({'; '.join(differences)}); a new version must keep its "
                             "clients working. Export this generator under another --name.")


def _normalise(value):
    return list(value) if isinstance(value, tuple) else value


def export_generator(generator: keras.Model, name: str, base_dir: str = DEFAULT_BASE_DIR,
                     version: Union[int, str, None] = "auto", num_classes: Optional[int] = None,
                     quantizations: Sequence[str] = QUANTIZATIONS,
                     vocabulary: Optional[Sequence[str]] = None,
                     calibration_images: Optional[np.ndarray] = None) -> ExportResult:
    """Exports `generator` as `<base_dir>/<name>/<version>/` (SavedModel, warm-up, TFLite) and
    rewrites `<base_dir>/models.config`.

    Args:
        generator: Keras generator following the contract, or an image-to-image generator.
        name: model name (URL and folder safe).
        base_dir: TF Serving base folder.
        version: "auto" for one past the highest existing version, or an unused positive integer.
        num_classes: class count of a conditional generator, None otherwise.
        quantizations: TFLite files to write (empty for none).
        vocabulary: caption words of a text-conditioned generator (`TextConditionedGAN.vocabulary`),
            None otherwise.
        calibration_images: image-to-image generators: int8 calibration inputs (`kinds.training_inputs`);
            None calibrates on noise images.

    Returns:
        The `ExportResult`.

    Raises:
        UsageError: a bad name or version, an existing version, a signature that differs from the model's
            other versions, or a generator that does not follow its kind's contract.
        ServingCompatibilityError: the written SavedModel fails TF Serving's loader.

    Example:
    >>> export_generator(gan.generator, "dcgan_mnist", base_dir="export", quantizations=["int8"]).version
    1
    """
    serving_config.check_model_name(name)
    writable_dir(base_dir, "--base")  # a file there is one UsageError, not a traceback mid-export
    model_dir = os.path.join(base_dir, name)
    number = _resolve_version(model_dir, version)
    check_same_signature(model_dir, name, serving_signature(generator, num_classes))
    os.makedirs(model_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".staging-{number}-", dir=model_dir)
    os.chmod(staging, 0o755)  # mkdtemp makes it private; TF Serving may run as another user.
    try:
        metadata = write_savedmodel(generator, staging, num_classes, vocabulary)
        write_warmup(staging, name, metadata)
        sidecar = (export_tflite(generator, staging, num_classes, quantizations, vocabulary=vocabulary,
                                 calibration_images=calibration_images)
                   if quantizations else None)
        version_dir = os.path.join(model_dir, str(number))
        if os.path.exists(version_dir):
            raise UsageError(f"Version {number} appeared in {model_dir!r} during export (another export?); "
                             "nothing was overwritten, run the export again.")
        os.rename(staging, version_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not os.listdir(model_dir):  # a failed first export leaves no empty model folder behind
            os.rmdir(model_dir)
    config_path = serving_config.write_models_config(base_dir)
    return ExportResult(name, number, base_dir, version_dir, config_path, sidecar)


def export_run(run_dir: str, name: Optional[str] = None, base_dir: str = DEFAULT_BASE_DIR,
               version: Union[int, str, None] = "auto", quantizations: Sequence[str] = QUANTIZATIONS,
               direction: str = "a_to_b", which: str = "best") -> ExportResult:
    """Exports the generator of a training run directory (`export_generator` on `load_run`).

    Args:
        run_dir: a directory written by `tfgan train`.
        name: the model name (default: the config's "name"; CycleGAN's B -> A: `<name>_b_to_a`).
        base_dir, version, quantizations: as `export_generator`.
        direction: "b_to_a" exports a CycleGAN run's B -> A generator.
        which: "best" exports `best_generator.keras` when the run kept one (`tfgan train --eval_every`),
            "last" (or a run without it) `generator.keras`.

    Returns:
        The `ExportResult`.

    Raises:
        MissingResourceError: `run_dir` is not a run directory.
        UsageError: as `export_generator`.

    Example:
    >>> export_run("runs/pix2pix_mnist_edges", quantizations=["float32"]).tflite["files"]["float32"]["parity"]
    """
    trained = load_run(run_dir, direction, which)
    calibration = None
    if "int8" in quantizations:
        calibration = export_kind(model_kind(trained.generator)).run_calibration_images(
            trained.generator, trained.config, direction)
    return export_generator(trained.generator, name or trained.name, base_dir, version,
                            trained.num_classes, quantizations, trained.vocabulary, calibration)
