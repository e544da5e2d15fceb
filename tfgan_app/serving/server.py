"""A small local server speaking TF Serving's REST and gRPC protocols, for development and tests.

Production serving uses the real `tensorflow_model_server` (see export/README.md);
this server hosts the same `<base>/<name>/<version>/` folder on the same URLs,
JSON formats and gRPC services, so clients work unchanged against either:

* REST: `GET /v1/models/<name>[/versions/N]` (status),
  `GET /v1/models/<name>[/versions/N]/metadata`,
  `POST /v1/models/<name>[/versions/N]:predict` with `{"signature_name", "instances"}` (rows) or
  `{"signature_name", "inputs"}` (columns).
* gRPC: `tensorflow.serving.PredictionService/Predict`, `/GetModelMetadata` and
  `tensorflow.serving.ModelService/GetModelStatus`.
* The latent explorer page at `/` and `/explorer/...` (`tfgan_app.serving.explorer`).

Malformed requests (bad JSON, wrong input names, dtype, shape, oversized batch)
get HTTP 400 / INVALID_ARGUMENT with a message; unknown models, versions and
signatures 404 / NOT_FOUND. The server keeps running after either.

Example:
>>> with LocalModelServer("export", rest_port=0, grpc_port=0) as server:
...     print(server.rest_url, server.grpc_target)
"""

import json
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple

import grpc
import numpy as np
from absl import logging
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tfgan_app.export.serving_config import list_models
from tfgan_app.serving.codec import JsonTensorError, array_to_json, arrays_to_protos, json_to_array
from tfgan_app.serving.codec import protos_to_arrays
from tfgan_app.serving.explorer import static_response, write_response
from tfgan_app.serving.repository import (DEFAULT_MAX_BATCH_SIZE, ModelRepository, NotFound, RequestError,
                                          ServableVersion)

MAX_BODY_BYTES = 32 * 1024 * 1024
_URL = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?P<verb>/metadata|:predict)?$")


def signature_def_map(servable: ServableVersion) -> get_model_metadata_pb2.SignatureDefMap:
    """The `SignatureDefMap` that `GetModelMetadata` returns under the "signature_def" key."""
    result = get_model_metadata_pb2.SignatureDefMap()
    for key, value in servable.signature_defs.items():
        result.signature_def[key].CopyFrom(value)
    return result


def model_status(repository: ModelRepository, name: str, version: Optional[int]
                 ) -> get_model_status_pb2.GetModelStatusResponse:
    """`GetModelStatusResponse` listing every version on disk (or just `version`) as AVAILABLE."""
    versions = repository.versions(name)
    if version is not None:
        if version not in versions:
            raise NotFound(f"Could not find version {version} of model {name}; available versions: {versions}.")
        versions = [version]
    response = get_model_status_pb2.GetModelStatusResponse()
    for number in versions:
        status = response.model_version_status.add()
        status.version = number
        status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
    return response


def status_json(response: get_model_status_pb2.GetModelStatusResponse) -> Dict:
    """TF Serving's REST status JSON (default-valued fields included, versions as strings)."""
    return {"model_version_status": [
        {"version": str(s.version), "state": get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
         "status": {"error_code": "OK", "error_message": ""}} for s in response.model_version_status]}


def _rest_inputs(body: Dict, servable: ServableVersion, signature: str) -> Tuple[Dict[str, np.ndarray], bool]:
    """Decodes row ("instances") or columnar ("inputs") JSON into arrays; returns (arrays, is_row_format)."""
    names = servable.input_names(signature)
    if ("instances" in body) == ("inputs" in body):
        raise RequestError('Expected exactly one of "instances" (row format) or "inputs" (columnar format) '
                           f"in the request body, received keys {sorted(body)}.")
    if "inputs" in body:
        value = body["inputs"]
        named = isinstance(value, dict) and set(value) != {"b64"}
        if len(names) == 1 and not named:
            value = {names[0]: value}
        if not isinstance(value, dict):
            raise RequestError(f'"inputs" must be an object with keys {names} for signature {signature!r}.')
        unknown = sorted(set(value) - set(names))
        missing = sorted(set(names) - set(value))
        if unknown or missing:
            raise RequestError(f"Signature {signature!r} takes inputs {names}; missing {missing}, unknown {unknown}.")
        return {k: _decode(v, servable, signature, k) for k, v in value.items()}, False
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise RequestError('"instances" must be a non-empty list with one entry per batch row.')
    if all(isinstance(row, dict) and "b64" not in row for row in instances):
        keys = set(instances[0])
        if any(set(row) != keys for row in instances) or keys != set(names):
            raise RequestError(f"Every instance must be an object with exactly the inputs {names} of "
                               f"signature {signature!r}.")
        columns = {k: [row[k] for row in instances] for k in names}
    elif len(names) == 1:
        columns = {names[0]: instances}
    else:
        raise RequestError(f"Signature {signature!r} has several inputs {names}: each instance must be an "
                           "object naming them (or use the columnar \"inputs\" format).")
    return {k: _decode(v, servable, signature, k) for k, v in columns.items()}, True


def _decode(value: Any, servable: ServableVersion, signature: str, key: str) -> np.ndarray:
    try:
        return json_to_array(value, servable.input_dtype(signature, key))
    except JsonTensorError as e:
        raise RequestError(f"Input {key!r} of {signature!r}: {e}") from e


def _rest_outputs(outputs: Dict[str, np.ndarray], row_format: bool) -> Dict:
    encoded = {k: array_to_json(v, k) for k, v in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(encoded.values())) if len(encoded) == 1 else encoded}
    if len(encoded) == 1:
        return {"predictions": next(iter(encoded.values()))}
    rows = len(next(iter(encoded.values())))
    return {"predictions": [{k: v[i] for k, v in encoded.items()} for i in range(rows)]}


class _RestHandler(BaseHTTPRequestHandler):
    """HTTP handler; `self.server.repository` is the `ModelRepository`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        logging.debug("REST %s - " + format, self.client_address[0], *args)

    def _send(self, status: int, payload: Dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> Tuple[str, Optional[int], Optional[str]]:
        match = _URL.match(self.path.split("?")[0])
        if not match:
            raise NotFound(f"Malformed request: {self.command} {self.path}; expected "
                           "/v1/models/<name>[/versions/<N>][/metadata|:predict].")
        version = int(match["version"]) if match["version"] else None
        return match["name"], version, match["verb"]

    def do_GET(self):  # pylint: disable=invalid-name
        page = static_response(self.path, lambda: list_models(self.server.repository.base_dir))  # the explorer
        if page is not None:
            return write_response(self, page)
        try:
            name, version, verb = self._route()
            repository = self.server.repository
            if verb is None:
                self._send(200, status_json(model_status(repository, name, version)))
            elif verb == "/metadata":
                servable = repository.get(name, version)
                self._send(200, {
                    "model_spec": {"name": name, "signature_name": "", "version": str(servable.version)},
                    "metadata": {"signature_def": json_format.MessageToDict(
                        signature_def_map(servable), preserving_proto_field_name=True)}})
            else:
                raise RequestError(f"{verb} needs POST, received GET.", 405)
        except RequestError as e:
            self._send(e.http_status, {"error": str(e)})

    def do_POST(self):  # pylint: disable=invalid-name
        try:
            try:
                length = int(self.headers.get("Content-Length") or -1)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                self.close_connection = True  # the unread body would corrupt a kept-alive connection
                raise RequestError(f"Request body must have a Content-Length of at most {MAX_BODY_BYTES} bytes, "
                                   f"received {self.headers.get('Content-Length')!r}.")
            raw = self.rfile.read(length)
            name, version, verb = self._route()
            if verb != ":predict":
                raise RequestError(f"Only :predict accepts POST on {self.path}.", 405)
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise RequestError(f"JSON Parse error: {e}. The body must be a JSON object.") from e
            if not isinstance(body, dict):
                raise RequestError("The request body must be a JSON object.")
            servable = self.server.repository.get(name, version)
            signature = body.get("signature_name") or "serving_default"
            if not isinstance(signature, str):
                raise RequestError('"signature_name" must be a string.')
            inputs, row_format = _rest_inputs(body, servable, signature)
            self._send(200, _rest_outputs(servable.predict(signature, inputs), row_format))
        except RequestError as e:
            self._send(e.http_status, {"error": str(e)})
        except Exception as e:  # pylint: disable=broad-except  # a bug must not take the server down
            logging.exception("REST predict failed")
            self._send(500, {"error": f"Internal error: {type(e).__name__}: {e}"})


class _PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository: ModelRepository):
        self._repository = repository

    def _servable(self, model_spec) -> ServableVersion:
        version = model_spec.version.value if model_spec.HasField("version") else None
        return self._repository.get(model_spec.name, version)

    def Predict(self, request, context):  # pylint: disable=invalid-name
        try:
            servable = self._servable(request.model_spec)
            signature = request.model_spec.signature_name or "serving_default"
            try:
                inputs = protos_to_arrays(request.inputs)
            except (ValueError, TypeError) as e:
                raise RequestError(f"Could not parse input tensors: {e}") from e
            outputs = servable.predict(signature, inputs, exact_dtypes=True)
            response = predict_pb2.PredictResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = signature
            output_filter = set(request.output_filter)
            for key, proto in arrays_to_protos(outputs).items():
                if not output_filter or key in output_filter:
                    response.outputs[key].CopyFrom(proto)
            return response
        except RequestError as e:
            context.abort(e.grpc_code, str(e))

    def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
        try:
            if list(request.metadata_field) != ["signature_def"]:
                raise RequestError('metadata_field must be ["signature_def"], '
                                   f"received {list(request.metadata_field)}.")
            servable = self._servable(request.model_spec)
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.metadata["signature_def"].Pack(signature_def_map(servable))
            return response
        except RequestError as e:
            context.abort(e.grpc_code, str(e))


class _ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, repository: ModelRepository):
        self._repository = repository

    def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
        try:
            spec = request.model_spec
            return model_status(self._repository, spec.name, spec.version.value if spec.HasField("version") else None)
        except RequestError as e:
            context.abort(e.grpc_code, str(e))


class LocalModelServer:
    """Hosts `<base_dir>` over REST and gRPC like `tensorflow_model_server --model_config_file=...`.

    Args:
        base_dir: TF Serving base folder (`<base>/<name>/<version>/`).
        host: interface to bind (loopback by default).
        rest_port: REST port (0 picks a free one, None disables REST).
        grpc_port: gRPC port (0 picks a free one, None disables gRPC).
        max_batch_size: largest batch (or `num_images`) a request may ask for.
        preload: load the newest version of every model at start (as TF Serving does).
    """

    def __init__(self, base_dir: str, host: str = "127.0.0.1", rest_port: Optional[int] = 8501,
                 grpc_port: Optional[int] = 8500, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 preload: bool = True):
        self.repository = ModelRepository(base_dir, max_batch_size)
        self.host, self.rest_port, self.grpc_port = host, rest_port, grpc_port
        self.preload = preload
        self._http: Optional[ThreadingHTTPServer] = None
        self._http_thread: Optional[threading.Thread] = None
        self._grpc: Optional[grpc.Server] = None

    @property
    def rest_url(self) -> str:
        """`http://host:port` of the REST API."""
        return f"http://{self.host}:{self.rest_port}"

    @property
    def grpc_target(self) -> str:
        """`host:port` of the gRPC API."""
        return f"{self.host}:{self.grpc_port}"

    def start(self) -> "LocalModelServer":
        """Loads models (if `preload`), binds the ports and serves in background threads."""
        if self.preload:
            for name in list_models(self.repository.base_dir):
                self.repository.get(name)
        if self.grpc_port is not None:
            options = [("grpc.max_receive_message_length", MAX_BODY_BYTES),
                       ("grpc.max_send_message_length", MAX_BODY_BYTES)]
            self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
            prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
                _PredictionServicer(self.repository), self._grpc)
            model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelServicer(self.repository), self._grpc)
            self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:{self.grpc_port}")
            self._grpc.start()
        if self.rest_port is not None:
            self._http = ThreadingHTTPServer((self.host, self.rest_port), _RestHandler)
            self._http.daemon_threads = True
            self._http.repository = self.repository
            self.rest_port = self._http.server_address[1]
            self._http_thread = threading.Thread(target=self._http.serve_forever, name="tfgan-rest", daemon=True)
            self._http_thread.start()
        return self

    def stop(self) -> None:
        """Stops both servers and waits for their threads."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http_thread.join(timeout=10)
            self._http = None
        if self._grpc is not None:
            self._grpc.stop(grace=1).wait(timeout=10)
            self._grpc = None

    def __enter__(self) -> "LocalModelServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
