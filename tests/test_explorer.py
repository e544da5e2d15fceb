"""The explorer's static files, their hook in `tfgan serve`'s REST port, and the `tfgan explore` proxy
(no browser; tests/test_explorer_browser.py drives the page in chromium)."""

import http.client
import json
import time
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, keras_images, tiny_generator  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.errors import UsageError  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.serving import LocalModelServer, RestClient  # noqa: E402
from tfgan_app.serving.explorer import (FILES, MAX_BODY_BYTES, STATIC_DIR, ExplorerProxy,  # noqa: E402
                                        models_from_config, static_response)

TIMEOUT = 20.0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Model "tiny" exported and served over REST on a free loopback port; yields (server, generator)."""
    base = str(tmp_path_factory.mktemp("export"))
    generator = tiny_generator()
    export_generator(generator, "tiny", base, quantizations=())
    with LocalModelServer(base, rest_port=0, grpc_port=None, poll_wait_seconds=0.5) as server:
        yield server, generator


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_static_response_serves_only_the_explorer_files():
    for path in ("/", "/explorer", "/explorer/", "/explorer/index.html?model=x"):
        status, content_type, body = static_response(path, [])
        assert (status, content_type) == (200, "text/html; charset=utf-8")
        assert b'<script src="/explorer/explorer.js">' in body
    for name, content_type in FILES.items():
        with open(os.path.join(STATIC_DIR, name), "rb") as f:
            assert static_response(f"/explorer/{name}", []) == (200, content_type, f.read())
    assert sorted(os.listdir(STATIC_DIR)) == sorted(FILES)  # every shipped file is reachable, no stray file
    for path in ("/explorer/../explorer.py", "/explorer/..%2Fexplorer.py", "/explorer/%2e%2e/server.py",
                 "/explorer//etc/passwd", "/explorer/explorer", "/explorer/sub/index.html"):
        status, _, body = static_response(path, [])
        assert status == 404, path
        assert b"import" not in body
    for path in ("/v1/models/x", "/v1/models/x/metadata", "/explorerx", "/favicon.ico"):
        assert static_response(path, []) is None, path


def test_models_json_lists_the_names_and_calls_a_function_only_for_it():
    calls = []

    def names():
        calls.append(1)
        return ["b", "a"]
    static_response("/", names)
    assert calls == []
    status, content_type, body = static_response("/explorer/models.json", names)
    assert (status, content_type, json.loads(body)) == (200, "application/json", {"models": ["b", "a"]})
    assert calls == [1]


def test_serve_rest_port_hosts_the_page_and_the_api(served):
    server, generator = served
    status, headers, body = _get(server.rest_url + "/")
    assert status == 200 and b"tfgan latent explorer" in body
    assert headers["X-Content-Type-Options"] == "nosniff" and "default-src 'self'" in headers["Content-Security-Policy"]
    status, headers, body = _get(server.rest_url + "/explorer/explorer.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and b"/v1/models/" in body
    assert json.loads(_get(server.rest_url + "/explorer/models.json")[2]) == {"models": ["tiny"]}
    assert _get(server.rest_url + "/explorer/nothing.js")[0] == 404
    assert _get(server.rest_url + "/nothing")[0] == 404  # still the REST API's "malformed request"
    latents = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype(np.float32)
    np.testing.assert_allclose(RestClient(server.rest_url, TIMEOUT).predict("tiny", {"latents": latents})["images"],
                               keras_images(generator, latents), atol=1e-6)


def test_models_json_follows_new_exports_without_restart(served, tmp_path):
    server, _ = served
    base = server.repository.base_dir
    export_generator(tiny_generator(seed=1), "later", base, quantizations=())
    # The page lists what the server has found: the repository poller picks the new export up.
    deadline = time.monotonic() + 60
    names = []
    while "later" not in names and time.monotonic() < deadline:
        names = json.loads(_get(server.rest_url + "/explorer/models.json")[2])["models"]
        time.sleep(0.2)
    assert "later" in names and "tiny" in names
    config_names = models_from_config(os.path.join(base, "models.config"))  # what `tfgan explore` would list
    assert "later" in config_names and "tiny" in config_names


def test_proxy_forwards_the_rest_api(served):
    server, generator = served
    with ExplorerProxy(server.rest_url, models=["tiny"], port=0) as proxy:
        assert json.loads(_get(proxy.url + "explorer/models.json")[2]) == {"models": ["tiny"]}
        assert b"tfgan latent explorer" in _get(proxy.url)[2]
        client = RestClient(proxy.url.rstrip("/"), TIMEOUT)
        latents = np.random.default_rng(1).normal(size=(3, LATENT_DIM)).astype(np.float32)
        np.testing.assert_allclose(client.predict("tiny", {"latents": latents})["images"],
                                   keras_images(generator, latents), atol=1e-6)
        assert client.status("tiny") == RestClient(server.rest_url, TIMEOUT).status("tiny")
        status, _, body = _get(proxy.url + "v1/models/missing")
        assert status == 404 and "missing" in json.loads(body)["error"]  # the upstream's status and message
        status, _, body = _get(proxy.url + "elsewhere")
        assert status == 404 and "/v1/" in json.loads(body)["error"]


def test_proxy_rejects_oversized_bodies_and_keeps_serving(served):
    server, _ = served
    with ExplorerProxy(server.rest_url, port=0) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=TIMEOUT)
        connection.putrequest("POST", "/v1/models/tiny:predict")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        reply = connection.getresponse()
        assert reply.status == 400 and "at most" in json.loads(reply.read())["error"]
        connection.close()
        assert _get(proxy.url + "v1/models/tiny")[0] == 200


def test_proxy_reports_a_down_server_as_502():
    dead = f"http://127.0.0.1:{_free_port()}"
    with ExplorerProxy(dead, port=0, timeout=5) as proxy:
        status, _, body = _get(proxy.url + "v1/models/tiny/metadata")
        assert status == 502
        assert f"Cannot reach the TF Serving REST API at {dead}" in json.loads(body)["error"]


def test_explore_arguments_are_checked(tmp_path, capsys):
    for bad in ("127.0.0.1:8501", "ftp://host:1", "http://host:1/v1/models", ""):
        with pytest.raises(UsageError, match="http://HOST:PORT"):
            ExplorerProxy(bad)
    assert main(["tfgan", "explore", "--server=localhost:8501"]) == 2
    assert "http://HOST:PORT" in capsys.readouterr().err
    assert main(["tfgan", "explore", "--models=a", f"--models_config={tmp_path}/models.config"]) == 2
    assert "either --models or --models_config" in capsys.readouterr().err
    assert main(["tfgan", "explore", "--models=../x"]) == 2
    assert "model name" in capsys.readouterr().err
    (tmp_path / "bad.config").write_text("model_config_list { nonsense")
    assert main(["tfgan", "explore", f"--models_config={tmp_path}/bad.config"]) == 2
    assert "ModelServerConfig" in capsys.readouterr().err



@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run latents.js outside a browser")
def test_page_latents_js_is_sample_latents():
    """latents.js (the page's seed -> latent) reproduces `sample_latents` (TF's stateless Philox normal)."""
    script = ("require(process.argv[1]); const out = {};"
              "for (const [num, dim, seed] of JSON.parse(process.argv[2]))"
              "  out[`${num},${dim},${seed}`] = Array.from(globalThis.tfganLatents.sampleLatents(num, dim, seed));"
              "console.log(JSON.stringify(out));")
    cases = [(1, 8, 0), (1, 100, 7), (3, 64, 12345), (2, 7, 2147483647), (1, 128, 99999)]
    done = subprocess.run(["node", "-e", script, os.path.join(STATIC_DIR, "latents.js"), json.dumps(cases)],
                          capture_output=True, text=True, check=True, timeout=60)
    page = json.loads(done.stdout)
    for num, dim, seed in cases:
        expected = sample_latents(num, dim, seed).numpy().ravel()
        js = np.asarray(page[f"{num},{dim},{seed}"], np.float32)
        # Philox bits are integer-exact; log / sin / cos may differ in the last float32 bit.
        np.testing.assert_allclose(js, expected, rtol=0, atol=5e-7)
        assert (js == expected).mean() > 0.9
