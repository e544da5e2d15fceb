"""The latent explorer in a real browser: headless chromium (Debian `chromium` + `chromium-driver`) driven by
selenium, on `tfgan serve`'s REST port (an in-process `LocalModelServer` on a loopback port).

`bash scripts/install.sh test` installs the browser as root. Without it these tests are skipped with the
reason, except under CI (CI=true), where a missing browser fails them.
"""

import base64
import io
import json
import os
import shutil
import socket
import sys
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (NUM_CLASSES, keras_images, text_vocabulary, tiny_conditional_generator,  # noqa: E402
                              tiny_generator, tiny_text_generator)

from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.export.savedmodel import GeneratorModule  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents, slerp  # noqa: E402
from tfgan_app.serving import LocalModelServer, RestClient  # noqa: E402
from tfgan_app.serving.explorer import ExplorerProxy  # noqa: E402

WAIT = 30.0
DIRECTION_RANGE = 3.0  # explorer.js: sliders span [-3, 3]
DIRECTION_SEED = 0x0D1EC7  # explorer.js: the first latent direction is latentFor(DIRECTION_SEED) normalised


def _browser():
    """(chromium, chromedriver) paths, or skip (fail under CI) with what is missing."""
    missing = []
    try:
        import selenium  # noqa: F401  # pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        missing.append("the selenium package (pip install -e .[test])")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    if not binary:
        missing.append("a chromium browser")
    if not driver:
        missing.append("chromedriver (Debian chromium-driver)")
    if missing:
        reason = f"browser test needs {', '.join(missing)}: run `bash scripts/install.sh test` as root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binary, driver


@pytest.fixture(scope="module")
def browser():
    binary, driver_path = _browser()
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1000,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def tiny_translator() -> keras.Model:
    """8x8x1 -> Conv2D(same) -> tanh -> 8x8x1 (an image-to-image generator)."""
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 8, 1))
    return keras.Model(x, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x))


class _Doubler(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def double(self, x):
        return {"y": 2.0 * x}


class _Truncated(tf.Module):
    """A latent model whose `serving_default` takes a scalar `truncation` psi (scales the latents here)."""

    def __init__(self, generator: keras.Model):
        super().__init__()
        self.generator = generator

    @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="latents"),
                                  tf.TensorSpec([], tf.float32, name="truncation")])
    def serving_default(self, latents, truncation):
        return {"images": self.generator(latents * truncation, training=False)}


class _StatedClasses(tf.Module):
    """A conditional model with no label check (the page cannot probe it) and a `class_ids` signature of 5 ids.

    No variables: a `tf.Module` holding a Keras model fails the session-semantics load (issue 19).
    """

    @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="latents"),
                                  tf.TensorSpec([None], tf.int32, name="labels")])
    def serving_default(self, latents, labels):
        shift = tf.cast(labels, tf.float32)[:, None] / 5.0
        return {"images": tf.reshape(tf.tanh(tf.tile(latents + shift, [1, 8])), [-1, 8, 8, 1])}

    @tf.function(input_signature=[])
    def class_ids(self):
        return {"class_ids": tf.range(5, dtype=tf.int32)}


def _write_archive(path: str, **endpoints) -> None:
    """Writes `endpoints` (name -> tf.function with an input signature) with `keras.export.ExportArchive`."""
    archive = keras.export.ExportArchive()
    for name, function in endpoints.items():
        archive.add_endpoint(name, function)
    archive.write_out(path, verbose=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Models "plain", "cond" (3 classes), "stated" (5 classes stated by its class_ids signature),
    "translator", "text" (captions), "truncated" (a truncation input),
    "seeded" (generate_png only) and "odd" (a signature the page does not know)."""
    base = str(tmp_path_factory.mktemp("export"))
    generators = {"plain": tiny_generator(), "cond": tiny_conditional_generator(), "translator": tiny_translator()}
    export_generator(generators["plain"], "plain", base, quantizations=())
    export_generator(generators["cond"], "cond", base, num_classes=NUM_CLASSES, quantizations=())
    export_generator(generators["translator"], "translator", base, quantizations=())
    export_generator(tiny_text_generator(), "text", base, quantizations=(), vocabulary=text_vocabulary())
    seeded = GeneratorModule(generators["plain"])  # only generate_png: the page's seed-only view
    _write_archive(os.path.join(base, "seeded", "1"), generate_png=seeded.generate_png)
    odd, truncated = _Doubler(), _Truncated(generators["plain"])
    tf.saved_model.save(odd, os.path.join(base, "odd", "1"), signatures={"double": odd.double})
    # Functions that capture Keras weights go through ExportArchive, as the exporter does: a plain
    # tf.saved_model.save of them fails TF Serving's session load (issue 19), and so `tfgan serve`.
    _write_archive(os.path.join(base, "truncated", "1"), serving_default=truncated.serving_default)
    stated = _StatedClasses()
    tf.saved_model.save(stated, os.path.join(base, "stated", "1"),
                        signatures={"serving_default": stated.serving_default, "class_ids": stated.class_ids})
    with LocalModelServer(base, rest_port=0, grpc_port=None) as server:
        yield server, generators


# ---------------------------------------------------------------- the page's latents, in Python
def page_gaussian(seed: int, dim: int) -> np.ndarray:
    """explorer.js's `latentFor(seed, dim)`: the library's `sample_latents(1, dim, seed)` (latents.js)."""
    return sample_latents(1, dim, seed).numpy()[0].astype(np.float64)


# ---------------------------------------------------------------- page helpers
def _wait(driver, condition, message):
    from selenium.webdriver.support.ui import WebDriverWait  # pylint: disable=import-outside-toplevel
    return WebDriverWait(driver, WAIT).until(lambda d: condition(), message)


def _renders(driver, canvas_id="output") -> int:
    return int(driver.find_element("id", canvas_id).get_attribute("data-renders"))


def _canvas_pixels(driver, canvas_id="output", selector=None) -> np.ndarray:
    """The canvas as the browser shows it, decoded from its PNG (HxWx4 uint8); `selector`: a CSS selector
    instead of the id."""
    selector = selector or f"#{canvas_id}"
    url = driver.execute_script(f"return document.querySelector('{selector}').toDataURL('image/png');")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def _error(driver) -> str:
    banner = driver.find_element("id", "error")
    return banner.text if banner.is_displayed() else ""


def _pick_model(driver, url, name):
    from selenium.webdriver.support.ui import Select  # pylint: disable=import-outside-toplevel
    driver.get(url)
    select = driver.find_element("id", "model-select")
    _wait(driver, lambda: name in [o.get_attribute("value") for o in Select(select).options],
          f"{name} in the model list")
    Select(select).select_by_value(name)


def _grey(pixels: np.ndarray) -> np.ndarray:
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 3] == 255).all()
    return pixels[..., 0].astype(int)


def _matches(shown: np.ndarray, expected: np.ndarray, tolerance: int = 1) -> bool:
    """Equal up to `tolerance` grey levels, and exactly equal in nearly every pixel (float32 vs float64
    rounding may move a value sitting on a .5 boundary)."""
    difference = np.abs(_grey(shown) - expected.astype(int))
    return difference.max() <= tolerance and (difference != 0).mean() < 0.05


def test_slider_moves_show_a_new_generated_image(browser, served):
    from selenium.webdriver.common.keys import Keys  # pylint: disable=import-outside-toplevel
    server, generators = served
    _pick_model(browser, server.rest_url + "/", "plain")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == ""
    first = _canvas_pixels(browser)
    latent = page_gaussian(0, 8)
    expected = to_uint8(keras_images(generators["plain"], latent[None].astype(np.float32)))[0, ..., 0]
    assert _matches(first, expected)  # seed 0, sliders at 0: G(z) with z from the page
    assert first[..., 0].std() > 0  # not blank

    rendered = _renders(browser)
    browser.find_element("id", "direction-0").send_keys(Keys.END)  # the user drags direction 1 to +3
    _wait(browser, lambda: _renders(browser) > rendered or _error(browser), "a new image after the slider moved")
    assert _error(browser) == ""
    moved = _canvas_pixels(browser)
    direction = page_gaussian(DIRECTION_SEED, 8)
    shifted = latent + DIRECTION_RANGE * direction / np.linalg.norm(direction)
    expected = to_uint8(keras_images(generators["plain"], shifted[None].astype(np.float32)))[0, ..., 0]
    assert moved[..., 0].std() > 0
    assert (moved != first).any()
    assert _matches(moved, expected)
    _wait(browser, lambda: len(browser.find_elements("css selector", "#strip canvas")) == 8, "the slerp strip")
    path = slerp(page_gaussian(0, 8), page_gaussian(1, 8), 8)  # seed 0 -> seed 1 (the page's defaults)
    expected = to_uint8(keras_images(generators["plain"], path))[..., 0]
    for i in range(8):
        assert _matches(_canvas_pixels(browser, selector=f"#strip canvas:nth-child({i + 1})"), expected[i]), i


def test_class_picker_of_a_conditional_model(browser, served):
    server, generators = served
    _pick_model(browser, server.rest_url + "/", "cond")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == ""
    assert browser.find_element("id", "class-count").text == f"0 .. {NUM_CLASSES - 1}"  # found by the page
    versions = browser.find_elements("css selector", "#version-select option")
    assert [v.get_attribute("value") for v in versions] == ["", "1"]  # "latest", then the served versions
    assert not browser.find_element("id", "truncation-row").is_displayed()  # no truncation input: no slider
    rendered = _renders(browser)
    field = browser.find_element("id", "class-id")
    field.clear()
    field.send_keys("2")
    _wait(browser, lambda: _renders(browser) > rendered and browser.find_element("id", "class-id")
          .get_attribute("value") == "2", "the image of class 2")
    latent = page_gaussian(0, 8)[None].astype(np.float32)
    expected = to_uint8(keras_images(generators["cond"], latent, [2]))[0, ..., 0]
    _wait(browser, lambda: _matches(_canvas_pixels(browser), expected), "class 2 shown")


def test_class_count_from_the_class_ids_signature(browser, served):
    """The page reads the class count from GetModelMetadata (class_ids output shape), not from a failed predict."""
    server, _ = served
    _pick_model(browser, server.rest_url + "/", "stated")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == ""
    assert browser.find_element("id", "class-count").text == "0 .. 4"


def test_truncation_slider_when_the_signature_takes_it(browser, served):
    from selenium.webdriver.common.keys import Keys  # pylint: disable=import-outside-toplevel
    server, generators = served
    _pick_model(browser, server.rest_url + "/", "truncated")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == "" and browser.find_element("id", "truncation-row").is_displayed()
    latent = page_gaussian(0, 8)[None].astype(np.float32)
    assert _matches(_canvas_pixels(browser), to_uint8(keras_images(generators["plain"], latent))[0, ..., 0])
    rendered = _renders(browser)
    browser.find_element("id", "truncation").send_keys(Keys.HOME)  # psi = 0: every seed gives G(0)
    _wait(browser, lambda: _renders(browser) > rendered or _error(browser), "the truncated image")
    assert browser.find_element("id", "truncation-value").text == "0.00"
    assert _matches(_canvas_pixels(browser), to_uint8(keras_images(generators["plain"], 0 * latent))[0, ..., 0])


def test_seed_only_model_shows_generate_png(browser, served):
    server, generators = served
    _pick_model(browser, server.rest_url + "/", "seeded")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == ""
    assert browser.find_elements("css selector", "#directions input") == []  # no latents input: no sliders
    assert not browser.find_element("id", "interpolate").is_displayed()
    for seed in (0, 5):  # generate_png(seed) is `tfgan generate --seed`'s picture
        if seed:
            rendered = _renders(browser)
            field = browser.find_element("id", "seed")
            field.clear()
            field.send_keys(str(seed))
            _wait(browser, lambda: _renders(browser) > rendered, f"the image of seed {seed}")
        expected = to_uint8(keras_images(generators["plain"], sample_latents(1, 8, seed).numpy()))[0, ..., 0]
        _wait(browser, lambda: _matches(_canvas_pixels(browser), expected), f"seed {seed} shown")


def test_caption_box_of_the_text_model(browser, served):
    server, _ = served
    _pick_model(browser, server.rest_url + "/", "text")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "a first image")
    assert _error(browser) == "" and browser.find_element("id", "caption-row").is_displayed()
    assert not browser.find_element("id", "class-row").is_displayed()
    uncaptioned, rendered = _canvas_pixels(browser), _renders(browser)
    browser.find_element("id", "caption").send_keys("a handwritten seven")
    _wait(browser, lambda: _renders(browser) > rendered or _error(browser), "the captioned image")
    latent = page_gaussian(0, 8)[None].astype(np.float32)
    served_images = RestClient(server.rest_url).predict(
        "text", {"latents": latent, "captions": np.array(["a handwritten seven"], object)}, signature="from_captions")
    # the last keystroke's image (debounced: one request after typing stops) is what the server makes of it
    _wait(browser, lambda: _matches(_canvas_pixels(browser), to_uint8(served_images["images"])[0, ..., 0]),
          "the image of the typed caption")
    assert (_canvas_pixels(browser) != uncaptioned).any()


def test_image_to_image_upload_shows_the_translation(browser, served, tmp_path):
    server, generators = served
    rng = np.random.default_rng(0)
    _pick_model(browser, server.rest_url + "/", "translator")
    _wait(browser, lambda: browser.find_element("id", "upload").is_displayed() or _error(browser), "upload box")
    assert "resized to 8x8, 1 channel(s)" in browser.find_element("id", "input-size").text

    photo = str(tmp_path / "photo.png")  # 20x12 RGB: the page resizes it to the model's 8x8x1 input
    Image.fromarray(rng.integers(0, 256, (20, 12, 3), dtype=np.uint8)).save(photo)
    browser.find_element("id", "upload").send_keys(photo)
    _wait(browser, lambda: _renders(browser, "i2i-output") >= 1 or _error(browser), "the translation")
    assert _error(browser) == ""
    assert _canvas_pixels(browser, "i2i-input").shape == (8, 8, 4)
    first = _canvas_pixels(browser, "i2i-output")
    assert first.shape == (8, 8, 4) and first[..., 0].std() > 0

    exact = str(tmp_path / "exact.png")  # already 8x8: no resampling, so the model input is known exactly
    pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(exact)
    rendered = _renders(browser, "i2i-output")
    browser.find_element("id", "upload").send_keys(exact)
    _wait(browser, lambda: _renders(browser, "i2i-output") > rendered or _error(browser), "the second translation")
    grey = pixels.astype(np.float64) @ np.array([0.2989, 0.587, 0.114])  # tf.image.rgb_to_grayscale weights
    model_input = (grey / 127.5 - 1.0)[None, ..., None].astype(np.float32)
    expected = to_uint8(keras_images(generators["translator"], model_input))[0, ..., 0]
    assert _matches(_canvas_pixels(browser, "i2i-output"), expected)


def test_page_at_root_shows_the_first_model_at_once(browser, served):
    """Several models served: the page opens on the first listed one, drawn with the seed-0 latent of
    `sample_latents` (the latent `tfgan generate --seed=0` and generate_png(seed=0) use)."""
    server, generators = served
    first = json.loads(urllib.request.urlopen(server.rest_url + "/explorer/models.json").read())["models"][0]
    browser.get(server.rest_url + "/")
    _wait(browser, lambda: _renders(browser) >= 1 or _error(browser), "the first model's image, unasked")
    assert _error(browser) == "" and browser.find_element("id", "model-select").get_attribute("value") == first
    if first in generators and first != "translator":
        latent = sample_latents(1, 8, 0).numpy()
        labels = [0] if first == "cond" else None
        assert _matches(_canvas_pixels(browser), to_uint8(keras_images(generators[first], latent, labels))[0, ..., 0])
    assert "server (TF Serving REST" in browser.find_element("id", "status").text


@pytest.mark.parametrize("model, expected", [
    ("nope", 'Unknown model "nope"'),
    ("odd", "which the explorer does not know"),
])
def test_errors_are_shown_on_the_page(browser, served, model, expected):
    server, _ = served
    browser.get(f"{server.rest_url}/?model={model}")
    _wait(browser, lambda: _error(browser), "the error banner")
    assert expected in _error(browser)
    if model == "odd":
        assert "[double]" in _error(browser)


def test_server_down_is_shown_on_the_page(browser):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with ExplorerProxy(dead, models=["plain"], port=0, timeout=5) as proxy:
        browser.get(proxy.url + "?model=plain")
        _wait(browser, lambda: _error(browser), "the error banner")
        assert f"Model server unavailable: Cannot reach the TF Serving REST API at {dead}" in _error(browser)
