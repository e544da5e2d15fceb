"""Serving clients <-> local TF Serving-compatible server over REST and gRPC on loopback."""

import http.client
import io
import json
import os
import sys
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (LATENT_DIM, NUM_CLASSES, keras_images, tiny_conditional_generator,  # noqa: E402
                              tiny_generator)

from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.artifacts.layout import served_num_classes  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.serving import (BadRequestError, GrpcClient, LocalModelServer, ModelNotFoundError,  # noqa: E402
                               RestClient, ServerUnavailableError)

TIMEOUT = 20.0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Model "plain" with versions 1 and 2 (different weights) and "cond", served on free loopback ports."""
    base = str(tmp_path_factory.mktemp("export"))
    v1, v2, cond = tiny_generator(seed=0), tiny_generator(seed=1), tiny_conditional_generator()
    export_generator(v1, "plain", base, quantizations=())
    export_generator(v2, "plain", base, quantizations=())
    export_generator(cond, "cond", base, num_classes=NUM_CLASSES, quantizations=())
    server = LocalModelServer(base, rest_port=0, grpc_port=0, max_batch_size=32, poll_wait_seconds=0).start()
    rest, grpc_client = RestClient(server.rest_url, TIMEOUT), GrpcClient(server.grpc_target, TIMEOUT)
    yield {"server": server, "rest": rest, "grpc": grpc_client, "v1": v1, "v2": v2, "cond": cond}
    grpc_client.close()
    server.stop()


LATENTS = np.random.default_rng(0).normal(size=(3, LATENT_DIM)).astype(np.float32)


def _post(url, data: bytes):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_predict_latest_and_specific_version(served, client):
    c = served[client]
    np.testing.assert_allclose(c.predict("plain", {"latents": LATENTS})["images"],
                               keras_images(served["v2"], LATENTS), atol=1e-6)
    np.testing.assert_allclose(c.predict("plain", {"latents": LATENTS}, version=1)["images"],
                               keras_images(served["v1"], LATENTS), atol=1e-6)


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_conditional_predict(served, client):
    labels = np.array([2, 0, 1], np.int32)
    images = served[client].predict("cond", {"latents": LATENTS, "labels": labels})["images"]
    np.testing.assert_allclose(images, keras_images(served["cond"], LATENTS, labels), atol=1e-6)


def test_rest_row_format_matches_columnar(served):
    rows = served["rest"].predict("cond", {"latents": LATENTS, "labels": np.array([0, 1, 2])}, row_format=True)
    cols = served["rest"].predict("cond", {"latents": LATENTS, "labels": np.array([0, 1, 2])})
    np.testing.assert_array_equal(rows["images"], cols["images"])
    status, body = _post(served["server"].rest_url + "/v1/models/plain:predict",
                         json.dumps({"instances": LATENTS.tolist()}).encode())
    assert status == 200 and np.asarray(body["predictions"]).shape == (3, 8, 8, 1)


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_png_signature_returns_decodable_pictures(served, client):
    pngs = served[client].predict("plain", {"seed": np.int64(5), "num_images": np.int32(2)},
                                  signature="generate_png")["png_bytes"]
    expected = to_uint8(keras_images(served["v2"], sample_latents(2, LATENT_DIM, 5).numpy()))[..., 0]
    np.testing.assert_array_equal(np.stack([np.asarray(Image.open(io.BytesIO(p))) for p in pngs]), expected)


def test_rest_png_is_base64_json_for_plain_http_clients(served):
    status, body = _post(served["server"].rest_url + "/v1/models/plain:predict", json.dumps(
        {"signature_name": "generate_png", "inputs": {"seed": 5, "num_images": 1}}).encode())
    assert status == 200 and set(body["outputs"][0]) == {"b64"}


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_metadata_and_status(served, client):
    c = served[client]
    metadata = c.metadata("cond")
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    assert sorted(signatures) == ["class_ids", "generate", "generate_png", "generate_truncated",
                                  "generate_truncated_png", "serving_default"]
    # The class count, readable from metadata alone (TF Serving's GetModelMetadata has signature_defs only).
    assert int(signatures["class_ids"]["outputs"]["class_ids"]["tensor_shape"]["dim"][0]["size"]) == NUM_CLASSES
    assert served_num_classes(signatures) == NUM_CLASSES
    latents = signatures["serving_default"]["inputs"]["latents"]
    assert latents["dtype"] == "DT_FLOAT" and int(latents["tensor_shape"]["dim"][1]["size"]) == LATENT_DIM
    assert signatures["generate"]["outputs"]["images"]["dtype"] == "DT_UINT8"
    assert metadata["model_spec"]["version"] == "1"
    assert c.metadata("plain")["model_spec"]["version"] == "2"
    assert [s["version"] for s in c.status("plain")["model_version_status"]] == ["1", "2"]
    assert {s["state"] for s in c.status("plain")["model_version_status"]} == {"AVAILABLE"}
    assert [s["version"] for s in c.status("plain", version=1)["model_version_status"]] == ["1"]


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_unknown_model_version_and_signature_are_clear_errors(served, client):
    c = served[client]
    with pytest.raises(ModelNotFoundError, match="nope"):
        c.predict("nope", {"latents": LATENTS})
    with pytest.raises(ModelNotFoundError, match=r"Specific\(plain, 9\)"):
        c.predict("plain", {"latents": LATENTS}, version=9)
    with pytest.raises(ModelNotFoundError, match="classify"):
        c.predict("plain", {"latents": LATENTS}, signature="classify")


@pytest.mark.parametrize("client", ["rest", "grpc"])
def test_bad_inputs_are_rejected_and_server_keeps_answering(served, client):
    c = served[client]
    with pytest.raises(BadRequestError, match=r"shape \[None, 8\]"):
        c.predict("plain", {"latents": LATENTS[:, :5]})
    with pytest.raises(BadRequestError, match="maximum batch size"):
        c.predict("plain", {"latents": np.zeros([33, LATENT_DIM], np.float32)})
    with pytest.raises(BadRequestError, match="num_images"):
        c.predict("plain", {"seed": np.int64(0), "num_images": np.int32(10_000)}, signature="generate")
    with pytest.raises(BadRequestError, match="num_classes"):
        c.predict("cond", {"latents": LATENTS, "labels": np.array([0, 1, 9], np.int32)})
    with pytest.raises(BadRequestError, match="inputs"):
        c.predict("plain", {"z": LATENTS})
    np.testing.assert_allclose(c.predict("plain", {"latents": LATENTS})["images"],
                               keras_images(served["v2"], LATENTS), atol=1e-6)


def test_grpc_requires_signature_dtypes_like_tf_serving(served):
    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "plain", "generate"
    request.inputs["seed"].CopyFrom(tf.make_tensor_proto(np.int64(0)))
    request.inputs["num_images"].CopyFrom(tf.make_tensor_proto(np.int64(2)))  # signature says int32
    with grpc.insecure_channel(served["server"].grpc_target) as channel:
        with pytest.raises(grpc.RpcError) as error:
            prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=TIMEOUT)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "DT_INT32" in error.value.details()
    images = served["grpc"].predict("plain", {"seed": 0, "num_images": 2}, signature="generate")["images"]  # cast
    assert images.shape == (2, 8, 8, 1) and images.dtype == np.uint8


def test_malformed_rest_bodies_get_400(served):
    url = served["server"].rest_url + "/v1/models/plain:predict"
    cases = [b"{not json", b"[1, 2]", json.dumps({"inputs": [[1.0, 2.0], [3.0]]}).encode(),
             json.dumps({"inputs": [["a"] * LATENT_DIM]}).encode(),
             json.dumps({"instances": [], "signature_name": "serving_default"}).encode(),
             json.dumps({"instances": [[0.0] * LATENT_DIM], "inputs": [[0.0] * LATENT_DIM]}).encode(),
             json.dumps({"signature_name": "generate", "inputs": {"seed": 1.5, "num_images": 2}}).encode()]
    for data in cases:
        status, body = _post(url, data)
        assert status == 400 and body["error"], data
    connection = http.client.HTTPConnection("127.0.0.1", served["server"].rest_port, timeout=TIMEOUT)
    connection.putrequest("POST", "/v1/models/plain:predict")
    connection.putheader("Content-Length", str(10 ** 9))  # announced, never sent: refused before reading
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "max_body_bytes" in json.loads(response.read())["error"]
    connection.close()
    status, body = _post(served["server"].rest_url + "/v1/models/plain/labels/x:predict", b"{}")
    assert status == 400 and "Unrecognized servable version label" in body["error"]
    assert served["rest"].status("plain")["model_version_status"][0]["state"] == "AVAILABLE"


def test_new_version_is_picked_up_without_restart(served):
    base, rest = served["server"].repository.base_dir, served["rest"]
    first, second = tiny_generator(seed=5), tiny_generator(seed=6)
    export_generator(first, "fresh", base, quantizations=())
    served["server"].repository.poll()  # what the poller thread does every --file_system_poll_wait_seconds
    np.testing.assert_allclose(rest.predict("fresh", {"latents": LATENTS})["images"],
                               keras_images(first, LATENTS), atol=1e-6)
    export_generator(second, "fresh", base, quantizations=())
    served["server"].repository.poll()
    np.testing.assert_allclose(rest.predict("fresh", {"latents": LATENTS}, version=2)["images"],
                               keras_images(second, LATENTS), atol=1e-6)
    assert [s["version"] for s in rest.status("fresh")["model_version_status"]] == ["1", "2"]


def test_exports_load_with_tf_serving_session_semantics(served):
    """Issue #19 item 3: every exported version loads through the TF1 session loader (as TF Serving's C++
    LoadSavedModel does) and its warm-up replays; a version that failed would be END, not AVAILABLE."""
    for name in ("plain", "cond"):
        states = served["rest"].status(name)["model_version_status"]
        assert {s["state"] for s in states} == {"AVAILABLE"}, states


def test_server_down_is_a_clear_error():
    with LocalModelServer(os.devnull, rest_port=0, grpc_port=0, preload=False) as server:
        rest_url, grpc_target = server.rest_url, server.grpc_target
    with pytest.raises(ServerUnavailableError, match="tfgan serve"):
        RestClient(rest_url, timeout=2).status("plain")
    client = GrpcClient(grpc_target, timeout=2)
    with pytest.raises(ServerUnavailableError):
        client.status("plain")
    client.close()
