"""TF Serving's JSON tensor format (REST) and `TensorProto` conversion (gRPC), shared by client and server.

REST rules followed (as in TF Serving's `json_tensor`): tensors are nested JSON
lists; binary strings travel as `{"b64": "<base64>"}` (inputs may always use
it; outputs whose name ends in `_bytes` always do); a request is either row
format (`"instances"`: one entry per batch row) or columnar (`"inputs"`: one
value per input, or the bare value when the signature has one input). The
response mirrors it: `"predictions"` for rows, `"outputs"` for columns, with
names dropped when the signature has a single output.
"""

import base64
from typing import Any, Dict, Mapping

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2

DTYPES = {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_INT32": np.int32, "DT_INT64": np.int64,
          "DT_UINT8": np.uint8, "DT_INT8": np.int8, "DT_INT16": np.int16, "DT_BOOL": np.bool_,
          "DT_STRING": np.object_, "DT_HALF": np.float16}


class JsonTensorError(ValueError):
    """A JSON value cannot be turned into the tensor a signature expects."""


def _decode_strings(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise JsonTensorError(f"Expected a {{'b64': ...}} object for binary data, received keys {sorted(value)}.")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError) as e:
            raise JsonTensorError(f"Invalid base64 data: {e}") from e
    if isinstance(value, list):
        return [_decode_strings(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise JsonTensorError(f"Expected strings for a string tensor, received {value!r}.")


def json_to_array(value: Any, dtype_name: str) -> np.ndarray:
    """Converts a JSON value to a numpy array of the signature dtype `dtype_name` (e.g. "DT_FLOAT").

    Raises `JsonTensorError` for ragged lists, strings where numbers are expected
    and fractional numbers for integer tensors.
    """
    dtype = DTYPES.get(dtype_name)
    if dtype is None:
        raise JsonTensorError(f"Unsupported tensor dtype {dtype_name}.")
    if dtype is np.object_:
        decoded = _decode_strings(value)
        array = np.empty(np.shape(np.array(decoded, dtype=object)), dtype=object)
        array[...] = decoded
        return array
    try:
        array = np.asarray(value)
    except ValueError as e:
        raise JsonTensorError(f"Ragged or malformed tensor value: {e}") from e
    if array.dtype.kind not in "biuf":
        raise JsonTensorError(f"Expected numbers for a {dtype_name} tensor, received {array.dtype} values "
                              "(ragged lists or strings?).")
    if np.issubdtype(dtype, np.integer) and array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise JsonTensorError(f"Expected integers for a {dtype_name} tensor, received fractional values.")
    return array.astype(dtype)


def array_to_json(array: np.ndarray, name: str) -> Any:
    """Converts an output array to JSON; string outputs named `*_bytes` become `{"b64": ...}`."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        def encode(item):
            if isinstance(item, list):
                return [encode(i) for i in item]
            if name.endswith("_bytes"):
                return {"b64": base64.b64encode(item).decode("ascii")}
            return item.decode("utf-8", errors="replace") if isinstance(item, bytes) else item
        return encode(array.tolist())
    return array.tolist()


def json_output_to_array(value: Any, dtype_name: str) -> np.ndarray:
    """Client side: a JSON output value back to a numpy array of `dtype_name`."""
    if DTYPES.get(dtype_name) is np.object_:
        decoded = _decode_strings(value)
        array = np.empty(np.shape(np.array(decoded, dtype=object)), dtype=object)
        array[...] = decoded
        return array
    return np.asarray(value, dtype=DTYPES.get(dtype_name, None))


def arrays_to_protos(arrays: Mapping[str, Any]) -> Dict[str, tensor_pb2.TensorProto]:
    """`{name: array}` to `{name: TensorProto}` for a gRPC `PredictRequest`/`PredictResponse`."""
    return {name: tf.make_tensor_proto(np.asarray(value)) for name, value in arrays.items()}


def protos_to_arrays(protos: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """`{name: TensorProto}` to `{name: np.ndarray}`."""
    return {name: tf.make_ndarray(proto) for name, proto in protos.items()}
