"""Issue #14, TF Serving contract: status codes and message shapes of TF Serving's REST handler
(`http_rest_api_handler.cc` and its test, `http_rest_api_util.cc`, `get_model_status_impl.cc`) and gRPC services
(`predict_util.cc`), case by case, against the local server (real `tensorflow-serving-api` protos over gRPC)."""

import http.client
import json
import os
import sys

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc)

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM  # noqa: E402
from _serving_fixtures import write_version  # noqa: E402

from tfgan_app.serving import LocalModelServer  # noqa: E402

TIMEOUT = 20.0
ZERO_ROW = [0.0] * LATENT_DIM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("export"))
    write_version(base, "m", 1, seed=0)
    with LocalModelServer(base, rest_port=0, grpc_port=0, max_batch_size=16, poll_wait_seconds=0) as running:
        yield running


def _rest(server, method, path, body: bytes = b""):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# (method, path, body, HTTP status, substring of the error) as in http_rest_api_handler_test.cc.
REST_CASES = [
    ("GET", "/v1/foo", b"", 400, "Malformed request"),
    ("POST", "/v1/foo", b"", 400, "Malformed request"),
    ("GET", "/v1/models", b"", 400, "Missing model name in request."),
    ("GET", "/v1/models/debug/model_name", b"", 400, "Malformed request"),
    ("POST", "/v1/models", b"", 400, "Malformed request"),
    ("GET", "/v1/models/m:predict", b"", 400, "Malformed request: GET /v1/models/m:predict"),
    ("GET", "/v1/models/m/version/50:predict", b"", 400, "Malformed request"),
    ("POST", "/v1/models/m/versions/HELLO:predict", b"{}", 400, "Malformed request"),
    ("GET", "/v1/models/m/versions/abc", b"", 400, "Malformed request"),
    ("POST", "/v1/models/m/versions/99999999999999999999:predict", b"{}", 400, "Failed to convert version"),
    ("POST", "/v1/models/m/metadata", b"", 400, "Malformed request"),
    ("POST", "/v1/models/m/labels/some_label:predict", b"{}", 400, "Unrecognized servable version label"),
    ("PUT", "/v1/models/m:predict", b"{}", 400, "Malformed request: PUT"),
    ("DELETE", "/v1/models/m", b"", 400, "Malformed request: DELETE"),
    ("POST", "/v1/models/m:predict", b"", 400, "JSON Parse error: The document is empty"),
    ("POST", "/v1/models/m:predict", b"instances = [1, 2]", 400, "JSON Parse error"),
    ("POST", "/v1/models/m:predict", b'{"signature_name": 100, "instances": [1]}', 400,
     "'signature_name' key must be a string value."),
    ("POST", "/v1/models/m:predict", b"[1, 2]", 400, "Is not object"),
    ("POST", "/v1/models/m:predict", json.dumps({"signature_name": "nope", "instances": [ZERO_ROW]}).encode(), 400,
     'Serving signature key "nope" not found'),
    ("POST", "/v1/models/m:predict", json.dumps({"instances": [["a"] * LATENT_DIM]}).encode(), 400, "DT_FLOAT"),
    ("POST", "/v1/models/nope:predict", json.dumps({"instances": [ZERO_ROW]}).encode(), 404,
     "Servable not found for request: Latest(nope)"),
    ("POST", "/v1/models/m/versions/50:predict", json.dumps({"instances": [ZERO_ROW]}).encode(), 404,
     "Servable not found for request: Specific(m, 50)"),
    ("GET", "/v1/models/m/versions/50/metadata", b"", 404, "Servable not found for request: Specific(m, 50)"),
    ("GET", "/v1/models/nope", b"", 404, "Could not find any versions of model nope"),
    ("GET", "/v1/models/m/versions/50", b"", 404, "Could not find version 50 of model m"),
]


@pytest.mark.parametrize("method, path, body, status, message", REST_CASES, ids=[f"{c[0]} {c[1]}" for c in REST_CASES])
def test_rest_error_cases_match_tf_serving(server, method, path, body, status, message):
    received_status, payload = _rest(server, method, path, body)
    assert received_status == status and set(payload) == {"error"} and message in payload["error"], payload


def test_rest_success_shapes_match_tf_serving(server):
    status, payload = _rest(server, "GET", "/v1/models/m")
    assert status == 200 and payload == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    status, payload = _rest(server, "GET", "/V1/Models/m/versions/1/metadata")  # TF Serving's regexes are (?i)
    assert status == 200 and payload["model_spec"] == {"name": "m", "signature_name": "", "version": "1"}
    assert sorted(payload["metadata"]["signature_def"]["signature_def"]) == ["generate", "serving_default"]
    status, payload = _rest(server, "POST", "/v1/models/m/versions/1:predict",
                            json.dumps({"instances": [ZERO_ROW, ZERO_ROW]}).encode())
    assert status == 200 and np.asarray(payload["predictions"]).shape == (2, 8, 8, 1)
    status, payload = _rest(server, "POST", "/v1/models/m:predict", json.dumps(
        {"signature_name": "generate", "inputs": {"seed": 3, "num_images": 2}}).encode())
    assert status == 200 and np.asarray(payload["outputs"]).shape == (2, 8, 8, 1)


def _stub(server, cls):
    channel = grpc.insecure_channel(server.grpc_target)
    return channel, cls(channel)


def test_grpc_codes_match_tf_serving(server):
    channel, predict = _stub(server, prediction_service_pb2_grpc.PredictionServiceStub)
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    latents = tf.make_tensor_proto(np.zeros([2, LATENT_DIM], np.float32))

    def code(method, request):
        with pytest.raises(grpc.RpcError) as error:
            method(request, timeout=TIMEOUT)
        return error.value.code(), error.value.details()

    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "m", "nope"
    request.inputs["latents"].CopyFrom(latents)
    received, details = code(predict.Predict, request)
    assert received == grpc.StatusCode.FAILED_PRECONDITION and 'Serving signature key "nope" not found' in details
    request.model_spec.name, request.model_spec.signature_name = "nope", ""
    assert code(predict.Predict, request) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)")
    request.model_spec.name = "m"
    request.model_spec.version.value = 9
    assert code(predict.Predict, request)[0] == grpc.StatusCode.NOT_FOUND
    request.model_spec.version_label = "stable"
    assert code(predict.Predict, request)[0] == grpc.StatusCode.INVALID_ARGUMENT
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "m"
    request.inputs["latents"].CopyFrom(tf.make_tensor_proto(np.zeros([2, LATENT_DIM], np.float64)))
    assert code(predict.Predict, request)[0] == grpc.StatusCode.INVALID_ARGUMENT
    status_request = get_model_status_pb2.GetModelStatusRequest()
    assert code(models.GetModelStatus, status_request) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
    status_request.model_spec.name = "m"
    status_request.model_spec.version.value = 50
    assert code(models.GetModelStatus, status_request) == (grpc.StatusCode.NOT_FOUND,
                                                           "Could not find version 50 of model m")
    status_request.model_spec.ClearField("version")
    response = models.GetModelStatus(status_request, timeout=TIMEOUT)
    [version] = response.model_version_status
    assert version.version == 1 and version.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    metadata_request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata_request.model_spec.name = "m"
    response = predict.GetModelMetadata(metadata_request, timeout=TIMEOUT)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    assert sorted(signatures.signature_def) == ["generate", "serving_default"]
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "m"
    request.inputs["latents"].CopyFrom(latents)
    result = predict.Predict(request, timeout=TIMEOUT)
    assert result.model_spec.version.value == 1 and result.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(result.outputs["images"]).shape == (2, 8, 8, 1)
    channel.close()
