"""The versions the local server hosts (`<base>/<name>/<version>/`), managed like TF Serving's.

TF Serving's `AspiredVersionsManager` and `ServableStateMonitor` semantics:

* A poller thread scans the base folder every `poll_wait_seconds`
  (`--file_system_poll_wait_seconds`); requests never scan or load.
* A version becomes AVAILABLE only after it loaded and its warm-up records
  (`assets.extra/tf_serving_warmup_requests`) ran. A version that fails to load
  (truncated `saved_model.pb`, `variables/` still being copied, a warm-up that
  fails) is reported with state END and its `error_code` / `error_message`, and
  is retried only when its folder changes.
* A changed version folder (its `fingerprint.pb`, `saved_model.pb`,
  `variables/` or warm-up file: names, sizes, mtimes) is reloaded; the old load
  keeps serving until the new one is AVAILABLE. A version deleted from disk is
  unloaded.
* A version is unloaded (its session closed) only when no request uses it, as
  TF Serving's `BasicManager` waits for every `ServableHandle` to be released
  before it calls `Loader::Unload`: requests hold a `ModelRepository.acquire`
  handle while they run, and a swapped-out or deleted version stops taking new
  requests at once but closes when its last handle is released.
* Unversioned requests go to the highest AVAILABLE version.
* A version folder whose number does not fit int64 (TF Serving's version
  type) is ignored with a logged reason, like any non-numeric folder.

Versions are loaded with TF Serving's session semantics (the TF1 loader:
restore op + init op in a fresh `tf.Graph`/`Session`, then `Session.run` on the
SignatureDef tensor names), so a SavedModel the C++ `LoadSavedModel` rejects is
rejected here too instead of being served by the more lenient TF2 object loader.

Every request rejection is a `RequestError` carrying the HTTP status and gRPC
code TF Serving uses for it.
"""

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

import grpc
import numpy as np
import tensorflow as tf
from absl import logging
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from tfgan_app.errors import UsageError
from tfgan_app.export.serving_config import is_model_name
from tfgan_app.export.warmup import WARMUP_FILE, read_warmup
from tfgan_app.artifacts.savedmodel_loader import ServingCompatibilityError, load_savedmodel
from tfgan_app.tfserving.codec import DTYPES, check_tensor_proto, protos_to_arrays
from tfgan_app.images import declared_size

DEFAULT_SIGNATURE = "serving_default"
from tfgan_app.names import DEFAULT_MAX_BATCH_SIZE, DEFAULT_POLL_WAIT_SECONDS  # noqa: E402  (TF-free, CLI flags)
from tfgan_app.names import DEFAULT_MAX_IMAGE_PIXELS  # noqa: E402  (TF-free, CLI flags)
# Scalar inputs that set how many images a signature makes; bounded like a batch dimension.
COUNT_INPUTS = ("num_images",)
# Files whose names, sizes and mtimes identify one version's content.
_WATCHED = ("saved_model.pb", "fingerprint.pb", "variables", WARMUP_FILE)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"
MAX_VERSION = 2 ** 63 - 1  # TF Serving's version numbers are int64


class RequestError(Exception):
    """A request the server rejects; `http_status` / `grpc_code` say how."""

    def __init__(self, message: str, http_status: int = 400, grpc_code=grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.http_status = http_status
        self.grpc_code = grpc_code


class NotFound(RequestError):
    """Unknown model or version (HTTP 404, gRPC NOT_FOUND)."""

    def __init__(self, message: str):
        super().__init__(message, 404, grpc.StatusCode.NOT_FOUND)


class SignatureNotFound(RequestError):
    """Unknown signature name: TF Serving answers 400 over REST and FAILED_PRECONDITION over gRPC."""

    def __init__(self, message: str):
        super().__init__(message, 400, grpc.StatusCode.FAILED_PRECONDITION)


class ServableVersion:
    """One loaded SavedModel version: a session holding its graph, and its `SignatureDef`s.

    Loading follows TF Serving: `LoadSavedModel` (restore + init op), then the
    warm-up records are replayed through the same session; any failure raises.

    Args:
        name: model name.
        version: version number.
        path: the version folder.
        max_batch_size: largest batch (or `num_images`) a request may ask for.
        max_tensor_bytes: largest tensor a request may declare (checked before allocating).
        max_image_pixels: most pixels a PNG/JPEG string input may declare when the model has no fixed image
            size (with one, e.g. `translate_png` next to a `[None, H, W, C]` input, it must declare exactly H x W).
    """

    def __init__(self, name: str, version: int, path: str, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 max_tensor_bytes: int = 32 * 1024 * 1024, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS):
        self.name, self.version, self.path = name, version, path
        self.max_batch_size, self.max_tensor_bytes = max_batch_size, max_tensor_bytes
        self.max_image_pixels = max_image_pixels
        self.image_size: Optional[Tuple[int, int]] = None
        self._refs_lock = threading.Lock()
        self._refs, self._retired, self.closed = 0, False, False
        model = load_savedmodel(path)  # TF Serving's session semantics (module doc)
        self._session = model.session
        try:
            self.signature_defs: Mapping[str, meta_graph_pb2.SignatureDef] = model.signature_defs
            self.image_size = _image_size(self.signature_defs)
            if os.path.isfile(os.path.join(path, WARMUP_FILE)):
                for log in read_warmup(path):
                    request = log.predict_log.request
                    signature = request.model_spec.signature_name or DEFAULT_SIGNATURE
                    self.predict(signature, self.decode_protos(signature, request.inputs), exact_dtypes=True)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Releases the session (the version's variables and graph) now; see `retire` for the safe way."""
        self.closed = True
        self._session.close()

    def acquire(self) -> "ServableVersion":
        """Counts one more request using this version (TF Serving's `ServableHandle`); returns self.

        Raises:
            RuntimeError: if the version is already retired (a caller must acquire under the repository lock,
                before the version leaves the repository).
        """
        with self._refs_lock:
            if self._retired:
                raise RuntimeError(f"Version {self.version} of model {self.name} is retired; acquire it from the "
                                   "repository, which no longer lists it.")
            self._refs += 1
        return self

    def release(self) -> None:
        """Ends one `acquire`; the last release of a retired version closes it."""
        with self._refs_lock:
            self._refs -= 1
            last = self._retired and self._refs == 0
        if last:
            self.close()

    def retire(self) -> None:
        """Takes no new requests; closes now if none is running, else when the last one releases it."""
        with self._refs_lock:
            if self._retired:
                return
            self._retired = True
            idle = self._refs == 0
        if idle:
            self.close()

    @property
    def in_use(self) -> int:
        """How many requests hold this version now."""
        with self._refs_lock:
            return self._refs

    def signature_def(self, signature_name: str) -> meta_graph_pb2.SignatureDef:
        """The `SignatureDef` named `signature_name`, or `SignatureNotFound`."""
        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.signature_defs:
            raise SignatureNotFound(f"Serving signature key \"{name}\" not found; model {self.name} version "
                                    f"{self.version} has {sorted(self.signature_defs)}.")
        return self.signature_defs[name]

    def input_names(self, signature_name: str) -> List[str]:
        """Sorted input names of a signature."""
        return sorted(self.signature_def(signature_name).inputs)

    def input_dtype(self, signature_name: str, input_name: str) -> str:
        """The dtype name (e.g. "DT_FLOAT") of one signature input."""
        return types_pb2.DataType.Name(self.signature_def(signature_name).inputs[input_name].dtype)

    def decode_protos(self, signature_name: str, protos: Mapping) -> Dict[str, np.ndarray]:
        """gRPC inputs to arrays, each `TensorProto` checked against the signature before it is allocated."""
        signature = self.signature_def(signature_name)
        expected, received = set(signature.inputs), set(protos)
        if expected != received:
            raise RequestError(f"Signature {signature_name!r} of model {self.name} takes inputs {sorted(expected)}, "
                               f"received {sorted(received)}.")
        for key, proto in protos.items():
            try:
                check_tensor_proto(proto, signature.inputs[key], self.max_batch_size, self.max_tensor_bytes)
            except ValueError as e:
                raise RequestError(f"Input {key!r} of {signature_name!r}: {e}") from e
        try:
            return protos_to_arrays(protos)
        except (ValueError, TypeError) as e:
            raise RequestError(f"Could not parse input tensors: {e}") from e

    def predict(self, signature_name: str, inputs: Mapping[str, np.ndarray],
                exact_dtypes: bool = False) -> Dict[str, np.ndarray]:
        """Validates `inputs` against the signature and runs it; returns `{output_name: array}`.

        `exact_dtypes=True` (gRPC, warm-up) requires each tensor to carry the
        signature dtype, as TF Serving does; otherwise (JSON) compatible numbers
        are cast.
        """
        name = signature_name or DEFAULT_SIGNATURE
        signature = self.signature_def(name)
        expected, received = set(signature.inputs), set(inputs)
        if expected != received:
            raise RequestError(f"Signature {name!r} of model {self.name} takes inputs {sorted(expected)}, "
                               f"received {sorted(received)}.")
        feed = {signature.inputs[key].name: self._check_input(name, key, signature.inputs[key], value, exact_dtypes)
                for key, value in inputs.items()}
        fetches = {key: info.name for key, info in signature.outputs.items()}
        try:
            return self._session.run(fetches, feed)
        except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError, ValueError, TypeError) as e:
            raise RequestError(f"Model {self.name} rejected the inputs of {name!r}: {_short_message(e)}") from e
        except tf.errors.OpError as e:  # as TF Serving maps a failed Session::Run (e.g. an uninitialised variable)
            code = _OP_CODES.get(type(e), "INTERNAL")
            raise RequestError(f"Running {name!r} of model {self.name} failed: {_short_message(e)}",
                               400 if code == "FAILED_PRECONDITION" else 500,
                               getattr(grpc.StatusCode, code, grpc.StatusCode.INTERNAL)) from e

    def _check_input(self, signature_name, key, tensor_info, value, exact_dtypes) -> np.ndarray:
        dtype_name = types_pb2.DataType.Name(tensor_info.dtype)
        value = np.asarray(value)
        target = DTYPES[dtype_name]
        if target is not np.object_:
            if (value.dtype.kind not in "biuf" or (np.issubdtype(target, np.integer) and np.issubdtype(value.dtype, np.floating))
                    or (exact_dtypes and value.dtype != target)):
                raise RequestError(f"Input {key!r} of {signature_name!r} must be {dtype_name}, "
                                   f"received values of dtype {value.dtype}.")
            value = value.astype(target)
        dims = [d.size for d in tensor_info.tensor_shape.dim]
        if not tensor_info.tensor_shape.unknown_rank:
            if value.ndim != len(dims) or any(d != -1 and d != s for d, s in zip(dims, value.shape)):
                shape = "[" + ", ".join("None" if d == -1 else str(d) for d in dims) + "]"
                raise RequestError(f"Input {key!r} of {signature_name!r} must have shape {shape}, "
                                   f"received shape {list(value.shape)}.")
            if dims and dims[0] == -1 and value.shape[0] > self.max_batch_size:
                raise RequestError(f"Batch of {value.shape[0]} for input {key!r} exceeds the server's maximum "
                                   f"batch size {self.max_batch_size}; split the request.")
        if target is np.object_:
            self._check_encoded_images(signature_name, key, value)
        if key in COUNT_INPUTS and value.ndim == 0 and not 0 <= int(value) <= self.max_batch_size:
            raise RequestError(f"Input {key!r} must be in [0, {self.max_batch_size}] (the server's maximum "
                               f"batch size), received {int(value)}.")
        return value


    def _check_encoded_images(self, signature_name: str, key: str, value: np.ndarray) -> None:
        """Rejects PNG/JPEG strings whose header declares the wrong size, before the graph decodes any of them.

        Raises:
            RequestError: a header cannot be read, declares other than the model's `image_size`, or (models
                without one) more than `max_image_pixels` pixels.
        """
        for index, data in enumerate(value.ravel()):
            if not isinstance(data, bytes):
                continue
            try:
                size = declared_size(data)
            except ValueError as e:
                raise RequestError(f"Input {key!r} of {signature_name!r}, item {index}: {e}.") from e
            if size is None:
                continue
            height, width = size
            if self.image_size is not None and size != self.image_size:
                raise RequestError(
                    f"Input {key!r} of {signature_name!r}, item {index}: the image declares {height}x{width} pixels "
                    f"(height x width) but model {self.name} takes exactly {self.image_size[0]}x{self.image_size[1]}; "
                    "resize it first (checked from the header, before decoding).")
            if self.image_size is None and height * width > self.max_image_pixels:
                raise RequestError(
                    f"Input {key!r} of {signature_name!r}, item {index}: the image declares {height}x{width} pixels, "
                    f"more than the server's limit of {self.max_image_pixels} (--max_image_pixels).")


def _image_size(signature_defs: Mapping[str, meta_graph_pb2.SignatureDef]) -> Optional[Tuple[int, int]]:
    """The `(height, width)` of the model's image input (a `[None, H, W, C]` float input), if it has one size."""
    sizes = set()
    for signature in signature_defs.values():
        for info in signature.inputs.values():
            dims = [d.size for d in info.tensor_shape.dim]
            if (not info.tensor_shape.unknown_rank and len(dims) == 4 and min(dims[1:]) > 0
                    and DTYPES.get(types_pb2.DataType.Name(info.dtype)) in (np.float16, np.float32, np.float64)):
                sizes.add((dims[1], dims[2]))
    return sizes.pop() if len(sizes) == 1 else None


def _short_message(error: Exception) -> str:
    """The useful line of a TF runtime error (the failed assertion or the op's error), without graph stack noise."""
    lines = [line.strip() for line in (getattr(error, "message", None) or str(error)).splitlines() if line.strip()]
    useful = [line for line in lines
              if not line.endswith(":") and not line.startswith(("Detected at node", "File ", "[["))]
    return next((line for line in lines if line.startswith("assertion failed")),
                useful[0] if useful else (lines[0] if lines else repr(error)))


@dataclass
class VersionState:
    """What `GetModelStatus` reports for one version (TF Serving's `ServableState`)."""
    version: int
    state: str = START
    error_code: str = "OK"
    error_message: str = ""
    fingerprint: Tuple = ()
    servable: Optional[ServableVersion] = field(default=None, repr=False)


def version_fingerprint(path: str) -> Tuple:
    """Names, sizes and mtimes of the files that make up a version (changes when it is rewritten or copied)."""
    entries = []
    for watched in _WATCHED:
        full = os.path.join(path, watched)
        if os.path.isdir(full):
            for root, dirs, files in os.walk(full):
                dirs.sort()
                for name in sorted(files):
                    file_path = os.path.join(root, name)
                    try:
                        stat = os.stat(file_path)
                    except OSError:
                        continue
                    entries.append((os.path.relpath(file_path, path), stat.st_size, stat.st_mtime_ns))
        elif os.path.isfile(full):
            try:
                stat = os.stat(full)
            except OSError:
                continue
            entries.append((watched, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


_OP_CODES = {tf.errors.NotFoundError: "NOT_FOUND", tf.errors.InvalidArgumentError: "INVALID_ARGUMENT",
             tf.errors.FailedPreconditionError: "FAILED_PRECONDITION", tf.errors.DataLossError: "DATA_LOSS",
             tf.errors.OutOfRangeError: "OUT_OF_RANGE", tf.errors.InternalError: "INTERNAL",
             tf.errors.UnimplementedError: "UNIMPLEMENTED", tf.errors.ResourceExhaustedError: "RESOURCE_EXHAUSTED",
             RequestError: "INVALID_ARGUMENT", FileNotFoundError: "NOT_FOUND", OSError: "DATA_LOSS"}


def _error_code(error: BaseException) -> str:
    """TF Serving's `error_code` name (a `tensorflow.error.Code`) for a load failure."""
    if isinstance(error, RequestError):
        return error.grpc_code.name
    if isinstance(error, ServingCompatibilityError) and error.__cause__ is not None:
        error = error.__cause__  # the loader's one-line error wraps TensorFlow's
    return next((code for cls, code in _OP_CODES.items() if isinstance(error, cls)), "UNKNOWN")


class ModelRepository:
    """The models under `base_dir`, loaded by a poller thread and served from AVAILABLE versions only.

    Args:
        base_dir: TF Serving base folder (`<base>/<name>/<version>/`).
        max_batch_size: largest batch (or `num_images`) a request may ask for.
        poll_wait_seconds: seconds between scans of `base_dir` (TF Serving's
            `--file_system_poll_wait_seconds`); 0 scans once, at `start()`.
        max_tensor_bytes: largest tensor a gRPC request may declare.
        max_image_pixels: most pixels a PNG/JPEG input may declare (`ServableVersion`).

    Example:
    >>> repository = ModelRepository("export", poll_wait_seconds=1).start()
    >>> repository.get("dcgan_mnist").predict("serving_default", {"latents": z})
    >>> repository.stop()
    """

    def __init__(self, base_dir: str, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 poll_wait_seconds: float = DEFAULT_POLL_WAIT_SECONDS, max_tensor_bytes: int = 32 * 1024 * 1024,
                 max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS):
        if not poll_wait_seconds >= 0:
            raise UsageError(f"Expected file_system_poll_wait_seconds >= 0 (0: scan once at start), "
                             f"received {poll_wait_seconds}.")
        if max_batch_size < 1:
            raise UsageError(f"Expected max_batch_size >= 1, received {max_batch_size}.")
        self.base_dir = base_dir
        if max_image_pixels < 1:
            raise UsageError(f"Expected max_image_pixels >= 1, received {max_image_pixels}.")
        self.max_batch_size, self.max_tensor_bytes = max_batch_size, max_tensor_bytes
        self.max_image_pixels = max_image_pixels
        self.poll_wait_seconds = poll_wait_seconds
        self._models: Dict[str, Dict[int, VersionState]] = {}
        self._lock = threading.Lock()         # guards _models (held only for dict reads/writes)
        self._poll_lock = threading.Lock()    # one scan at a time
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._ignored = set()                 # (name, folder) already logged as not servable
        self.polls = 0

    # --- the poller ------------------------------------------------------------------------------------------
    def start(self, wait: bool = True) -> "ModelRepository":
        """Scans once (loading what is on disk), then keeps polling in a background thread.

        `wait=False` makes the first scan in the background too (requests get
        404 until their version is AVAILABLE, as while TF Serving is loading).
        """
        if wait:
            self.poll()
        if (self.poll_wait_seconds > 0 or not wait) and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(not wait,), name="tfgan-repository-poller",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stops the poller and unloads every version (each as soon as no request uses it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        with self._lock:
            states = [s for versions in self._models.values() for s in versions.values()]
            self._models = {}
        for state in states:
            if state.servable is not None:
                state.servable.retire()

    def _run(self, scan_first: bool) -> None:
        if scan_first:
            self._safe_poll()
        while self.poll_wait_seconds > 0 and not self._stop.wait(self.poll_wait_seconds):
            self._safe_poll()

    def _safe_poll(self) -> None:
        try:
            self.poll()
        except Exception:  # pylint: disable=broad-except  # the poller must outlive a bad scan
            logging.exception("Scanning the model folder failed")

    def _on_disk(self) -> Dict[str, Dict[int, str]]:
        models: Dict[str, Dict[int, str]] = {}
        try:
            names = sorted(os.listdir(self.base_dir))
        except OSError:
            return models
        for name in names:
            model_dir = os.path.join(self.base_dir, name)
            if not is_model_name(name) or not os.path.isdir(model_dir):
                continue
            try:
                children = os.listdir(model_dir)
            except OSError:
                continue
            versions = {}
            for child in children:
                path = os.path.join(model_dir, child)
                if not (child.isdigit() and os.path.isfile(os.path.join(path, "saved_model.pb"))):
                    continue
                if int(child) > MAX_VERSION:
                    self._ignore(name, child, f"its version number does not fit int64 (at most {MAX_VERSION})")
                    continue
                versions[int(child)] = path
            if versions:
                models[name] = versions
        return models

    def _ignore(self, name: str, folder: str, reason: str) -> None:
        """Logs once per folder that `<base>/<name>/<folder>` is not served, and why."""
        key = (name, folder)
        if key not in self._ignored:
            self._ignored.add(key)
            logging.warning("Ignoring folder %s/%s: %s.", name, folder, reason)

    def poll(self) -> None:
        """One scan: loads new or changed versions, records failures, unloads deleted versions."""
        with self._poll_lock:
            self.polls += 1
            on_disk = self._on_disk()
            for name, versions in on_disk.items():
                for version, path in sorted(versions.items()):
                    fingerprint = version_fingerprint(path)
                    with self._lock:
                        known = self._models.get(name, {}).get(version)
                    if known is not None and known.fingerprint == fingerprint:
                        continue
                    self._load(name, version, path, fingerprint, known)
            removed = []
            with self._lock:
                for name in list(self._models):
                    for version in list(self._models[name]):
                        if version not in on_disk.get(name, {}):
                            removed.append(self._models[name].pop(version))
                    if not self._models[name]:
                        del self._models[name]
            for state in removed:
                logging.info("Unloading removed version %s", state.version)
                if state.servable is not None:
                    state.servable.retire()

    def _load(self, name: str, version: int, path: str, fingerprint: Tuple, known: Optional[VersionState]) -> None:
        if known is None:
            with self._lock:
                self._models.setdefault(name, {})[version] = VersionState(version, LOADING, fingerprint=fingerprint)
        started = time.monotonic()
        try:
            servable = ServableVersion(name, version, path, self.max_batch_size, self.max_tensor_bytes,
                                       self.max_image_pixels)
        except Exception as e:  # pylint: disable=broad-except  # any load failure is reported, not raised
            # The loader's own line as `tfgan generate` / `evaluate` print it; anything else with its class.
            reason = str(e) if isinstance(e, ServingCompatibilityError) else f"{type(e).__name__}: {_short_message(e)}"
            message = self.relative(f"Loading {name} version {version} failed: {reason}")
            logging.warning("%s", message)
            failed = VersionState(version, END, _error_code(e), message, fingerprint)
            with self._lock:
                current = self._models.setdefault(name, {}).get(version)
                if current is not None and current.servable is not None:
                    # A rewrite that fails keeps the previous load serving, as TF Serving keeps the old servable
                    # until the new one is ready; status reports the failure on the same version.
                    current.fingerprint, current.error_code, current.error_message = fingerprint, failed.error_code, \
                        failed.error_message
                else:
                    self._models[name][version] = failed
            return
        logging.info("Loaded %s version %d in %.1f s", name, version, time.monotonic() - started)
        with self._lock:
            previous = self._models.setdefault(name, {}).get(version)
            self._models[name][version] = VersionState(version, AVAILABLE, fingerprint=fingerprint, servable=servable)
        if previous is not None and previous.servable is not None:
            previous.servable.retire()

    def relative(self, message: str) -> str:
        """`message` with the host path of the base folder removed (errors must not leak host paths)."""
        for prefix in sorted({os.path.abspath(self.base_dir), os.path.realpath(self.base_dir), self.base_dir},
                             key=len, reverse=True):
            if prefix and prefix not in ("/", "."):
                message = message.replace(prefix + os.sep, "").replace(prefix, "<base>")
        return message

    # --- the request path (no disk access) -------------------------------------------------------------------
    def models(self) -> List[str]:
        """Names of models with at least one version known (in any state)."""
        with self._lock:
            return sorted(self._models)

    def status(self, name: str, version: Optional[int] = None) -> List[VersionState]:
        """Version states of `name` (one if `version` is given), as TF Serving's `GetModelStatus` reports them."""
        with self._lock:
            versions = dict(self._models.get(name, {}))
        if version is not None:
            if version not in versions:
                raise NotFound(f"Could not find version {version} of model {name}")
            return [versions[version]]
        if not versions:
            raise NotFound(f"Could not find any versions of model {name}")
        return [versions[v] for v in sorted(versions)]

    def get(self, name: str, version: Optional[int] = None) -> ServableVersion:
        """The AVAILABLE version `version` of `name`, or the highest AVAILABLE one if None; else `NotFound`.

        The version is not pinned: a reload or delete may close it while it runs. Requests use `acquire`.
        """
        with self._lock:
            return self._find(name, version)

    @contextlib.contextmanager
    def acquire(self, name: str, version: Optional[int] = None) -> Iterator[ServableVersion]:
        """`get` as a handle: the version stays loaded until the block ends (TF Serving's `ServableHandle`).

        Raises:
            NotFound: no AVAILABLE version `version` of `name` (the highest one if None).

        Example:
        >>> with repository.acquire("dcgan_mnist") as servable:
        ...     servable.predict("serving_default", {"latents": z})
        """
        with self._lock:  # a version leaves `_models` under this lock before it is retired
            servable = self._find(name, version).acquire()
        try:
            yield servable
        finally:
            servable.release()

    def _find(self, name: str, version: Optional[int]) -> ServableVersion:
        """`get` without the lock (the caller holds it)."""
        versions = self._models.get(name, {})
        available = {v: s.servable for v, s in versions.items() if s.servable is not None}
        if version is None:
            if not available:
                raise NotFound(f"Servable not found for request: Latest({name})")
            return available[max(available)]
        if version not in available:
            raise NotFound(f"Servable not found for request: Specific({name}, {version})")
        return available[version]
