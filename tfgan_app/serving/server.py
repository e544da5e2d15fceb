"""A small local server speaking TF Serving's REST and gRPC protocols, for development and tests.

Production serving uses the real `tensorflow_model_server` (see export/README.md);
this server hosts the same `<base>/<name>/<version>/` folder on the same URLs,
JSON formats and gRPC services, so clients work unchanged against either:

* REST: `GET /v1/models/<name>[/versions/N]` (status),
  `GET /v1/models/<name>[/versions/N]/metadata`,
  `POST /v1/models/<name>[/versions/N]:predict` with `{"signature_name", "instances"}` (rows) or
  `{"signature_name", "inputs"}` (columns).
* The latent explorer page at `/` and `/explorer/...` (`tfgan_app.serving.explorer`).
* gRPC: `tensorflow.serving.PredictionService/Predict`, `/GetModelMetadata` and
  `tensorflow.serving.ModelService/GetModelStatus`.

Status codes and messages follow TF Serving's `http_rest_api_handler.cc`: a
path or method it does not route ("Malformed request: GET /v1/models/m:predict",
`/versions/abc`, PUT, DELETE), "Missing model name in request." (GET /v1/models),
bad JSON, wrong input names / dtypes / shapes, an oversized batch and an unknown
`signature_name` are 400 (INVALID_ARGUMENT; FAILED_PRECONDITION for the
signature over gRPC); an unknown or not-yet-AVAILABLE model or version is 404 /
NOT_FOUND; a body over `max_body_bytes` is 413. Every error body is
`{"error": "..."}` JSON without host paths.

Limits: REST runs on `waitress` (a bounded pool of `threads` workers; bodies
are buffered by its event loop, so slow uploads hold no worker; idle and stalled
connections are closed after `idle_timeout` seconds; at most `connection_limit`
connections). gRPC runs on a bounded `ThreadPoolExecutor` with
`maximum_concurrent_rpcs`. Neither port is shared: binding an occupied port is
a `UsageError`. `stop()` is graceful: no new connections or RPCs, requests in
flight finish within `grace_seconds`, and each version they hold stays loaded
until they do (`ModelRepository.acquire`).

Example:
>>> with LocalModelServer("export", rest_port=0, grpc_port=0) as server:
...     print(server.rest_url, server.grpc_target)
"""

import contextlib
import json
import logging as std_logging
import math
import re
import threading
import time
from concurrent import futures
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

import grpc
import numpy as np
import waitress.server
from absl import logging
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc, status_pb2
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from tfgan_app.errors import UsageError
from tfgan_app.tfserving.codec import JsonTensorError, array_to_json, arrays_to_protos, json_to_array
from tfgan_app.tfserving.codec import parse_json_float
from tfgan_app.serving.explorer import HEADERS, static_response
from tfgan_app.serving.repository import (DEFAULT_MAX_BATCH_SIZE, DEFAULT_POLL_WAIT_SECONDS, DEFAULT_SIGNATURE,
                                          ModelRepository, NotFound, RequestError, ServableVersion, VersionState)

from tfgan_app.names import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IMAGE_PIXELS  # noqa: E402  (TF-free, CLI flags)
DEFAULT_THREADS = 4
from tfgan_app.names import DEFAULT_GRACE_SECONDS, DEFAULT_IDLE_TIMEOUT  # noqa: E402  (TF-free, for the CLI flags)
DEFAULT_CONNECTION_LIMIT = 1000
# TF Serving's path regexes (http_rest_api_util.cc), anchored.
_PREDICT_URL = re.compile(r"(?i)^/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
                          r":(classify|regress|predict)$")
_STATUS_URL = re.compile(r"(?i)^/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
                         r"(?:/(metadata))?$")
_STATUS_PHRASES = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
                   429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
                   501: "Not Implemented", 503: "Service Unavailable"}


def signature_def_map(servable: ServableVersion) -> get_model_metadata_pb2.SignatureDefMap:
    """The `SignatureDefMap` that `GetModelMetadata` returns under the "signature_def" key."""
    result = get_model_metadata_pb2.SignatureDefMap()
    for key, value in servable.signature_defs.items():
        result.signature_def[key].CopyFrom(value)
    return result


def model_status(repository: ModelRepository, name: str, version: Optional[int]
                 ) -> get_model_status_pb2.GetModelStatusResponse:
    """`GetModelStatusResponse` with each version's state and load error (TF Serving's `GetModelStatusImpl`)."""
    response = get_model_status_pb2.GetModelStatusResponse()
    for state in repository.status(name, version):
        status = response.model_version_status.add()
        status.version = state.version
        status.state = get_model_status_pb2.ModelVersionStatus.State.Value(state.state)
        status.status.error_code = _error_code_value(state)
        status.status.error_message = state.error_message
    return response


def _error_code_value(state: VersionState) -> int:
    return status_pb2.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type.values_by_name[
        state.error_code].number


def status_json(response: get_model_status_pb2.GetModelStatusResponse) -> Dict:
    """TF Serving's REST status JSON (default-valued fields included, versions as strings)."""
    return json_format.MessageToDict(response, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


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
    if len(instances) > servable.max_batch_size:
        raise RequestError(f"Batch of {len(instances)} instances exceeds the server's maximum batch size "
                           f"{servable.max_batch_size}; split the request.")
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


def _parse_body(raw: bytes) -> Dict:
    """The request JSON object; deep nesting, overflowing numbers and non-objects are 400s."""
    if not raw:
        raise RequestError("JSON Parse error: The document is empty")
    try:
        body = json.loads(raw, parse_float=parse_json_float)
    except RecursionError as e:
        raise RequestError("JSON Parse error: the document is nested too deeply.") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RequestError(f"JSON Parse error: {e}. The body must be a JSON object.") from e
    except JsonTensorError as e:
        raise RequestError(str(e)) from e
    if not isinstance(body, dict):
        raise RequestError("JSON Value: the request body Is not object; expected a JSON object.")
    return body


class RestApp:
    """The REST API as a WSGI application (served by waitress; usable with any WSGI server).

    Args:
        repository: the `ModelRepository` to serve.
    """

    def __init__(self, repository: ModelRepository):
        self.repository = repository

    def __call__(self, environ: Dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        page = static_response(path, self.repository.models) if method in ("GET", "HEAD") else None
        if page is not None:  # the latent explorer (`tfgan_app.serving.explorer`)
            status, content_type, body = page
            start_response(f"{status} {_STATUS_PHRASES.get(status, '')}",
                           [("Content-Type", content_type), ("Content-Length", str(len(body))), *HEADERS.items()])
            return [] if method == "HEAD" else [body]
        try:
            status, payload = self.handle(method, path, environ)
        except RequestError as e:
            status, payload = e.http_status, {"error": self.repository.relative(str(e))}
        except Exception as e:  # pylint: disable=broad-except  # a bug must not take the server down
            logging.exception("REST %s %s failed", method, path)
            status, payload = 500, {"error": self.repository.relative(f"Internal error: {type(e).__name__}: {e}")}
        data = json.dumps(payload).encode("utf-8")
        start_response(f"{status} {_STATUS_PHRASES.get(status, '')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def handle(self, method: str, path: str, environ: Dict) -> Tuple[int, Dict]:
        """Routes one request like TF Serving's `HttpRestApiHandler::ProcessRequest`; returns (status, JSON)."""
        if not path.lower().startswith("/v1/"):
            raise NotFound(f"Not found: {method} {path}; TF Serving's REST API is under "
                           "/v1/models/<name>[/versions/<N>][/metadata|:predict].")
        malformed = RequestError(f"Malformed request: {method} {path}")
        if method == "POST":
            match = _PREDICT_URL.match(path)
            if not match:
                raise malformed
            name, version, label, verb = match.groups()
            version = self._version(version, label)
            if verb.lower() != "predict":
                raise RequestError(f"Malformed request: {method} {path}; tfgan serve hosts generators, which have "
                                   f"no {verb} signature (use :predict).")
            return 200, self.predict(name, version, _read_body(environ))
        if method == "GET":
            match = _STATUS_URL.match(path)
            if not match:
                raise malformed
            name, version, label, subresource = match.groups()
            if not name:
                raise RequestError("Missing model name in request.")
            version = self._version(version, label)
            if subresource:
                with self.repository.acquire(name, version) as servable:
                    return 200, {"model_spec": {"name": name, "signature_name": "", "version": str(servable.version)},
                                 "metadata": {"signature_def": json_format.MessageToDict(
                                     signature_def_map(servable), preserving_proto_field_name=True)}}
            return 200, status_json(model_status(self.repository, name, version))
        raise malformed

    @staticmethod
    def _version(version: Optional[str], label: Optional[str]) -> Optional[int]:
        if label:
            raise RequestError(f"Unrecognized servable version label: {label}")
        if version is None:
            return None
        number = int(version)
        if number >= 2 ** 63:
            raise RequestError(f"Failed to convert version: {version} to numeric.")
        return number

    def predict(self, name: str, version: Optional[int], raw: bytes) -> Dict:
        """`:predict` on a JSON body; returns the response JSON."""
        with self.repository.acquire(name, version) as servable:  # the version stays loaded until the reply
            body = _parse_body(raw)
            signature = body.get("signature_name", DEFAULT_SIGNATURE)
            if not isinstance(signature, str):
                raise RequestError(f"JSON Value: {json.dumps(signature)[:80]} not formatted correctly. "
                                   "'signature_name' key must be a string value.")
            signature = signature or DEFAULT_SIGNATURE
            servable.signature_def(signature)  # unknown signature: 400 before the inputs are looked at
            inputs, row_format = _rest_inputs(body, servable, signature)
            outputs = servable.predict(signature, inputs)
        return _rest_outputs(outputs, row_format)


def _read_body(environ: Dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as e:
        raise RequestError(f"Expected a numeric Content-Length, received {environ.get('CONTENT_LENGTH')!r}.") from e
    return environ["wsgi.input"].read(length) if length > 0 else b""


class _JsonErrorTask(ErrorTask):
    """waitress' own errors (body too large, bad framing, header too large) as TF Serving-style JSON."""

    def execute(self):
        error = self.request.error
        data = json.dumps({"error": f"{error.reason}: {error.body}".replace("max_body", "max_body_bytes")}
                          ).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json")])
        self.set_close_on_finish()
        self.content_length = len(data)
        self.write(data)


class _JsonErrorChannel(HTTPChannel):
    error_task_class = _JsonErrorTask


class _PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository: ModelRepository):
        self._repository = repository

    def _servable(self, model_spec) -> "contextlib.AbstractContextManager[ServableVersion]":
        """A handle on the version `model_spec` names, held while the request runs."""
        if not model_spec.name:
            raise RequestError("Missing ModelSpec name.")
        if model_spec.WhichOneof("version_choice") == "version_label":
            raise RequestError(f"Unrecognized servable version label: {model_spec.version_label}")
        version = model_spec.version.value if model_spec.HasField("version") else None
        return self._repository.acquire(model_spec.name, version)

    def _abort(self, context, error: RequestError):
        context.abort(error.grpc_code, self._repository.relative(str(error)))

    def Classify(self, request, context):  # pylint: disable=invalid-name
        _unimplemented("Classify", context)

    def Regress(self, request, context):  # pylint: disable=invalid-name
        _unimplemented("Regress", context)

    def MultiInference(self, request, context):  # pylint: disable=invalid-name
        _unimplemented("MultiInference", context)

    def Predict(self, request, context):  # pylint: disable=invalid-name
        try:
            with self._servable(request.model_spec) as servable:
                signature = request.model_spec.signature_name or DEFAULT_SIGNATURE
                inputs = servable.decode_protos(signature, request.inputs)  # validated before allocation
                outputs = servable.predict(signature, inputs, exact_dtypes=True)
                name, version = servable.name, servable.version
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.version.value = version
            response.model_spec.signature_name = signature
            output_filter = set(request.output_filter)
            for key, proto in arrays_to_protos(outputs).items():
                if not output_filter or key in output_filter:
                    response.outputs[key].CopyFrom(proto)
            return response
        except RequestError as e:
            self._abort(context, e)

    def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
        try:
            if list(request.metadata_field) != ["signature_def"]:
                raise RequestError('metadata_field must be ["signature_def"], '
                                   f"received {list(request.metadata_field)}.")
            with self._servable(request.model_spec) as servable:
                response = get_model_metadata_pb2.GetModelMetadataResponse()
                response.model_spec.name = servable.name
                response.model_spec.version.value = servable.version
                response.metadata["signature_def"].Pack(signature_def_map(servable))
            return response
        except RequestError as e:
            self._abort(context, e)


def _unimplemented(method: str, context) -> None:
    """Answers an RPC this server does not implement with UNIMPLEMENTED, logging one line (no traceback)."""
    logging.warning("gRPC %s is not implemented by tfgan serve (generators have no such signature); answered "
                    "UNIMPLEMENTED.", method)
    context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented by tfgan serve: the served "
                  "generators have only Predict signatures (use Predict).")


class _ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, repository: ModelRepository):
        self._repository = repository

    def HandleReloadConfigRequest(self, request, context):  # pylint: disable=invalid-name
        _unimplemented("HandleReloadConfigRequest", context)

    def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
        try:
            if not request.HasField("model_spec"):
                raise RequestError("Missing ModelSpec")
            spec = request.model_spec
            return model_status(self._repository, spec.name, spec.version.value if spec.HasField("version") else None)
        except RequestError as e:
            context.abort(e.grpc_code, self._repository.relative(str(e)))


def _rest_drained(server) -> bool:
    """True when waitress has no request queued or running and every reply is flushed to its client."""
    dispatcher = server.task_dispatcher
    if dispatcher.active_count or dispatcher.queue:
        return False
    channels = [c for c in list(server._map.values()) if c is not server]  # pylint: disable=protected-access
    return not any(getattr(c, "requests", None) or getattr(c, "total_outbufs_len", 0) for c in channels)


class LocalModelServer:
    """Hosts `<base_dir>` over REST and gRPC like `tensorflow_model_server --model_config_file=...`.

    Args:
        base_dir: TF Serving base folder (`<base>/<name>/<version>/`).
        host: interface to bind (loopback by default).
        rest_port: REST port (0 picks a free one, None disables REST).
        grpc_port: gRPC port (0 picks a free one, None disables gRPC).
        max_batch_size: largest batch (or `num_images`) a request may ask for.
        preload: load the versions on disk in `start()`, before the ports open (as TF Serving does); False
            loads them in the background (requests get 404 until their version is AVAILABLE).
        poll_wait_seconds: seconds between repository scans (`--file_system_poll_wait_seconds`; 0: once).
        max_body_bytes: largest REST body / gRPC message (413 / RESOURCE_EXHAUSTED beyond).
        threads: REST worker threads and gRPC worker threads (each pool is bounded).
        idle_timeout: seconds after which an idle or stalled REST connection is closed.
        connection_limit: most REST connections open at once (more wait in the listen backlog).
        grace_seconds: how long `stop()` lets requests in flight finish.
        max_image_pixels: most pixels a PNG/JPEG input of a model without a fixed image size may declare.

    Raises:
        UsageError: a limit out of range (named, with the received value); `start()` raises it for a port in use.

    Example:
    >>> with LocalModelServer("export", rest_port=0, grpc_port=0) as server:
    ...     RestClient(server.rest_url).predict("dcgan_mnist", {"seed": 0, "num_images": 2}, signature="generate")
    """

    def __init__(self, base_dir: str, host: str = "127.0.0.1", rest_port: Optional[int] = 8501,
                 grpc_port: Optional[int] = 8500, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 preload: bool = True, poll_wait_seconds: float = DEFAULT_POLL_WAIT_SECONDS,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, threads: int = DEFAULT_THREADS,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT, connection_limit: int = DEFAULT_CONNECTION_LIMIT,
                 grace_seconds: float = DEFAULT_GRACE_SECONDS, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS):
        if (max_body_bytes < 1024 or threads < 1 or not 0 < idle_timeout < math.inf or connection_limit < 1
                or not 0 <= grace_seconds < math.inf):
            raise UsageError(f"Expected max_body_bytes >= 1024, threads >= 1, a finite idle_timeout > 0, "
                             f"connection_limit >= 1 and a finite grace_seconds >= 0, received {max_body_bytes}, "
                             f"{threads}, {idle_timeout}, {connection_limit}, {grace_seconds}.")
        self.repository = ModelRepository(base_dir, max_batch_size, poll_wait_seconds, max_body_bytes,
                                          max_image_pixels)
        self.host, self.rest_port, self.grpc_port = host, rest_port, grpc_port
        self.preload, self.max_body_bytes, self.threads = preload, max_body_bytes, threads
        self.idle_timeout, self.connection_limit = idle_timeout, connection_limit
        self.grace_seconds = grace_seconds
        self._http = None
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
        """Binds the ports, loads what is on disk (if `preload`), starts the repository poller and serves.

        The ports are bound first, so an occupied port is reported before any model is loaded.
        """
        try:
            if self.grpc_port is not None:
                self._bind_grpc()
            if self.rest_port is not None:
                self._bind_rest()
            self.repository.start(wait=self.preload)
            if self._grpc is not None:
                self._grpc.start()
            if self._http is not None:
                self._http_thread = threading.Thread(target=self._serve_rest, name="tfgan-rest", daemon=True)
                self._http_thread.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _bind_grpc(self) -> None:
        options = [("grpc.max_receive_message_length", self.max_body_bytes),
                   ("grpc.max_send_message_length", self.max_body_bytes),
                   ("grpc.so_reuseport", 0)]  # an occupied port is an error, not a shared one
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="tfgan-grpc"),
                                 options=options, maximum_concurrent_rpcs=self.connection_limit)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionServicer(self.repository), self._grpc)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelServicer(self.repository), self._grpc)
        try:
            self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:{self.grpc_port}")
        except RuntimeError as e:
            raise UsageError(f"Cannot bind the gRPC port {self.host}:{self.grpc_port}: it is in use (or the "
                             "address is not local). Stop the other server or pass another --grpc_port "
                             "(0 picks a free one).") from e

    def _bind_rest(self) -> None:
        try:
            server = waitress.server.create_server(
                RestApp(self.repository), host=self.host, port=self.rest_port, threads=self.threads,
                channel_timeout=self.idle_timeout, cleanup_interval=max(1, min(30, int(self.idle_timeout // 2) or 1)),
                connection_limit=self.connection_limit, max_request_body_size=self.max_body_bytes,
                asyncore_use_poll=True, ident="tfgan-serve", clear_untrusted_proxy_headers=True)
        except OSError as e:
            raise UsageError(f"Cannot bind the REST port {self.host}:{self.rest_port}: {e.strerror or e}. Stop the "
                             "other server or pass another --rest_port (0 picks a free one).") from e
        server.channel_class = _JsonErrorChannel
        std_logging.getLogger("waitress.queue").setLevel(std_logging.ERROR)  # "task queue depth" chatter
        self._http = server
        self.rest_port = server.effective_port

    def _serve_rest(self) -> None:
        try:
            self._http.run()
        except (OSError, ValueError):  # the map closes under the loop at stop()
            pass

    def stop(self, grace: Optional[float] = None) -> None:
        """Stops gracefully: no new connections or RPCs, requests in flight finish (at most `grace` seconds,
        default the constructor's `grace_seconds`), then the ports, the poller and every version are released.

        What `tfgan serve` does on Ctrl-C and SIGTERM.
        """
        grace = self.grace_seconds if grace is None else grace
        grpc_stopped = self._grpc.stop(grace=grace) if self._grpc is not None else None  # drains in-flight RPCs
        self._grpc = None
        if self._http is not None:
            server, self._http = self._http, None
            server.accepting = False  # waitress' dispatcher stops accepting; in-flight requests go on
            deadline = time.monotonic() + grace
            while not _rest_drained(server) and time.monotonic() < deadline:
                time.sleep(0.02)
            std_logging.getLogger("waitress").setLevel(std_logging.CRITICAL)
            for _ in range(50):
                channels = list(server._map.values())  # pylint: disable=protected-access
                if not channels:
                    break
                for channel in channels:
                    try:
                        channel.handle_close()
                    except (OSError, KeyError):
                        pass
                server.maintenance(0)
            server.task_dispatcher.shutdown(timeout=5)
            self._http_thread.join(timeout=10)
        if grpc_stopped is not None:
            grpc_stopped.wait(timeout=grace + 10)
        self.repository.stop()

    def __enter__(self) -> "LocalModelServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
