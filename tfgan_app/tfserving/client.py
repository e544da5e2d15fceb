"""Clients for TF Serving's REST API and gRPC `PredictionService` (real server or `tfgan serve`).

Both return `{output_name: np.ndarray}` from `predict` and raise clear errors:
`ServerUnavailableError` (nothing listening, timeout), `ModelNotFoundError`
(unknown model, version or signature) and `BadRequestError` (the server
rejected the inputs: wrong names, dtype, shape, batch size).

Example:
>>> client = RestClient("http://127.0.0.1:8501", timeout=10)
>>> images = client.predict("dcgan_mnist", {"latents": z})["images"]          # float32 in [-1, 1]
>>> pngs = client.predict("dcgan_mnist", {"seed": 0, "num_images": 4},
...                       signature="generate_png")["png_bytes"]             # PNG file bytes
>>> GrpcClient("127.0.0.1:8500").predict("dcgan_mnist", {"latents": z})["images"]
"""

import json
import socket
import urllib.error
import urllib.request
from typing import Any, Dict, Mapping, Optional

import grpc
import numpy as np
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tfgan_app.errors import MissingResourceError, TfganError, UsageError
from tfgan_app.tfserving.codec import DTYPES, array_to_json, arrays_to_protos, json_output_to_array, protos_to_arrays

DEFAULT_TIMEOUT = 30.0
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


class ServingError(TfganError):
    """Base class of the errors a serving client raises."""


class ServerUnavailableError(ServingError, MissingResourceError):
    """No server answered at the address (down, wrong port, or timed out)."""


class ModelNotFoundError(ServingError, MissingResourceError):
    """The server does not have the model, version or signature asked for."""


class BadRequestError(ServingError, UsageError):
    """The server rejected the request (input names, dtype, shape, batch size, JSON)."""


def _model_url(base: str, model: str, version: Optional[int]) -> str:
    url = f"{base.rstrip('/')}/v1/models/{model}"
    return url if version is None else f"{url}/versions/{int(version)}"


class RestClient:
    """Client of the TF Serving REST API (`/v1/models/<name>[/versions/N][:predict|/metadata]`).

    Args:
        url: server root, e.g. `http://127.0.0.1:8501`.
        timeout: seconds to wait for each HTTP request.

    Raises:
        UsageError: a URL that is not http(s). Calls raise `ModelNotFoundError` (404), `BadRequestError` (400),
            `ServerUnavailableError` (no answer within `timeout`) or `ServingError` (any other failure).

    Example:
    >>> client = RestClient("http://127.0.0.1:8501")
    >>> client.predict("dcgan_mnist", {"seed": 0, "num_images": 4}, signature="generate")["images"].shape
    (4, 28, 28, 1)
    """

    def __init__(self, url: str = "http://127.0.0.1:8501", timeout: float = DEFAULT_TIMEOUT):
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"Expected a REST URL like http://127.0.0.1:8501, received {url!r}.")
        self.url, self.timeout = url.rstrip("/"), timeout
        self._output_dtypes: Dict = {}

    def _request(self, url: str, body: Optional[Dict] = None) -> Dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw).get("error", raw.decode("utf-8", "replace"))
            except (json.JSONDecodeError, AttributeError):
                message = raw.decode("utf-8", "replace")
            if e.code == 404:
                raise ModelNotFoundError(f"{url}: {message}") from e
            if 400 <= e.code < 500:
                raise BadRequestError(f"{url} rejected the request (HTTP {e.code}): {message}") from e
            raise ServingError(f"{url} failed (HTTP {e.code}): {message}") from e
        except (urllib.error.URLError, socket.timeout, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise ServerUnavailableError(f"No TF Serving REST server answered at {self.url} ({reason}). Start one "
                                         "with `tfgan serve` or tensorflow_model_server, or fix the URL.") from e

    def status(self, model: str, version: Optional[int] = None) -> Dict:
        """`GetModelStatusResponse` JSON: `{"model_version_status": [{"version", "state", ...}]}`."""
        return self._request(_model_url(self.url, model, version))

    def metadata(self, model: str, version: Optional[int] = None) -> Dict:
        """`GetModelMetadataResponse` JSON; signatures under `["metadata"]["signature_def"]["signature_def"]`."""
        return self._request(_model_url(self.url, model, version) + "/metadata")

    def _dtypes(self, model: str, version: Optional[int], signature: str) -> Dict[str, str]:
        key = (model, version, signature)
        if key not in self._output_dtypes:
            signatures = self.metadata(model, version)["metadata"]["signature_def"]["signature_def"]
            if signature not in signatures:
                raise ModelNotFoundError(f"Model {model} has no signature {signature!r}; it has {sorted(signatures)}.")
            self._output_dtypes[key] = {k: v["dtype"] for k, v in signatures[signature]["outputs"].items()}
        return self._output_dtypes[key]

    def predict(self, model: str, inputs: Mapping[str, Any], version: Optional[int] = None,
                signature: str = "serving_default", row_format: bool = False) -> Dict[str, np.ndarray]:
        """Runs `signature` of `model` on `inputs`; returns `{output_name: array}` in the signature dtypes.

        `row_format=True` sends `"instances"` (every input needs the batch
        dimension), otherwise the columnar `"inputs"` format.
        """
        dtypes = self._dtypes(model, version, signature)
        arrays = {k: np.asarray(v) for k, v in inputs.items()}
        if row_format:
            n = len(next(iter(arrays.values())))
            body = {"instances": [{k: array_to_json(v[i], k) for k, v in arrays.items()} for i in range(n)]}
        else:
            body = {"inputs": {k: array_to_json(v, k) for k, v in arrays.items()}}
        body["signature_name"] = signature
        response = self._request(_model_url(self.url, model, version) + ":predict", body)
        if row_format:
            rows = response["predictions"]
            if len(dtypes) == 1:
                (name, dtype), = dtypes.items()
                return {name: json_output_to_array(rows, dtype)}
            return {k: json_output_to_array([row[k] for row in rows], d) for k, d in dtypes.items()}
        outputs = response["outputs"]
        if len(dtypes) == 1:
            (name, dtype), = dtypes.items()
            return {name: json_output_to_array(outputs, dtype)}
        return {k: json_output_to_array(outputs[k], d) for k, d in dtypes.items()}


class GrpcClient:
    """Client of TF Serving's gRPC `PredictionService` and `ModelService` (insecure channel).

    Args:
        target: `host:port`, e.g. `127.0.0.1:8500`.
        timeout: seconds to wait for each call.

    Raises:
        UsageError: a target that is not `host:port`. Calls raise the same errors as `RestClient`'s, from the
            gRPC status (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE / DEADLINE_EXCEEDED, others).

    Example:
    >>> client = GrpcClient("127.0.0.1:8500")
    >>> client.predict("dcgan_mnist", {"latents": np.zeros([2, 64], np.float32)})["images"].shape
    (2, 28, 28, 1)
    >>> client.close()
    """

    def __init__(self, target: str = "127.0.0.1:8500", timeout: float = DEFAULT_TIMEOUT):
        if "://" in target or ":" not in target:
            raise UsageError(f"Expected a gRPC target host:port like 127.0.0.1:8500, received {target!r}.")
        self.target, self.timeout = target, timeout
        self._channel = grpc.insecure_channel(target, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._input_dtypes: Dict = {}

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            code, details = e.code(), e.details()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ServerUnavailableError(
                    f"No TF Serving gRPC server answered at {self.target} ({code.name}: {details}). "
                    "Start one with `tfgan serve` or tensorflow_model_server.") from e
            if code == grpc.StatusCode.NOT_FOUND:
                raise ModelNotFoundError(f"{self.target}: {details}") from e
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                        grpc.StatusCode.RESOURCE_EXHAUSTED):
                raise BadRequestError(f"{self.target} rejected the request ({code.name}): {details}") from e
            raise ServingError(f"{self.target} failed ({code.name}): {details}") from e

    @staticmethod
    def _spec(spec, model: str, version: Optional[int]) -> None:
        spec.name = model
        if version is not None:
            spec.version.value = int(version)

    def _cast(self, model: str, version: Optional[int], signature: str, inputs: Mapping[str, Any]) -> Dict:
        """Casts inputs to the signature dtypes (TF Serving rejects e.g. int64 for an int32 input)."""
        key = (model, version, signature)
        if key not in self._input_dtypes:
            signatures = self.metadata(model, version)["metadata"]["signature_def"]["signature_def"]
            if signature not in signatures:
                raise ModelNotFoundError(f"Model {model} has no signature {signature!r}; it has {sorted(signatures)}.")
            self._input_dtypes[key] = {k: DTYPES.get(v["dtype"]) for k, v in signatures[signature]["inputs"].items()}
        dtypes = self._input_dtypes[key]
        return {k: np.asarray(v) if dtypes.get(k) in (None, np.object_) else np.asarray(v).astype(dtypes[k])
                for k, v in inputs.items()}

    def predict(self, model: str, inputs: Mapping[str, Any], version: Optional[int] = None,
                signature: str = "serving_default") -> Dict[str, np.ndarray]:
        """Runs `signature` of `model` on `inputs` (cast to the signature dtypes); returns `{output_name: array}`."""
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, model, version)
        request.model_spec.signature_name = signature
        for key, proto in arrays_to_protos(self._cast(model, version, signature, inputs)).items():
            request.inputs[key].CopyFrom(proto)
        return protos_to_arrays(self._call(self._predict.Predict, request).outputs)

    def metadata(self, model: str, version: Optional[int] = None) -> Dict:
        """Same JSON shape as `RestClient.metadata` (from `GetModelMetadata` with "signature_def")."""
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec, model, version)
        response = self._call(self._predict.GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return {"model_spec": {"name": response.model_spec.name, "signature_name": "",
                               "version": str(response.model_spec.version.value)},
                "metadata": {"signature_def": json_format.MessageToDict(signatures, preserving_proto_field_name=True)}}

    def status(self, model: str, version: Optional[int] = None) -> Dict:
        """Same JSON shape as `RestClient.status`: `{"model_version_status": [{"version", "state", "status"}]}`,
        `status` holding the load error (`error_code`, `error_message`) of a version in state END."""
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, model, version)
        response = self._call(self._models.GetModelStatus, request)
        return json_format.MessageToDict(response, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)

    def close(self) -> None:
        """Closes the channel."""
        self._channel.close()
