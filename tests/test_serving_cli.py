"""`tfgan serve` as a real process: hosts an export folder until stopped."""

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, keras_images, tiny_generator  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.serving import GrpcClient, RestClient, ServerUnavailableError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_hosts_the_export_folder(tmp_path):
    generator = tiny_generator()
    export_generator(generator, "tiny", str(tmp_path), quantizations=())
    rest_port, grpc_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgan_app.cli.main", "serve", f"--base={tmp_path}", f"--rest_port={rest_port}",
         f"--grpc_port={grpc_port}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        rest = RestClient(f"http://127.0.0.1:{rest_port}", timeout=5)
        deadline = time.monotonic() + 90
        while True:
            try:
                rest.status("tiny")
                break
            except ServerUnavailableError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"tfgan serve did not come up: {process.communicate(timeout=10)[0]}")
                time.sleep(0.5)
        latents = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype(np.float32)
        expected = keras_images(generator, latents)
        np.testing.assert_allclose(rest.predict("tiny", {"latents": latents})["images"], expected, atol=1e-6)
        grpc_client = GrpcClient(f"127.0.0.1:{grpc_port}", timeout=5)
        np.testing.assert_allclose(grpc_client.predict("tiny", {"latents": latents})["images"], expected, atol=1e-6)
        grpc_client.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_without_models_is_an_error(tmp_path, capsys):
    # Port 0 for both: the server binds before it looks for models, and the default ports (8500/8501)
    # may be taken by a `tfgan serve` or TF Serving running on this machine.
    assert main(["tfgan", "serve", f"--base={tmp_path}", "--rest_port=0", "--grpc_port=0"]) == 2
    assert "tfgan export" in capsys.readouterr().err
