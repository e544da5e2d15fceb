"""`tfgan export --web`: the explorer runs the exported TFLite files in headless chromium with LiteRT.js,
from a plain static file server that answers every `/v1` request with 404 and records it.

Needs chromium + chromium-driver (as tests/test_explorer_browser.py) and LiteRT.js (`@litertjs/core`, installed
by `bash scripts/install.sh test`, or by the web export itself through npm): skipped without them, except
under CI (CI=true), where they fail.
"""

import functools
import json
import http.server
import os
import sys
import threading

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import NUM_CLASSES, tiny_conditional_generator, tiny_generator  # noqa: E402
from test_explorer_browser import (_canvas_pixels, _error, _matches, _renders, _wait, browser,  # noqa: E402,F401
                                   tiny_translator)

from tfgan_app.artifacts.tflite_runner import TFLiteGenerator  # noqa: E402
from tfgan_app.errors import MissingResourceError  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.serving import web  # noqa: E402

QUANTIZATIONS = ("float32", "int8")
LATENT_DIM = 8


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """A plain static host; any `/v1` request is answered 404 and recorded in `server.v1_requests`."""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _v1(self) -> bool:
        if "/v1" in self.path:
            self.server.v1_requests.append(f"{self.command} {self.path}")
            self.send_error(404)
            return True
        return False

    def do_GET(self):  # pylint: disable=invalid-name
        if not self._v1():
            super().do_GET()

    def do_POST(self):  # pylint: disable=invalid-name
        if not self._v1():
            self.send_error(405)


def _litert_or_skip():
    try:
        return web.ensure_litert_js()
    except MissingResourceError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(str(e))
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Web exports "plain" (latent), "cond" (3 classes) and "translator" (image-to-image) under one static
    host: (url of the host, {name: web dir}, {name: generator}, recorded /v1 requests)."""
    _litert_or_skip()
    base = str(tmp_path_factory.mktemp("export"))
    generators = {"plain": tiny_generator(), "cond": tiny_conditional_generator(), "translator": tiny_translator()}
    dirs = {}
    for name, generator in generators.items():
        classes = NUM_CLASSES if name == "cond" else None
        result = export_generator(generator, name, base, num_classes=classes, quantizations=QUANTIZATIONS)
        dirs[name] = web.write_web(result.version_dir, name, generator, classes, QUANTIZATIONS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_StaticHandler, directory=base))
    server.v1_requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", dirs, generators, server.v1_requests
    server.shutdown()
    server.server_close()


def _open(driver, host, name, query=""):
    """Opens `<host>/<name>/1/web/` (the page shows the model at once) and waits for its first image."""
    driver.get(f"{host}/{name}/1/web/{query}")
    canvas = "i2i-output" if name == "translator" else "output"
    if name != "translator":
        _wait(driver, lambda: _renders(driver, canvas) >= 1 or _error(driver), f"the first image of {name}")
        assert _error(driver) == ""


def _page_images(driver, name, values, precision, labels=None) -> np.ndarray:
    """The page's own LiteRT.js runner on `values` (latents or images): float32 images `[N, H, W, C]`."""
    result = driver.execute_async_script("""
        const [name, values, precision, labels, done] = arguments;
        const explorer = window.tfganExplorer;
        explorer.describe(name)
          .then((info) => explorer.device.run(info, values, {labels: labels}, precision))
          .then((images) => done(images), (e) => done("error: " + e.message));
    """, name, np.asarray(values).tolist(), precision, labels)
    assert not isinstance(result, str), result
    return np.asarray(result, np.float32)


def _python(web_dir, name, precision, values, labels=None) -> np.ndarray:
    """Python LiteRT on the web's (batch-1) file, one input at a time."""
    runner = TFLiteGenerator(os.path.join(web_dir, "explorer", "models", name, f"generator_{precision}.tflite"))
    values = np.asarray(values, np.float32)
    return np.concatenate([runner(values[i:i + 1], None if labels is None else np.asarray(labels)[i:i + 1])
                           for i in range(len(values))])


def _latent(seed):
    return sample_latents(1, LATENT_DIM, seed).numpy()


def test_page_latents_are_the_library_latents(browser, site):
    host, _, _, v1_requests = site
    _open(browser, host, "plain")
    for seed, dim in ((0, 8), (7, 100), (2147483647, 64), (12345, 3)):
        page = np.asarray(browser.execute_script("return window.tfganExplorer.latentFor(arguments[0], arguments[1]);",
                                                 seed, dim), np.float32)
        # Philox is integer-exact; Box-Muller's log / sin / cos agree to float32 rounding.
        np.testing.assert_allclose(page, sample_latents(1, dim, seed).numpy()[0], rtol=0, atol=5e-7)
    assert v1_requests == []


def test_latent_export_generates_on_device_as_python_litert(browser, site):
    host, dirs, _, v1_requests = site
    _open(browser, host, "plain")
    status = browser.find_element("id", "status").text
    assert "seed 0" in status and " ms" in status and "LiteRT.js" in status and "float32" in status, status
    python = _python(dirs["plain"], "plain", "float32", _latent(0))
    assert _matches(_canvas_pixels(browser), to_uint8(python)[0, ..., 0])
    latents = np.concatenate([_latent(seed) for seed in range(3)])
    page = _page_images(browser, "plain", latents, "float32")
    assert np.abs(page - _python(dirs["plain"], "plain", "float32", latents)).max() <= 1e-4
    # ... and the web's batch-1 file is the export's own float32 file (dynamic batch), to float rounding.
    exported = TFLiteGenerator(os.path.join(os.path.dirname(dirs["plain"]), "tflite", "generator_float32.tflite"))
    assert np.abs(page - exported(latents)).max() <= 1e-4
    assert v1_requests == []


def test_truncation_on_device_scales_the_latent(browser, site):
    host, dirs, _, v1_requests = site
    _open(browser, host, "plain")
    assert browser.find_element("id", "truncation-row").is_displayed()
    browser.execute_script("const t = document.getElementById('truncation'); t.value = '0.5';"
                           "t.dispatchEvent(new Event('input'));")
    truncated = (_latent(0) * np.float32(0.5)).astype(np.float32)  # GAN.generate(truncation=0.5)
    expected = to_uint8(_python(dirs["plain"], "plain", "float32", truncated))[0, ..., 0]
    _wait(browser, lambda: _matches(_canvas_pixels(browser), expected), "the psi = 0.5 image")
    assert v1_requests == []


def test_int8_on_device_matches_its_python_counterpart(browser, site):
    host, dirs, _, v1_requests = site
    _open(browser, host, "plain", "?precision=int8")
    assert "int8" in browser.find_element("id", "status").text
    latents = np.concatenate([_latent(seed) for seed in range(4)])
    python = _python(dirs["plain"], "plain", "int8", latents)
    page = _page_images(browser, "plain", latents, "int8")
    step = TFLiteGenerator(os.path.join(dirs["plain"], "explorer", "models", "plain",
                                        "generator_int8.tflite")).quantization_params()["images"][0]
    assert step > 0
    assert np.abs(page - python).max() <= step + 1e-6  # XNNPack's int8 kernels: at most one level apart
    assert _matches(_canvas_pixels(browser), to_uint8(python[:1])[0, ..., 0])
    assert v1_requests == []


def test_conditional_export_follows_the_class_picker(browser, site):
    host, dirs, _, v1_requests = site
    _open(browser, host, "cond")
    assert browser.find_element("id", "class-row").is_displayed()
    browser.execute_script("const c = document.getElementById('class-id'); c.value = '2';"
                           "c.dispatchEvent(new Event('input'));")
    expected = to_uint8(_python(dirs["cond"], "cond", "float32", _latent(0), np.array([2])))[0, ..., 0]
    _wait(browser, lambda: _matches(_canvas_pixels(browser), expected), "the class-2 image")
    latents = np.concatenate([_latent(1)] * NUM_CLASSES)
    labels = list(range(NUM_CLASSES))
    page = _page_images(browser, "cond", latents, "float32", labels)
    assert np.abs(page - _python(dirs["cond"], "cond", "float32", latents, np.array(labels))).max() <= 1e-4
    # The slerp strip is drawn on device too (8 steps between seeds 0 and 1).
    _wait(browser, lambda: len(browser.find_elements("css selector", "#strip canvas")) == 8, "the slerp strip")
    assert v1_requests == []


def test_image_to_image_export_translates_an_upload_on_device(browser, site, tmp_path):
    host, dirs, _, v1_requests = site
    _open(browser, host, "translator")
    grey = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    path = str(tmp_path / "input.png")
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(path)
    browser.find_element("id", "upload").send_keys(path)
    _wait(browser, lambda: _renders(browser, "i2i-output") >= 1 or _error(browser), "the translation")
    assert _error(browser) == ""
    # The page's model input: grey as tf.image.rgb_to_grayscale, x / 127.5 - 1.
    pixels = grey.astype(np.float64)
    image = ((0.2989 * pixels + 0.587 * pixels + 0.114 * pixels) / 127.5 - 1).astype(np.float32)[None, ..., None]
    python = _python(dirs["translator"], "translator", "float32", image)
    assert _matches(_canvas_pixels(browser, "i2i-output"), to_uint8(python)[0, ..., 0])
    page = _page_images(browser, "translator", image, "float32")
    assert np.abs(page - python).max() <= 1e-4
    assert "LiteRT.js" in browser.find_element("id", "status").text
    assert v1_requests == []


def test_web_folder_is_self_contained(site):
    _, dirs, _, _ = site
    folder = dirs["plain"]
    for relative in ("index.html", "explorer/explorer.js", "explorer/latents.js", "explorer/models.json",
                     "explorer/litert/core.js", "explorer/litert/wasm-utils.js", "explorer/litert/LICENSE.txt",
                     "explorer/litert/wasm/litert_wasm_internal.wasm", "explorer/models/plain/generator.json"):
        assert os.path.isfile(os.path.join(folder, relative)), relative
    html = open(os.path.join(folder, "index.html")).read()
    assert 'src="explorer/explorer.js"' in html and '"/explorer/' not in html  # works from any folder
    core = open(os.path.join(folder, "explorer", "litert", "core.js")).read()
    assert "@litertjs/wasm-utils" not in core and "Int8Array" in core
    assert "Apache" in open(os.path.join(folder, "explorer", "litert", "LICENSE.txt")).read()


def test_export_command_web_flag(tmp_path, capsys):
    from _export_fixtures import write_run_dir  # pylint: disable=import-outside-toplevel
    from tfgan_app.cli.main import main  # pylint: disable=import-outside-toplevel
    run_dir = write_run_dir(str(tmp_path / "run"), conditional=True, name="tiny")
    base = str(tmp_path / "export")
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--web", "--tflite="]) == 2
    err = capsys.readouterr().err
    assert "--web" in err and "Traceback" not in err and not os.path.exists(os.path.join(base, "tiny"))
    _litert_or_skip()
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--web", "--tflite=float32"]) == 0
    web_dir = os.path.join(base, "tiny", "1", "web")
    assert f"Web: {web_dir}" in capsys.readouterr().out
    with open(os.path.join(web_dir, "explorer", "models.json")) as f:
        assert json.load(f) == {"models": ["tiny"], "device": {"tiny": "models/tiny/"}}
    with open(os.path.join(web_dir, "explorer", "models", "tiny", "generator.json")) as f:
        sidecar = json.load(f)
    assert sidecar["num_classes"] == NUM_CLASSES and list(sidecar["files"]) == ["float32"]
    assert sidecar["batch_size"] == 1
