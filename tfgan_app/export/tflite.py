"""TFLite export (float32, float16, full-int8), a LiteRT runner and a parity report.

Files go next to the SavedModel, in a subfolder TF Serving ignores:

    <base>/<name>/<version>/tflite/generator_float32.tflite
    <base>/<name>/<version>/tflite/generator_float16.tflite
    <base>/<name>/<version>/tflite/generator_int8.tflite
    <base>/<name>/<version>/tflite/generator.json      (sidecar)

Conversion goes through a *frozen* concrete function of the generator (variables
folded into constants): on TF 2.21 / Keras 3, int8 calibration of a SavedModel
whose weights are resource variables fails with `READ_VARIABLE` errors, the
frozen graph calibrates fine.

* `float32`: plain conversion, matches the SavedModel to float rounding.
* `float16`: weights stored as float16 (half the size), computed in float32.
* `int8`: full-integer model (`TFLITE_BUILTINS_INT8` ops only, int8 latents in
  and int8 images out), calibrated on a representative set of latents drawn
  with `sample_latents`. The sidecar records each tensor's (scale, zero_point);
  `TFLiteGenerator` applies them, so callers always pass float latents and get
  float images in [-1, 1]. Latents outside the calibrated range are clipped.

Image-to-image generators (see `savedmodel.TranslatorModule`) take `images`
float32 `[N, H, W, C]` in [-1, 1] instead of latents; `export_run` calibrates
their int8 file on a sample of the run's own training inputs (`training_inputs`),
falling back to images uniform in [-1, 1] (seed `CALIBRATION_SEED`) only when the
dataset cannot be read (the sidecar's "calibration" says which); parity inputs
are uniform images (seed `PARITY_SEED`). For them a
quantization that fails to convert or run is skipped with a logged warning and
recorded under "skipped" in the sidecar, instead of failing the export.

Text-conditioned generators (see `savedmodel.CaptionModule`) take `latents`
float32 `[N, D]` and `tokens` int32 `[N, L]`: TFLite has no string ops, so
captions are tokenised outside the model with
`tfgan_app.data.captions.make_vectorizer` and the vocabulary recorded in the
sidecar. `tokens` stays int32 in every file, int8 included. Calibration and
parity use latents from `sample_latents` and `random_tokens` (random word ids
with random padding), with the same seeds; a failing quantization is skipped as
for image-to-image generators.

Example:
>>> runner = TFLiteGenerator("export/dcgan_mnist/1/tflite/generator_int8.tflite")
>>> images = runner(sample_latents(4, runner.latent_dim, seed=0).numpy())
"""

import json
import math
import os
import re
import warnings
from typing import Dict, Iterable, List, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from tensorflow.lite.python.convert_phase import ConverterError
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from tfgan_app.artifacts.layout import SIDECAR_FILE, read_metadata
from tfgan_app.artifacts.savedmodel_loader import load_savedmodel
from tfgan_app.artifacts.tflite_runner import DEFAULT_THREADS, THREADS_AUTO, TFLiteGenerator
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.artifacts.kind import model_kind
from tfgan_app.export.kinds import CALIBRATION_SEED, PARITY_SEED, export_kind

from tfgan_app.names import QUANTIZATIONS  # noqa: E402  (TF-free, for the CLI flags)
TFLITE_DIR = "tflite"
# Parity each file must reach against the SavedModel (images in [-1, 1]); tests enforce them on tiny
# generators, and `export_tflite` records in the sidecar whether a real export meets them. int8 at
# >= 30 dB PSNR (mean error about one uint8 grey level) is visually equivalent; its worst single pixel
# can be far larger (0.28 measured on the trained default DCGAN at 41 dB PSNR), hence 0.35 there.
PARITY_THRESHOLDS = {"float32": {"max_abs_error": 1e-4, "min_psnr_db": 80.0},
                     "float16": {"max_abs_error": 1e-2, "min_psnr_db": 50.0},
                     "int8": {"max_abs_error": 0.35, "min_psnr_db": 30.0}}


def thread_recommendation(quantization: str) -> Dict:
    """The sidecar's `threads` entry for a file: the default `TFLiteGenerator` uses and why."""
    reason = ("int8: 1 thread is fastest at batch 1 and robust at every batch; 2+ threads collapse (10-40x "
              "slower) when other processes keep the cores busy" if quantization == "int8" else
              "float: a second thread gives no measured speed-up at batch 1, 16 or 64")
    return {"recommended": DEFAULT_THREADS, "by_batch_size": {"1": DEFAULT_THREADS, "64": DEFAULT_THREADS},
            "alternative": f"{THREADS_AUTO!r}: time 1 vs all available cores on the first call of each batch size",
            "reason": reason, "measurements": "benchmarks/README.md (TFLite threads)"}


def tflite_file_name(quantization: str) -> str:
    """`generator_<quantization>.tflite`."""
    return f"generator_{quantization}.tflite"


def check_quantizations(quantizations: Iterable[str]) -> list:
    """Returns the list of quantizations, raising `UsageError` on unknown names."""
    quantizations = [q.strip() for q in quantizations if q.strip()]
    unknown = [q for q in quantizations if q not in QUANTIZATIONS]
    if unknown:
        raise UsageError(f"Unknown TFLite quantization(s) {unknown}; expected a subset of {list(QUANTIZATIONS)} "
                         "(e.g. --tflite=float32,float16,int8, or --tflite= for none).")
    return quantizations


def input_signature(generator: keras.Model) -> List[tf.TensorSpec]:
    """The TFLite model's inputs, in the generator's input order: `images`; `latents` (+ `labels`);
    or `latents` + `tokens` int32 `[None, L]` for text-conditioned generators (`ExportKind.input_specs`)."""
    behaviour = export_kind(model_kind(generator))
    return list(behaviour.input_specs(behaviour.spec(generator)).values())


def _frozen_function(generator: keras.Model, batch_size: Optional[int] = None):
    def call(*inputs):
        return generator(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
    signature = [tf.TensorSpec([batch_size] + list(spec.shape[1:]), spec.dtype, spec.name)
                 for spec in input_signature(generator)]
    fn = tf.function(call, input_signature=signature)
    return convert_variables_to_constants_v2(fn.get_concrete_function())


def model_inputs(generator: keras.Model, num_samples: int, seed: int, num_classes: Optional[int] = None,
                 vocabulary: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """Synthetic inputs for calibration and parity, keyed by the `input_signature` names (same order).

    Latents come from `sample_latents(num_samples, D, seed)`, labels cycle through the classes,
    images are uniform in [-1, 1] (`random_images`), tokens are `random_tokens` over `vocabulary`
    (`ExportKind.model_inputs`).
    """
    behaviour = export_kind(model_kind(generator))
    return behaviour.model_inputs(behaviour.spec(generator), num_samples, seed, num_classes, vocabulary)


def convert(generator: keras.Model, quantization: str, num_classes: Optional[int] = None,
            calibration_samples: int = 256, vocabulary: Optional[Sequence[str]] = None,
            calibration_images: Optional[np.ndarray] = None, batch_size: Optional[int] = None) -> bytes:
    """Converts `generator` to a TFLite flatbuffer with the given quantization.

    `batch_size` None keeps the batch dimension dynamic (the interpreter resizes it); an int fixes it,
    for runtimes that take static shapes only (LiteRT.js, see `tfgan_app/export/web.py`).

    int8 is calibrated one sample per step on `calibration_images` (image-to-image generators: a sample
    of the run's training inputs, `training_inputs`) or else on `model_inputs(..., CALIBRATION_SEED)`.
    """
    check_quantizations([quantization])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([_frozen_function(generator, batch_size)])
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        inputs = ([np.asarray(calibration_images, np.float32)] if calibration_images is not None else
                  list(model_inputs(generator, calibration_samples, CALIBRATION_SEED, num_classes,
                                    vocabulary).values()))
        step = batch_size or 1  # a static batch calibrates on batches of its size
        samples = [[x[i:i + step] for x in inputs] for i in range(0, len(inputs[0]) - step + 1, step)]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: iter(samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        # int8 I/O has no float input statistics by design; the converter warns about it on every call.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        try:
            return converter.convert()
        except ConverterError as e:
            unsupported = re.search(r"TF Select ops: ([^\n]+)", str(e))
            reason = (f"the generator uses ops the TFLite builtin runtime lacks: {unsupported.group(1)}"
                      if unsupported else str(e).splitlines()[0])
            raise UsageError(f"TFLite {quantization} conversion failed: {reason}. Export the SavedModel only "
                             "with --tflite= (quantizations=()), or replace those ops in the generator.") from e


def psnr(reference: np.ndarray, images: np.ndarray) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2): `10 log10(4 / MSE)`; `inf` when identical."""
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(images, np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(4.0 / mse)


def parity(reference: np.ndarray, images: np.ndarray, quantization: str) -> Dict:
    """`{"max_abs_error", "psnr_db", "meets_threshold"}` of `images` against `reference`.

    `psnr_db` is None when the images are identical; `meets_threshold` compares
    with `PARITY_THRESHOLDS[quantization]`.
    """
    value = psnr(reference, images)
    max_abs = float(np.max(np.abs(np.asarray(reference) - np.asarray(images))))
    limits = PARITY_THRESHOLDS[quantization]
    return {"max_abs_error": max_abs, "psnr_db": None if math.isinf(value) else round(value, 3),
            "meets_threshold": max_abs <= limits["max_abs_error"] and value >= limits["min_psnr_db"]}


def export_tflite(generator: keras.Model, version_dir: str, num_classes: Optional[int] = None,
                  quantizations: Sequence[str] = QUANTIZATIONS, parity_samples: int = 64,
                  calibration_samples: int = 256, vocabulary: Optional[Sequence[str]] = None,
                  calibration_images: Optional[np.ndarray] = None) -> Dict:
    """Writes the `.tflite` files and the sidecar JSON into `version_dir/tflite/`; returns the sidecar.

    Parity is measured against the SavedModel already written in `version_dir` by
    `write_savedmodel` (its `serving_default` signature; its metadata file describes the model
    in the sidecar too) on `parity_samples` inputs from
    `model_inputs(..., PARITY_SEED)` (disjoint from the calibration seed): latents
    (+ labels), random images in [-1, 1] for image-to-image generators, latents and
    `random_tokens` for text-conditioned ones (`vocabulary` required, and recorded in
    the sidecar). Each file is run by `TFLiteGenerator` (LiteRT). Image-to-image and
    text-conditioned generators skip (log + sidecar "skipped") a quantization that fails.

    Args:
        generator: the Keras generator the SavedModel was written from.
        version_dir: the export's version directory (its SavedModel is the parity reference).
        num_classes: class count of a conditional latent generator, None otherwise.
        quantizations: subset of `QUANTIZATIONS` ("float32", "float16", "int8").
        parity_samples: inputs of the parity check.
        calibration_samples: inputs of the int8 calibration.
        vocabulary: caption words of a text-conditioned generator (required for it).
        calibration_images: image-to-image generators: the run's training inputs (`training_inputs`), which
            calibrate int8 instead of noise images; the sidecar's "calibration" says which.

    Returns:
        The sidecar written to `tflite/generator.json`: files, their parity against the SavedModel, skipped files.

    Raises:
        UsageError: an unknown quantization, a text generator without its vocabulary, or a latent generator
            whose file cannot be converted (image-to-image and text generators skip such a file instead).

    Example:
    >>> sidecar = export_tflite(generator, "export/dcgan_mnist/1", quantizations=["int8"])
    >>> sidecar["files"]["int8"]["parity"]["psnr_db"] > 30
    True
    """
    quantizations = check_quantizations(quantizations)
    out_dir = os.path.join(version_dir, TFLITE_DIR)
    os.makedirs(out_dir, exist_ok=True)
    kind = model_kind(generator)
    behaviour = export_kind(kind)
    inputs = model_inputs(generator, parity_samples, PARITY_SEED, num_classes, vocabulary)
    with load_savedmodel(version_dir) as serving:  # as TF Serving runs it (the package's one SavedModel loader)
        reference = serving.run("serving_default", inputs)["images"]
    model = {key: value for key, value in read_metadata(version_dir).items() if key != "signatures"}
    description = behaviour.tflite_description(num_classes, parity_samples)
    description["parity"]["thresholds"] = PARITY_THRESHOLDS
    sidecar = {**model, **description, "files": {}}
    if behaviour.skip_failed_quantizations:
        sidecar["skipped"] = {}
    calibration_images = behaviour.calibration_images(calibration_images)
    if "int8" in quantizations:
        sidecar.update(behaviour.calibration_summary(calibration_images))
    for quantization in quantizations:
        path = os.path.join(out_dir, tflite_file_name(quantization))
        try:
            entry = _write_and_check(generator, path, quantization, num_classes, vocabulary, calibration_samples,
                                     reference, inputs, calibration_images)
        except (UsageError, MissingResourceError, RuntimeError, ValueError) as e:
            if not behaviour.skip_failed_quantizations:
                raise
            # These architectures are newer to TFLite here: keep the SavedModel and the other files.
            if os.path.exists(path):
                os.remove(path)
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            logging.warning("Skipping TFLite %s for this %s generator: %s", quantization, kind, reason)
            sidecar["skipped"][quantization] = reason
            continue
        if quantization == "int8":
            entry["calibration"] = behaviour.calibration_set(calibration_samples, calibration_images)
        sidecar["files"][quantization] = entry
    with open(os.path.join(out_dir, SIDECAR_FILE), "w") as f:
        json.dump(sidecar, f, indent=2)
    return sidecar


def _write_and_check(generator, path, quantization, num_classes, vocabulary, calibration_samples, reference,
                     inputs, calibration_images=None) -> Dict:
    """Converts and writes one file, runs it on `inputs` (by input name) and returns its sidecar entry."""
    with open(path, "wb") as f:
        f.write(convert(generator, quantization, num_classes, calibration_samples, vocabulary, calibration_images))
    runner = TFLiteGenerator(path)
    images = runner(next(iter(inputs.values())), inputs.get("labels"), inputs.get("tokens"))
    entry = {"file": os.path.basename(path), "size_bytes": os.path.getsize(path),
             "quantization": quantization, "tensor_quantization": runner.quantization_params(),
             "parity": parity(reference, images, quantization), "threads": thread_recommendation(quantization)}
    if not entry["parity"]["meets_threshold"]:
        logging.warning("TFLite %s parity %s misses the threshold %s; check %s before deploying it.",
                        quantization, entry["parity"], PARITY_THRESHOLDS[quantization], path)
    return entry
