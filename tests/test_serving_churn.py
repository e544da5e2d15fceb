"""Issue #27 item 1: versions are swapped and unloaded only when no request uses them (TF Serving's
`ServableHandle` / `BasicManager` semantics), and a version number that does not fit int64 is ignored.

Before the fix a reload (`touch saved_model.pb`) or a delete closed the old session while requests still ran on
it: REST 500 / gRPC INTERNAL "Session has been closed" / "Run call was cancelled". The full >= 10,000-request run
is `benchmarks/serving_latency.py --mode=churn`; here a few hundred requests from 8 clients.
"""

import logging
import os
import shutil
import sys
import threading
import time

import grpc
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM  # noqa: E402
from _serving_fixtures import write_version  # noqa: E402

from tfgan_app.serving import GrpcClient, LocalModelServer, ModelNotFoundError, RestClient  # noqa: E402
from tfgan_app.serving.repository import ModelRepository  # noqa: E402

LATENTS = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype(np.float32)
HUGE = "99999999999999999999"  # > int64


def _touch(path: str) -> None:
    """Gives `saved_model.pb` a new mtime, as `touch` does (the version is reloaded)."""
    stamp = time.time_ns() + 1_000_000
    os.utime(os.path.join(path, "saved_model.pb"), ns=(stamp, stamp))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("churn"))
    write_version(root, "m", 1, seed=0)
    write_version(root, "m", 2, seed=1)
    return root


def test_reloaded_or_deleted_version_closes_only_after_its_last_request(base):
    repository = ModelRepository(base, poll_wait_seconds=0).start()
    path = os.path.join(base, "m", "2")
    try:
        with repository.acquire("m", 2) as held:
            _touch(path)
            repository.poll()  # reloads version 2: a new servable takes new requests at once
            assert repository.get("m", 2) is not held
            assert not held.closed and held.in_use == 1
            held.predict("serving_default", {"latents": LATENTS})  # the request in flight still runs
        assert held.closed  # ... and the old version closed when it ended

        with repository.acquire("m", 2) as held:
            stash = path + ".moved"
            os.rename(path, stash)
            try:
                repository.poll()  # version 2 deleted from disk: 404 for new requests, in-flight ones finish
                with pytest.raises(Exception, match=r"Specific\(m, 2\)"):
                    repository.get("m", 2)
                held.predict("serving_default", {"latents": LATENTS})
                assert not held.closed
            finally:
                os.rename(stash, path)
        assert held.closed
    finally:
        repository.stop()


def test_version_number_beyond_int64_is_ignored_with_a_reason(tmp_path, caplog):
    write_version(str(tmp_path), "m", 1, seed=0)
    shutil.copytree(str(tmp_path / "m" / "1"), str(tmp_path / "m" / HUGE))
    caplog.set_level(logging.WARNING)
    with LocalModelServer(str(tmp_path), rest_port=0, grpc_port=0, poll_wait_seconds=0) as server:
        rest, grpc_client = RestClient(server.rest_url, 10), GrpcClient(server.grpc_target, 10)
        try:
            assert [s["version"] for s in rest.status("m")["model_version_status"]] == ["1"]
            assert grpc_client.predict("m", {"latents": LATENTS})["images"].shape[0] == 2  # unversioned: version 1
            assert rest.metadata("m")["model_spec"]["version"] == "1"
        finally:
            grpc_client.close()
    assert any(HUGE in r.getMessage() and "int64" in r.getMessage() for r in caplog.records), caplog.text


def test_unimplemented_grpc_methods_log_one_line_without_traceback(base, caplog):
    from tensorflow_serving.apis import classification_pb2, prediction_service_pb2_grpc, regression_pb2
    caplog.set_level(logging.INFO)
    with LocalModelServer(base, rest_port=None, grpc_port=0, poll_wait_seconds=0) as server:
        with grpc.insecure_channel(server.grpc_target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for method, request in ((stub.Classify, classification_pb2.ClassificationRequest()),
                                    (stub.Regress, regression_pb2.RegressionRequest())):
                with pytest.raises(grpc.RpcError) as error:
                    method(request, timeout=10)
                assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()], caplog.text
    assert sum("not implemented" in r.getMessage() for r in caplog.records) == 2, caplog.text


def test_requests_while_a_version_reloads_and_is_deleted_get_no_errors_but_404(base):
    """8 clients (REST + gRPC, on latest and on the churning version 2) while version 2 is reloaded or deleted."""
    path = os.path.join(base, "m", "2")
    stop, errors, counts = threading.Event(), [], {"ok": 0, "404": 0}
    lock = threading.Lock()

    def client(make, version):
        connection = make()
        try:
            while not stop.is_set():
                try:
                    connection.predict("m", {"latents": LATENTS}, version=version)
                    outcome = "ok"
                except ModelNotFoundError as e:  # the documented answer for a deleted version
                    outcome = "404" if version == 2 else f"{type(e).__name__}: {e}"
                except Exception as e:  # pylint: disable=broad-except
                    outcome = f"{type(e).__name__}: {e}"
                with lock:
                    if outcome in counts:
                        counts[outcome] += 1
                    else:
                        errors.append(outcome)
        finally:
            getattr(connection, "close", lambda: None)()

    with LocalModelServer(base, rest_port=0, grpc_port=0, poll_wait_seconds=0.1, threads=8) as server:
        makers = [lambda: RestClient(server.rest_url, 30), lambda: GrpcClient(server.grpc_target, 30)]
        threads = [threading.Thread(target=client, args=(makers[i % 2], (None, 2)[(i // 2) % 2]))
                   for i in range(8)]
        for thread in threads:
            thread.start()
        deadline, churns = time.monotonic() + 40, 0
        try:
            while time.monotonic() < deadline and (counts["ok"] + counts["404"] < 400 or churns < 8):
                if churns % 3 == 2:  # delete, then put back
                    os.rename(path, path + ".moved")
                    time.sleep(0.4)
                    os.rename(path + ".moved", path)
                else:
                    _touch(path)
                churns += 1
                time.sleep(0.4)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
    assert not errors, (len(errors), errors[:5], counts)
    assert counts["ok"] >= 200 and churns >= 8, (counts, churns)
