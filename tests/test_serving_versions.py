"""Issue #14, version management: `tfgan serve` behaves like TF Serving's AspiredVersionsManager when versions
break, change or disappear (a real `tfgan serve` process on loopback ports), and the repository polls in the
background instead of on the request path."""

import os
import shutil
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM  # noqa: E402
from _serving_fixtures import images, start_serve, stop, wait_until, write_version  # noqa: E402

from tfgan_app.serving import GrpcClient, ModelNotFoundError, RestClient  # noqa: E402
from tfgan_app.serving import repository as repository_module  # noqa: E402
from tfgan_app.serving.repository import ModelRepository  # noqa: E402

LATENTS = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype(np.float32)


def _states(rest, name="m"):
    return {int(s["version"]): s for s in rest.status(name)["model_version_status"]}


def _serves(client, generator, version=None) -> bool:
    out = client.predict("m", {"latents": LATENTS}, version=version)["images"]
    return np.allclose(out, images(generator, LATENTS), atol=1e-6)


def _truncate(path: str, keep: int = 100) -> None:
    with open(path, "r+b") as f:
        f.truncate(keep)


def test_serve_process_survives_broken_changed_and_deleted_versions(tmp_path):
    base = str(tmp_path / "export")
    good = write_version(base, "m", 1, seed=0)
    shutil.copytree(os.path.join(base, "m", "1"), os.path.join(base, "m", "3"))
    _truncate(os.path.join(base, "m", "3", "saved_model.pb"))  # broken newest version on disk at start
    process, rest_port, grpc_port = start_serve(base, "--file_system_poll_wait_seconds=0.3")
    rest, grpc_client = RestClient(f"http://127.0.0.1:{rest_port}", 10), GrpcClient(f"127.0.0.1:{grpc_port}", 10)
    try:
        states = wait_until(lambda: _states(rest), process=process)
        # 1. The server started, serves the last good version and reports the broken one (state END + error).
        assert states[1]["state"] == "AVAILABLE" and states[1]["status"]["error_code"] == "OK"
        assert states[3]["state"] == "END" and states[3]["status"]["error_code"] != "OK"
        message = states[3]["status"]["error_message"]
        assert "version 3" in message and base not in message and str(tmp_path) not in message
        assert _serves(rest, good) and _serves(grpc_client, good)
        assert rest.metadata("m")["model_spec"]["version"] == "1"
        with pytest.raises(ModelNotFoundError, match=r"Specific\(m, 3\)"):
            rest.predict("m", {"latents": LATENTS}, version=3)

        # 1. A version whose variables/ is still being copied: END, then AVAILABLE once the copy completes.
        staging = str(tmp_path / "staging")
        newer = write_version(staging, "m", 4, seed=2)
        source, target = os.path.join(staging, "m", "4"), os.path.join(base, "m", "4")
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("variables.data*"))
        data = [n for n in os.listdir(os.path.join(source, "variables")) if n.startswith("variables.data")][0]
        with open(os.path.join(source, "variables", data), "rb") as f:
            head = f.read()
        with open(os.path.join(target, "variables", data), "wb") as f:
            f.write(head[:len(head) // 3])
        wait_until(lambda: _states(rest)[4]["state"] == "END", process=process)
        assert _serves(rest, good)  # unversioned requests stay on the highest AVAILABLE version
        shutil.copy(os.path.join(source, "variables", data), os.path.join(target, "variables", data))
        wait_until(lambda: _states(rest)[4]["state"] == "AVAILABLE", process=process)
        assert _serves(rest, newer) and _serves(grpc_client, newer)

        # 2. A version replaced in place is reloaded (no stale weights); a deleted version is unloaded.
        shutil.rmtree(os.path.join(base, "m", "1"))
        replaced = write_version(base, "m", 1, seed=5)
        wait_until(lambda: _serves(rest, replaced, version=1), process=process)
        shutil.rmtree(target)
        wait_until(lambda: 4 not in _states(rest), process=process)
        with pytest.raises(ModelNotFoundError):
            grpc_client.predict("m", {"latents": LATENTS}, version=4)
        assert _serves(rest, replaced) and _states(rest)[3]["state"] == "END"

        # A repaired version 3 (its folder changed) is retried and becomes the newest AVAILABLE version.
        shutil.rmtree(os.path.join(base, "m", "3"))
        repaired = write_version(base, "m", 3, seed=6)
        wait_until(lambda: _states(rest)[3]["state"] == "AVAILABLE", process=process)
        assert _serves(rest, repaired) and _serves(grpc_client, repaired)
        assert process.poll() is None
    finally:
        grpc_client.close()
        output = stop(process)
    assert "Traceback" not in output, output[-3000:]


def test_failed_version_is_retried_only_when_its_folder_changes(tmp_path, monkeypatch):
    base = str(tmp_path)
    write_version(base, "m", 1, seed=0)
    shutil.copytree(os.path.join(base, "m", "1"), os.path.join(base, "m", "2"))
    _truncate(os.path.join(base, "m", "2", "saved_model.pb"))
    loads = []
    original = repository_module.ServableVersion

    def counting(name, version, *args, **kwargs):
        loads.append(version)
        return original(name, version, *args, **kwargs)
    monkeypatch.setattr(repository_module, "ServableVersion", counting)
    repository = ModelRepository(base, poll_wait_seconds=0).start()
    try:
        for _ in range(3):
            repository.poll()
        assert sorted(loads) == [1, 2]  # neither the good nor the broken version is loaded again
        assert repository.get("m").version == 1
        [state] = repository.status("m", 2)
        assert state.state == "END" and state.error_code != "OK"
        shutil.rmtree(os.path.join(base, "m", "2"))
        write_version(base, "m", 2, seed=1)
        repository.poll()
        assert sorted(loads) == [1, 2, 2] and repository.get("m").version == 2
    finally:
        repository.stop()


def test_deleted_version_releases_its_session(tmp_path):
    base = str(tmp_path)
    write_version(base, "m", 1, seed=0)
    write_version(base, "m", 2, seed=1)
    repository = ModelRepository(base, poll_wait_seconds=0).start()
    try:
        servable = repository.get("m", 2)
        shutil.rmtree(os.path.join(base, "m", "2"))
        repository.poll()
        assert servable._session._closed  # pylint: disable=protected-access  # the version's memory is freed
        assert [s.version for s in repository.status("m")] == [1] and repository.get("m").version == 1
    finally:
        repository.stop()


def test_requests_never_scan_the_folder_the_poller_does(tmp_path):
    base = str(tmp_path)
    write_version(base, "m", 1, seed=0)
    repository = ModelRepository(base, poll_wait_seconds=0).start()  # scans once, at start
    try:
        write_version(base, "m", 2, seed=1)
        for _ in range(20):
            repository.get("m").predict("serving_default", {"latents": LATENTS})
            repository.status("m")
        assert repository.polls == 1 and repository.get("m").version == 1
    finally:
        repository.stop()
    polled = ModelRepository(base, poll_wait_seconds=0.2).start()
    try:
        write_version(base, "m", 3, seed=2)
        wait_until(lambda: polled.get("m").version == 3, timeout=60)  # found by the background thread
    finally:
        polled.stop()


def test_negative_poll_wait_is_an_error(tmp_path):
    from tfgan_app.errors import UsageError
    with pytest.raises(UsageError, match="file_system_poll_wait_seconds"):
        ModelRepository(str(tmp_path), poll_wait_seconds=-1)


def test_version_that_tf_servings_session_loader_rejects_is_not_served(tmp_path):
    """Issue #19 item 3: a SavedModel the TF2 object loader accepts but TF Serving's C++ LoadSavedModel (TF1
    session semantics) rejects - `tf.saved_model.save` of a `tf.Module` wrapping a Keras model with BatchNorm -
    must be END here too, not AVAILABLE: its warm-up replay through the session fails the load, as in TF Serving."""
    import tensorflow as tf
    from _export_fixtures import tiny_generator
    from tfgan_app.export.savedmodel import make_module
    from tfgan_app.export.warmup import write_warmup
    base = str(tmp_path)
    good = write_version(base, "m", 1, seed=0)
    module = make_module(tiny_generator(seed=1))  # the export as written before the issue #19 fix
    tf.saved_model.save(module, os.path.join(base, "m", "2"), signatures=module.signatures())
    write_warmup(os.path.join(base, "m", "2"), "m", module.metadata())  # as every export has
    assert tf.saved_model.load(os.path.join(base, "m", "2")).signatures["serving_default"](
        latents=tf.constant(LATENTS))["images"].shape == (2, 8, 8, 1)  # the lenient TF2 loader runs it
    repository = ModelRepository(base, poll_wait_seconds=0).start()
    try:
        [state] = repository.status("m", 2)
        assert state.state == "END" and state.error_code == "FAILED_PRECONDITION", state
        assert "Could not find variable" in state.error_message
        servable = repository.get("m")
        assert servable.version == 1
        np.testing.assert_allclose(servable.predict("serving_default", {"latents": LATENTS})["images"],
                                   images(good, LATENTS), atol=1e-6)
    finally:
        repository.stop()


def test_grpc_status_reports_load_errors_like_rest(tmp_path):
    base = str(tmp_path)
    write_version(base, "m", 1, seed=0)
    shutil.copytree(os.path.join(base, "m", "1"), os.path.join(base, "m", "2"))
    _truncate(os.path.join(base, "m", "2", "saved_model.pb"))
    from tfgan_app.serving import LocalModelServer
    with LocalModelServer(base, rest_port=0, grpc_port=0, poll_wait_seconds=0) as server:
        rest, grpc_client = RestClient(server.rest_url, 10), GrpcClient(server.grpc_target, 10)
        try:
            assert grpc_client.status("m") == rest.status("m")
            [broken] = grpc_client.status("m", version=2)["model_version_status"]
            assert broken["state"] == "END" and broken["status"]["error_code"] == "DATA_LOSS", broken
            assert "saved_model.pb" in broken["status"]["error_message"]
        finally:
            grpc_client.close()
