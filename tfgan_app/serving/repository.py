"""Loading and running exported versions for the local server (`<base>/<name>/<version>/`).

`ModelRepository` finds versions on every request (so a new export is picked up
without a restart), loads each version once (replaying its TF Serving warm-up
records, as TF Serving does), and validates requests against the signature's
`SignatureDef` before running it: input names, dtypes, ranks, fixed dims and
batch size. Every rejection is a `RequestError` with the HTTP / gRPC status to
return, so the server answers and keeps running.
"""

import os
import threading
from typing import Dict, List, Mapping, Optional, Tuple

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.saved_model import loader_impl

from tfgan_app.export.serving_config import is_model_name, list_versions
from tfgan_app.export.warmup import WARMUP_FILE, read_warmup
from tfgan_app.serving.codec import DTYPES, protos_to_arrays

DEFAULT_SIGNATURE = "serving_default"
DEFAULT_MAX_BATCH_SIZE = 256
# Scalar inputs that set how many images a signature makes; bounded like a batch dimension.
COUNT_INPUTS = ("num_images",)
# Internal signature of TF2 SavedModels; TF Serving does not expose it either.
INIT_OP_SIGNATURE = "__saved_model_init_op"


class RequestError(Exception):
    """A request the server rejects; `http_status` / `grpc_code` say how."""

    def __init__(self, message: str, http_status: int = 400, grpc_code=grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.http_status = http_status
        self.grpc_code = grpc_code


class NotFound(RequestError):
    """Unknown model, version or signature (HTTP 404, gRPC NOT_FOUND)."""

    def __init__(self, message: str):
        super().__init__(message, 404, grpc.StatusCode.NOT_FOUND)


class ServableVersion:
    """One loaded SavedModel version: its `SignatureDef`s and callable signatures."""

    def __init__(self, name: str, version: int, path: str, max_batch_size: int):
        self.name, self.version, self.path = name, version, path
        self.max_batch_size = max_batch_size
        saved_model = loader_impl.parse_saved_model(path)
        self.signature_defs: Mapping[str, meta_graph_pb2.SignatureDef] = {
            key: value for key, value in saved_model.meta_graphs[0].signature_def.items()
            if key != INIT_OP_SIGNATURE}
        self._loaded = tf.saved_model.load(path)
        if os.path.isfile(os.path.join(path, WARMUP_FILE)):
            for log in read_warmup(path):
                request = log.predict_log.request
                self.predict(request.model_spec.signature_name or DEFAULT_SIGNATURE,
                             protos_to_arrays(request.inputs), exact_dtypes=True)

    def signature_def(self, signature_name: str) -> meta_graph_pb2.SignatureDef:
        """The `SignatureDef` named `signature_name`, or `NotFound`."""
        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.signature_defs:
            raise NotFound(f"Serving signature name: \"{name}\" not found in signature def; model "
                           f"{self.name} version {self.version} has {sorted(self.signature_defs)}.")
        return self.signature_defs[name]

    def input_names(self, signature_name: str) -> List[str]:
        """Sorted input names of a signature."""
        return sorted(self.signature_def(signature_name).inputs)

    def input_dtype(self, signature_name: str, input_name: str) -> str:
        """The dtype name (e.g. "DT_FLOAT") of one signature input."""
        return types_pb2.DataType.Name(self.signature_def(signature_name).inputs[input_name].dtype)

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
        feed = {key: self._check_input(name, key, signature.inputs[key], value, exact_dtypes)
                for key, value in inputs.items()}
        try:
            outputs = self._loaded.signatures[name](**feed)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as e:
            raise RequestError(f"Model {self.name} rejected the inputs of {name!r}: {_short_message(e)}") from e
        return {key: value.numpy() for key, value in outputs.items()}

    def _check_input(self, signature_name, key, tensor_info, value, exact_dtypes) -> tf.Tensor:
        dtype_name = types_pb2.DataType.Name(tensor_info.dtype)
        value = np.asarray(value)
        target = DTYPES[dtype_name]
        if target is not np.object_:
            if (value.dtype.kind not in "biuf" or (np.issubdtype(target, np.integer) and value.dtype.kind == "f")
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
        if key in COUNT_INPUTS and value.ndim == 0 and not 0 <= int(value) <= self.max_batch_size:
            raise RequestError(f"Input {key!r} must be in [0, {self.max_batch_size}] (the server's maximum "
                               f"batch size), received {int(value)}.")
        return tf.constant(value)


def _short_message(error: Exception) -> str:
    """The useful line of a TF runtime error (the failed assertion), without graph stack noise."""
    lines = [line.strip() for line in (getattr(error, "message", None) or str(error)).splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("assertion failed")), lines[0] if lines else repr(error))


class ModelRepository:
    """The models under `base_dir`, in the TF Serving layout, loaded on demand and cached.

    The highest version wins unless a version is requested.
    """

    def __init__(self, base_dir: str, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE):
        self.base_dir = base_dir
        self.max_batch_size = max_batch_size
        self._cache: Dict[Tuple[str, int], ServableVersion] = {}
        self._lock = threading.Lock()

    def versions(self, name: str) -> List[int]:
        """Available versions of model `name` (sorted), `NotFound` if there are none."""
        versions = list_versions(os.path.join(self.base_dir, name)) if is_model_name(name) else []
        if not versions:
            raise NotFound(f"Servable not found for request: Latest({name}); no model named {name!r} "
                           f"under {self.base_dir!r}.")
        return versions

    def get(self, name: str, version: Optional[int] = None) -> ServableVersion:
        """Loads (once) and returns version `version` of `name`, the highest one if None."""
        versions = self.versions(name)
        if version is None:
            version = versions[-1]
        elif version not in versions:
            raise NotFound(f"Servable not found for request: Specific({name}, {version}); "
                           f"available versions: {versions}.")
        with self._lock:
            if (name, version) not in self._cache:
                path = os.path.join(self.base_dir, name, str(version))
                self._cache[(name, version)] = ServableVersion(name, version, path, self.max_batch_size)
            return self._cache[(name, version)]
