"""Issue #14, limits and hostile clients: validate before allocating, bounded workers and timeouts, body and
nesting limits, occupied ports, out-of-range JSON numbers, JSON error bodies without host paths."""

import http.client
import json
import os
import resource
import socket
import sys
import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM  # noqa: E402
from _serving_fixtures import free_port, write_version  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.errors import UsageError  # noqa: E402
from tfgan_app.serving import LocalModelServer  # noqa: E402

TIMEOUT = 20.0
MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("export"))
    write_version(base, "m", 1, seed=0)
    with LocalModelServer(base, rest_port=0, grpc_port=0, max_batch_size=16, poll_wait_seconds=0,
                          max_body_bytes=MAX_BODY, threads=2, idle_timeout=2.0) as running:
        yield running


def _request(server, method, path, body: bytes = b"", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        assert response.getheader("Content-Type") == "application/json", raw[:200]
        return response.status, json.loads(raw)
    finally:
        connection.close()


def _predict(server, body) -> tuple:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return _request(server, "POST", "/v1/models/m:predict", data)


def _grpc_predict(server, inputs, signature="serving_default"):
    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "m", signature
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    with grpc.insecure_channel(server.grpc_target) as channel:
        return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=TIMEOUT)


def _declared(shape, dtype=types_pb2.DT_FLOAT) -> tensor_pb2.TensorProto:
    """A ~20-byte TensorProto that declares `shape` and carries no values."""
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=s) for s in shape]))


# 4. Allocate only after validating.
@pytest.mark.parametrize("shape", [[10_000_000, 64], [2 ** 40, LATENT_DIM], [1, 2 ** 40], [4, LATENT_DIM]])
def test_declared_grpc_shapes_are_checked_before_allocation(server, shape):
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as error:
        _grpc_predict(server, {"latents": _declared(shape)})
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, error.value.details()
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 200 * 1024  # KiB: no big allocation
    latents = tf.make_tensor_proto(np.zeros([2, LATENT_DIM], np.float32))
    assert _grpc_predict(server, {"latents": latents}).outputs["images"].tensor_shape.dim[0].size == 2


# 5. Nesting and body size.
@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"inputs": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b"}",
                                  b'{"inputs": ' + b"[" * 5000 + b"0.5" + b"]" * 5000 + b"}",
                                  b'{"inputs": ' + b"[" * 80 + b"0.5" + b"]" * 80 + b"}"])
def test_deeply_nested_json_is_400(server, body):
    status, payload = _predict(server, body)
    assert status == 400 and payload["error"]


def test_body_over_the_limit_is_413_json(server):
    status, payload = _predict(server, b" " * (MAX_BODY + 10))
    assert status == 413 and "max_body_bytes" in payload["error"]
    status, _ = _request(server, "GET", "/v1/models/m")
    assert status == 200


# 6. Bounded workers and timeouts.
def test_stalled_uploads_hold_no_threads_and_do_not_block_small_requests(server):
    threads_before = threading.active_count()
    stalled = []
    try:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", server.rest_port), timeout=TIMEOUT)
            s.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n[[0.1, ")
            stalled.append(s)
        for _ in range(8):  # big bodies arriving slowly
            s = socket.create_connection(("127.0.0.1", server.rest_port), timeout=TIMEOUT)
            s.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 250000\r\n\r\n"
                      + b"[" + b"0.5, " * 20000)
            stalled.append(s)
        started = time.monotonic()
        status, _ = _predict(server, {"inputs": [[0.0] * LATENT_DIM]})
        assert status == 200 and time.monotonic() - started < 3
        assert threading.active_count() - threads_before <= 2
        started = time.monotonic()  # the idle timeout (2 s) closes the stalled connections
        try:
            closed = stalled[0].recv(1024) == b""
        except ConnectionResetError:
            closed = True
        assert closed and time.monotonic() - started < 10
    finally:
        for s in stalled:
            s.close()


# 7. Occupied ports.
def test_occupied_ports_fail_with_a_clear_error(server, tmp_path, capsys):
    base = server.repository.base_dir
    with pytest.raises(UsageError, match="gRPC port .* in use"):
        LocalModelServer(base, rest_port=None, grpc_port=server.grpc_port, poll_wait_seconds=0).start()
    with pytest.raises(UsageError, match="REST port"):
        LocalModelServer(base, rest_port=server.rest_port, grpc_port=None, poll_wait_seconds=0).start()
    assert main(["tfgan", "serve", f"--base={base}", f"--rest_port={free_port()}",
                 f"--grpc_port={server.grpc_port}", "--file_system_poll_wait_seconds=0"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: Cannot bind the gRPC port"), error
    status, _ = _request(server, "GET", "/v1/models/m")
    assert status == 200


# 8. Out-of-range JSON numbers.
@pytest.mark.parametrize("inputs, match", [
    ({"seed": 0, "num_images": 2 ** 32 + 1}, "num_images"),
    ({"seed": 2 ** 64, "num_images": 1}, "seed"),
    ({"seed": 0, "num_images": True}, "true/false"),
])
def test_out_of_range_and_boolean_counts_are_400(server, inputs, match):
    status, payload = _predict(server, {"signature_name": "generate", "inputs": inputs})
    assert status == 400 and match in payload["error"], payload


@pytest.mark.parametrize("body", [b'{"inputs": [[true, 0, 0, 0, 0, 0, 0, 0]]}',
                                  b'{"inputs": [[1e400, 0, 0, 0, 0, 0, 0, 0]]}',
                                  b'{"inputs": [[1e300, 0, 0, 0, 0, 0, 0, 0]]}'])
def test_booleans_and_overflowing_floats_are_400(server, body):
    status, payload = _predict(server, body)
    assert status == 400 and payload["error"]


# 9. Errors are JSON without host paths; other methods are JSON errors.
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_json_errors(server, method):
    status, payload = _request(server, method, "/v1/models/m", b"{}")
    assert status == 400 and payload["error"].startswith(f"Malformed request: {method}")


def test_errors_never_contain_host_paths(server):
    base = os.path.abspath(server.repository.base_dir)
    for method, path, body in [("GET", "/v1/models/nope", b""), ("POST", "/v1/models/nope:predict", b"{}"),
                               ("GET", "/v1/models/m/versions/7/metadata", b""), ("GET", "/elsewhere", b""),
                               ("POST", "/v1/models/m:predict", b'{"inputs": [[0.5]]}')]:
        status, payload = _request(server, method, path, body)
        assert status in (400, 404) and payload["error"] and base not in payload["error"], payload
