"""Running an exported `.tflite` generator with LiteRT (`ai_edge_litert`): `TFLiteGenerator`.

The reader side of `tfgan_app.export.tflite` (which converts and writes the files); `open_generator`
opens `.tflite` files through it.
"""

import os
import statistics
import time
from typing import Dict, Optional, Union

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from tfgan_app.artifacts.kind import Kind, read_kind, signature_kind
from tfgan_app.artifacts.layout import SIDECAR_FILE, read_sidecar
from tfgan_app.errors import MissingResourceError, UsageError

# Interpreter threads (measurements and reasoning: benchmarks/README.md, "TFLite threads"). With more
# than one thread the int8 kernels hand each op to a worker thread and wait for it; when the cores are busy
# with other processes that worker is often descheduled and one call takes 10-40x its 1-thread time, while
# the float files gain nothing from a second thread at any batch size. One thread is therefore the default
# for every file; "auto" measures instead (see `TFLiteGenerator`).
THREADS_AUTO = "auto"
DEFAULT_THREADS = 1
AUTOTUNE_CALLS = 5
_CONDITIONED = {"labels": "conditional", "tokens": "text-conditioned"}  # how a model taking each condition is called


def available_cores() -> int:
    """CPU cores this process may run on (`os.sched_getaffinity`, else `os.cpu_count()`)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def parse_threads(value: Union[int, str]) -> Union[int, str]:
    """A positive thread count, or "auto"; `UsageError` otherwise.

    Example:
    >>> parse_threads("2"), parse_threads("auto")
    (2, 'auto')
    """
    if isinstance(value, str) and value.strip().lower() == THREADS_AUTO:
        return THREADS_AUTO
    try:
        threads = int(value) if not isinstance(value, (bool, float)) else None
    except (TypeError, ValueError):
        threads = None
    if threads is None or threads < 1:
        raise UsageError(f"Expected the TFLite thread count to be a positive integer or 'auto', received {value!r} "
                         "(e.g. --tflite_threads=1 or --tflite_threads=auto).")
    return threads


def file_kind(path: str, input_details: Dict[str, dict]) -> Kind:
    """The kind of the `.tflite` file at `path`: from its sidecar (`SIDECAR_FILE`, written by `tfgan export`).

    A file without a sidecar (a user's own conversion) is classified once by its input names
    (`signature_kind`); names that say no kind are a `MissingResourceError` asking for the sidecar.
    """
    sidecar = read_sidecar(path)
    if sidecar is not None:
        return read_kind(sidecar, os.path.join(os.path.dirname(os.path.abspath(path)), SIDECAR_FILE))
    return signature_kind(input_details, f"{path!r} (no {SIDECAR_FILE} next to it: put the export's sidecar beside "
                                         "it)")


class TFLiteGenerator:
    """Runs a generator `.tflite` file with the LiteRT interpreter (`ai_edge_litert`).

    Takes float latents (and int labels for conditional models) of any batch
    size and returns float32 images in [-1, 1]; int8 models are quantized and
    dequantized with the tensors' own (scale, zero_point). What the file takes is its kind's inputs
    (`Kind.inputs`): image-to-image models take float images `[N, H, W, C]` in [-1, 1] instead of
    latents (`input_shape` is `[H, W, C]`, `latent_dim` None); text-conditioned models take `tokens`
    int32 `[N, sequence_length]` (ids of `tfgan_app.data.captions.make_vectorizer`) with the latents,
    never labels.

    Args:
        path: `.tflite` file written by `export_tflite`.
        num_threads: interpreter threads: a positive int, `None` for the recommended default
            (`DEFAULT_THREADS`, recorded in the sidecar; see benchmarks/README.md), or "auto" to time
            1 thread against `available_cores()` threads on the first call of each batch size and keep
            the faster (`threads_for(batch)` tells which was chosen).

    Raises:
        MissingResourceError: no such file, a file LiteRT cannot read, or one without its kind's inputs.
        UsageError: a bad thread count (calls: inputs of the wrong shape or a condition it does not take).

    Example:
    >>> runner = TFLiteGenerator("export/dcgan_mnist/1/tflite/generator_int8.tflite", num_threads=1)
    >>> runner.num_threads
    1
    """

    def __init__(self, path: str, num_threads: Union[int, str, None] = None):
        if not os.path.isfile(path):
            raise MissingResourceError(f"Expected a .tflite file, {path!r} does not exist. "
                                       "Export one with `tfgan export --run_dir=DIR`.")
        self.path = path
        self.num_threads = parse_threads(DEFAULT_THREADS if num_threads is None else num_threads)
        self._interpreters: Dict[int, Interpreter] = {}
        self._chosen: Dict[int, int] = {}  # batch size -> threads ("auto")
        self._interpreter = self._make_interpreter(1 if self.num_threads == THREADS_AUTO else self.num_threads)
        details = {d["name"]: d for d in self._interpreter.get_input_details()}
        self.kind = file_kind(path, details)
        inputs = self.kind.inputs
        named = {role: next((d for n, d in details.items() if role in n), None)
                 for role in ("latents", "labels", "tokens", "images")}
        # A one-input file feeds its one tensor, whatever its name.
        only = next(iter(details.values())) if len(details) == 1 else None
        self._latents = named[inputs.primary] or only
        self._condition_name = inputs.condition
        self._condition = named.get(inputs.condition)
        found = {inputs.primary: self._latents, inputs.condition: self._condition}
        missing = [role for role in inputs.required if found[role] is None]
        if missing:
            raise MissingResourceError(f"{path!r} has no {' or '.join(map(repr, missing))} input for its kind "
                                       f"{self.kind.value!r} (inputs: {sorted(details)}); it was not written by "
                                       "tfgan export.")
        self._output = self._interpreter.get_output_details()[0]
        self.input_shape = [int(d) for d in self._latents["shape_signature"][1:]]
        self.latent_dim = self.input_shape[-1] if inputs.takes_latents else None
        self.conditional = self._condition is not None and not inputs.condition_required
        self.sequence_length = int(self._condition["shape_signature"][1]) if inputs.condition_required else None
        self.image_shape = [int(d) for d in self._output["shape_signature"][1:]]
        self._batch: Dict[int, Optional[tuple]] = {}  # threads -> allocated input shapes

    def _make_interpreter(self, threads: int) -> Interpreter:
        """The interpreter running with `threads` threads (created once, then reused)."""
        if threads not in self._interpreters:
            try:
                self._interpreters[threads] = Interpreter(model_path=self.path, num_threads=threads)
            except (ValueError, RuntimeError) as e:
                raise MissingResourceError(f"Could not read {self.path!r} as a TFLite model: {e}") from e
        return self._interpreters[threads]

    def threads_for(self, batch_size: int) -> Optional[int]:
        """Threads used for batches of `batch_size` (None if "auto" has not timed that batch size yet)."""
        if self.num_threads != THREADS_AUTO:
            return self.num_threads
        return self._chosen.get(batch_size)

    def _invoke(self, threads: int, latents: np.ndarray, condition: Optional[np.ndarray]) -> np.ndarray:
        interpreter = self._make_interpreter(threads)
        shapes = (latents.shape, None if condition is None else condition.shape)
        if self._batch.get(threads) != shapes:
            interpreter.resize_tensor_input(self._latents["index"], list(latents.shape))
            if condition is not None:
                interpreter.resize_tensor_input(self._condition["index"], list(condition.shape))
            interpreter.allocate_tensors()
            self._batch[threads] = shapes
        interpreter.set_tensor(self._latents["index"], _quantize(latents, self._latents))
        if condition is not None:
            interpreter.set_tensor(self._condition["index"], condition)
        interpreter.invoke()
        return _dequantize(interpreter.get_tensor(self._output["index"]), self._output)

    def _autotune(self, latents: np.ndarray, condition: Optional[np.ndarray]) -> int:
        """Times 1 thread and `available_cores()` threads on this batch (median of `AUTOTUNE_CALLS` calls
        after one warm-up call each, interleaved) and returns the faster."""
        candidates = sorted({1, available_cores()})
        seconds = {threads: [] for threads in candidates}
        for threads in candidates:
            self._invoke(threads, latents, condition)
        for _ in range(AUTOTUNE_CALLS):
            for threads in candidates:
                start = time.perf_counter()
                self._invoke(threads, latents, condition)
                seconds[threads].append(time.perf_counter() - start)
        return min(candidates, key=lambda threads: (statistics.median(seconds[threads]), threads))

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None,
                 tokens: Optional[np.ndarray] = None) -> np.ndarray:
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 1 + len(self.input_shape) or list(latents.shape[1:]) != self.input_shape:
            raise UsageError(f"Expected {self.kind.inputs.primary} of shape [N, {', '.join(map(str, self.input_shape))}], "
                             f"received {latents.shape}.")
        n = latents.shape[0]
        condition = self._check_condition(n, {"labels": labels, "tokens": tokens})
        threads = self.threads_for(n)
        if threads is None:
            threads = self._chosen[n] = self._autotune(latents, condition)
        return self._invoke(threads, latents, condition)

    def _check_condition(self, n: int, given: Dict[str, Optional[np.ndarray]]) -> Optional[np.ndarray]:
        """The int32 condition `[n, ...]` (labels or tokens) this model takes, None if it takes none; `UsageError`
        for a condition it does not take, a missing one, or one of another shape."""
        takes = self._condition_name if self._condition is not None else None
        for name, value in given.items():
            if value is not None and name != takes:
                what = f"is {_CONDITIONED[takes]} (it takes {takes})" if takes else "takes no labels or tokens"
                raise UsageError(f"This model {what}: do not pass {name}.")
        if takes is None:
            return None
        if given[takes] is None:
            hint = (" (make_vectorizer ids of the captions; the vocabulary is in generator.json)"
                    if takes == "tokens" else "")
            raise UsageError(f"This model is {_CONDITIONED[takes]}: pass {takes}=int32 "
                             f"[N{''.join(f', {d}' for d in self._condition['shape_signature'][1:])}]{hint}.")
        value = np.asarray(given[takes], np.int32)
        expected = (n, *(int(d) for d in self._condition["shape_signature"][1:]))
        if len(expected) == 1:
            value = value.reshape([-1])  # labels: any list of n ids
        if value.shape != expected:
            raise UsageError(f"Expected {takes} of shape {list(expected)} (one row per latent), received "
                             f"{value.shape}.")
        return value

    def quantization_params(self) -> Dict:
        """(scale, zero_point) of the primary input (named by `KindInputs.quantization_key`: "latents" or
        "input_images") and the image output (0.0, 0 for float tensors)."""
        return {self.kind.inputs.quantization_key: list(map(float, self._latents["quantization"])),
                "images": list(map(float, self._output["quantization"]))}


def _quantize(x: np.ndarray, detail: Dict) -> np.ndarray:
    if detail["dtype"] != np.int8:
        return x.astype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def _dequantize(x: np.ndarray, detail: Dict) -> np.ndarray:
    if detail["dtype"] != np.int8:
        return x.astype(np.float32)
    scale, zero_point = detail["quantization"]
    return ((x.astype(np.float32) - zero_point) * scale).astype(np.float32)
