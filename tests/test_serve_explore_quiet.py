"""Issue #27 item 5: `tfgan explore` is a plain HTTP proxy (no TensorFlow, no absl/CUDA lines, no traceback on an odd
request line) and `tfgan serve` prints no TensorFlow lines by default.

The subprocesses run without TF_CPP_MIN_LOG_LEVEL, as a user's shell does.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from _serving_fixtures import free_port, wait_until, write_version  # noqa: E402

from tfgan_app.serving.explorer import ExplorerProxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOISE = ("I0000", "W0000", "E0000", "WARNING:tensorflow", "WARNING:absl", "absl::InitializeLog", "Traceback")


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GRPC_VERBOSITY")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


# Runs `tfgan explore ARGS`; once it serves, reports the heavy modules loaded and stops it like Ctrl-C.
_EXPLORE = """
import sys
from tfgan_app.cli import foreground
def serve_once(lines, stop):
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))  # TF Serving's protos: no TF
    print("\\n".join(lines)); print("HEAVY", heavy[:5], flush=True); stop(); return 0
foreground.run_until_interrupted = serve_once
from tfgan_app.cli.main import main
sys.exit(main(["tfgan", "explore"] + sys.argv[1:]))
"""


def _explore(*args):
    return subprocess.run([sys.executable, "-c", _EXPLORE, *args], env=_env(), capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_explore_imports_no_tensorflow_and_prints_no_log_lines(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "dcgan_mnist" base_path: "/models/dcgan_mnist" '
                      'model_platform: "tensorflow" } }\n')
    for args in (["--port=0", "--models=a,b"], ["--port=0", f"--models_config={config}"]):
        proc = _explore(*args)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "HEAVY []" in proc.stdout, proc.stdout
        assert "Explorer at http://127.0.0.1:" in proc.stdout and proc.stderr == "", proc.stderr[-2000:]
    bad = _explore("--server=notaurl")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1, bad.stderr


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in TF Serving REST API that answers 404 and records the paths it was asked for."""

    def do_GET(self):  # pylint: disable=invalid-name
        self.server.paths.append(self.path)
        body = json.dumps({"error": "Servable not found"}).encode()
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def test_explore_forwards_a_non_ascii_request_line_instead_of_failing(caplog):
    upstream = HTTPServer(("127.0.0.1", 0), _Upstream)
    upstream.paths = []
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    try:
        with ExplorerProxy(f"http://127.0.0.1:{upstream.server_address[1]}", port=0) as proxy:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as client:
                client.sendall(b"GET /v1/models/m\xe9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                reply = b""
                while chunk := client.recv(65536):
                    reply += chunk
    finally:
        upstream.shutdown()
        upstream.server_close()
    assert reply.startswith(b"HTTP/1.1 404"), reply[:200]
    assert upstream.paths == ["/v1/models/m%E9"]
    assert "Traceback" not in caplog.text


def test_serve_prints_no_tensorflow_lines_and_stops_on_sigterm(tmp_path):
    base = str(tmp_path / "export")
    write_version(base, "m", 1)
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgan_app.cli.main", "serve", f"--base={base}", f"--rest_port={free_port()}",
         "--grpc_port=0", "--file_system_poll_wait_seconds=0"], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        def serving():
            lines.append(process.stdout.readline().rstrip("\n"))
            return lines[-1].startswith("Press Ctrl-C")
        wait_until(serving, timeout=120, interval=0)
        process.send_signal(signal.SIGTERM)
        lines += process.communicate(timeout=60)[0].splitlines()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    noisy = [line for line in lines if line.startswith(NOISE)]
    assert process.returncode == 0 and not noisy, lines
    assert [line.split(" ")[0] for line in lines if line.strip()] == [
        "model", "Latent", "Serving.", "Press", "SIGTERM"], lines
