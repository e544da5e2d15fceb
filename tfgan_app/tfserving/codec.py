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
from tensorflow.core.framework import tensor_pb2, types_pb2

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
    if _has_bool(value) and dtype is not np.bool_:
        raise JsonTensorError(f"Expected numbers for a {dtype_name} tensor, received true/false.")
    try:
        array = np.asarray(value)
    except (ValueError, RecursionError) as e:
        raise JsonTensorError(f"Ragged or malformed tensor value: {e}") from e
    if array.dtype.kind not in "biuf":
        raise JsonTensorError(f"Expected numbers for a {dtype_name} tensor, received {array.dtype} values "
                              "(ragged lists or strings?).")
    if dtype is np.bool_:
        if not np.issubdtype(array.dtype, np.bool_):
            raise JsonTensorError(f"Expected true/false for a {dtype_name} tensor, received numbers.")
        return array
    if np.issubdtype(dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and (not np.all(np.isfinite(array)) or not np.all(array == np.round(array))):
            raise JsonTensorError(f"Expected integers for a {dtype_name} tensor, received fractional values.")
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise JsonTensorError(f"Expected integers in [{info.min}, {info.max}] for a {dtype_name} tensor, "
                                  f"received values in [{array.min()}, {array.max()}].")
    elif array.size and array.dtype.kind in "iu" and np.abs(array).max() > np.finfo(dtype).max:
        raise JsonTensorError(f"Expected values within the {dtype_name} range, received {np.abs(array).max()}.")
    elif array.size and np.issubdtype(array.dtype, np.floating):
        finite = array[np.isfinite(array)]
        if finite.size and np.abs(finite).max() > np.finfo(dtype).max:
            raise JsonTensorError(f"Expected values within the {dtype_name} range, received {np.abs(finite).max()}.")
    return array.astype(dtype)


def _has_bool(value: Any) -> bool:
    """True if a JSON value (nested lists) holds a boolean; `np.asarray` would silently make it 0/1."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_float(text: str) -> float:
    """`json.loads(parse_float=...)`: rejects numbers that overflow a double (`1e400`), as TF Serving's parser does.

    The literals NaN / Infinity stay accepted (TF Serving parses with `kParseNanAndInfFlag`).
    """
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonTensorError(f"JSON Parse error: Number too big to be stored in double: {text[:40]}")
    return value


def check_tensor_proto(proto: tensor_pb2.TensorProto, tensor_info, max_batch_size: int, max_bytes: int) -> None:
    """Checks a gRPC `TensorProto` against a signature input BEFORE anything is allocated.

    A ~20-byte proto can declare shape [10000000, 64]; `tf.make_ndarray` would
    allocate it (and fill it with the last value) before any later check. This
    checks dtype, rank, fixed dims, the batch dimension against
    `max_batch_size`, the declared size against `max_bytes` and that the
    number of values carried matches the declared shape.

    Raises:
        ValueError: with a message for the client (INVALID_ARGUMENT).
    """
    expected = types_pb2.DataType.Name(tensor_info.dtype)
    received = types_pb2.DataType.Name(proto.dtype) if proto.dtype in types_pb2.DataType.values() else proto.dtype
    if proto.dtype != tensor_info.dtype:
        raise ValueError(f"Expected tensor of type {expected}, received {received}.")
    if proto.tensor_shape.unknown_rank:
        raise ValueError("Expected a tensor with a known shape, received unknown_rank.")
    shape = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in shape):
        raise ValueError(f"Expected non-negative dimensions, received shape {shape}.")
    if not tensor_info.tensor_shape.unknown_rank:
        dims = [d.size for d in tensor_info.tensor_shape.dim]
        if len(dims) != len(shape) or any(d != -1 and d != s for d, s in zip(dims, shape)):
            text = "[" + ", ".join("None" if d == -1 else str(d) for d in dims) + "]"
            raise ValueError(f"Expected shape {text}, received shape {shape}.")
        if dims and dims[0] == -1 and shape[0] > max_batch_size:
            raise ValueError(f"Batch of {shape[0]} exceeds the server's maximum batch size {max_batch_size}; "
                             "split the request.")
    count = int(np.prod(shape, dtype=object))
    dtype = DTYPES.get(expected)
    itemsize = 1 if dtype in (None, np.object_) else np.dtype(dtype).itemsize
    if count * itemsize > max_bytes:
        raise ValueError(f"Declared shape {shape} needs {count * itemsize} bytes, more than the server's limit "
                         f"of {max_bytes}.")
    if dtype is np.object_:
        carried = len(proto.string_val)
    elif proto.tensor_content:
        carried = len(proto.tensor_content) // itemsize
    else:
        carried = max((len(getattr(proto, f.name)) for f in proto.DESCRIPTOR.fields
                       if f.name.endswith("_val")), default=0)
        if proto.dtype == types_pb2.DT_HALF:
            carried = len(proto.half_val)
    if carried != count and not (carried == 1 and dtype is not np.object_):
        raise ValueError(f"Declared shape {shape} has {count} values, the tensor carries {carried}.")


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
