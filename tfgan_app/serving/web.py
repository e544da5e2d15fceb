"""The generator in the browser: a self-contained static site that runs the exported TFLite files in LiteRT.js.

`tfgan export --web` writes, next to the SavedModel:

    <base>/<name>/<version>/web/index.html                      the latent explorer page
    .../web/explorer/explorer.js, explorer.css, latents.js       (tfgan_app/serving/explorer/)
    .../web/explorer/models.json                                {"models": [name], "device": {name: "models/<name>/"}}
    .../web/explorer/models/<name>/generator_<q>.tflite          batch-1 files (LiteRT.js takes static shapes only)
    .../web/explorer/models/<name>/generator.json               the tflite sidecar of those files
    .../web/explorer/litert/core.js, wasm-utils.js, wasm/        the LiteRT.js runtime, LICENSE.txt

Any static file host serves it (`python -m http.server -d <version>/web`); the page then generates on the
visitor's CPU (LiteRT.js: LiteRT compiled to WebAssembly, XNNPack) and never calls `/v1`.

The runtime is the npm package `@litertjs/core` at `LITERT_JS_VERSION` (Apache-2.0, 38 MB of WebAssembly
builds, too large to vendor in the repository): `scripts/install.sh` installs it with npm into
`litert_js_dir()`, and `write_web` runs the same `npm install` when it is missing and npm is on the PATH.
Two of its four builds are copied (relaxed-SIMD and compat, about 19 MB; the threaded and JSPI builds
need cross-origin isolation or JSPI, which a plain static host does not give). Its `core.js` gets two
edits, both checked when copied: its one bare import (`@litertjs/wasm-utils`) points at the copied
file, so no bundler or import map is needed, and `Int8Array` joins its tensor types (2.5.3 reads int8
tensors but has no JS type for them), so the int8 file runs with its own int8 inputs and outputs.

Example:
>>> write_web("export/dcgan_mnist/1", "dcgan_mnist", generator, quantizations=("float32", "int8"))
'export/dcgan_mnist/1/web'
"""

import json
import os
import shutil
import subprocess
from typing import Dict, Optional, Sequence

import keras
import numpy as np
from absl import logging

from tfgan_app.artifacts.layout import SIDECAR_FILE
from tfgan_app.artifacts.run_dir import load_run
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.artifacts.kind import model_kind
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.export.kinds import export_kind
from tfgan_app.export.tflite import QUANTIZATIONS, TFLITE_DIR, check_quantizations, convert, tflite_file_name
from tfgan_app.serving.explorer import FILES, STATIC_DIR

WEB_DIR = "web"
WEB_BATCH_SIZE = 1  # the page draws one image per call (strips: one call per frame)
LITERT_JS_PACKAGE = "@litertjs/core"
LITERT_JS_VERSION = "2.5.3"
# The builds a page without cross-origin isolation loads (load.ts picks internal with relaxed SIMD, else compat).
LITERT_WASM_FILES = ("litert_wasm_internal.js", "litert_wasm_internal.wasm",
                     "litert_wasm_compat_internal.js", "litert_wasm_compat_internal.wasm")
_BARE_IMPORT = ('from "@litertjs/wasm-utils"', 'from "./wasm-utils.js"')
_UINT8_TYPE = '  {\n    dtype: "uint8",'
_INT8_TYPE = ('  {\n    dtype: "int8",\n    typedArrayConstructor: Int8Array,\n    elementType: ElementType.INT8\n'
              '  },\n')
APACHE_LICENSE = "/usr/share/common-licenses/Apache-2.0"


def litert_js_dir() -> str:
    """Where `@litertjs/core` is installed: `$TFGAN_LITERT_JS_DIR`, else `~/.cache/tfgan_app/litertjs-<version>`
    (an npm `--prefix`: the package is in its `node_modules/@litertjs/core`)."""
    return os.environ.get("TFGAN_LITERT_JS_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "tfgan_app", f"litertjs-{LITERT_JS_VERSION}")


def _package_dir(prefix: str, package: str) -> str:
    return os.path.join(prefix, "node_modules", *package.split("/"))


def ensure_litert_js(prefix: Optional[str] = None) -> str:
    """The installed `@litertjs/core` package folder, installing it with npm when missing.

    Raises:
        MissingResourceError: it is missing and npm is not available or fails.
    """
    prefix = prefix or litert_js_dir()
    core = _package_dir(prefix, LITERT_JS_PACKAGE)
    if os.path.isfile(os.path.join(core, "wasm", LITERT_WASM_FILES[0])):
        return core
    npm = shutil.which("npm")
    hint = (f"install it with `npm install --prefix {prefix} {LITERT_JS_PACKAGE}@{LITERT_JS_VERSION}` "
            "(scripts/install.sh does) or set TFGAN_LITERT_JS_DIR to such a prefix")
    if not npm:
        raise MissingResourceError(f"The web export needs LiteRT.js ({LITERT_JS_PACKAGE}) in {prefix!r} and npm "
                                   f"is not on the PATH: {hint}.")
    logging.info("Installing %s@%s into %s with npm.", LITERT_JS_PACKAGE, LITERT_JS_VERSION, prefix)
    os.makedirs(prefix, exist_ok=True)
    done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix,
                           f"{LITERT_JS_PACKAGE}@{LITERT_JS_VERSION}"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not os.path.isdir(core):
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MissingResourceError(f"npm could not install {LITERT_JS_PACKAGE}@{LITERT_JS_VERSION} ({reason}); {hint}.")
    return core


def copy_runtime(out_dir: str, core: Optional[str] = None) -> None:
    """Copies the LiteRT.js runtime into `out_dir` (core.js, wasm-utils.js, wasm/, LICENSE.txt)."""
    core = core or ensure_litert_js()
    utils = os.path.join(os.path.dirname(core), "wasm-utils")
    os.makedirs(os.path.join(out_dir, "wasm"), exist_ok=True)
    with open(os.path.join(core, "dist", "index.js")) as f:
        source = f.read()
    if source.count(_BARE_IMPORT[0]) != 1 or source.count(_UINT8_TYPE) != 1:
        raise MissingResourceError(f"{core}/dist/index.js is not the {LITERT_JS_PACKAGE}@{LITERT_JS_VERSION} "
                                   "the web export knows (its wasm-utils import or its type table changed).")
    source = source.replace(*_BARE_IMPORT).replace(_UINT8_TYPE, _INT8_TYPE + _UINT8_TYPE)
    with open(os.path.join(out_dir, "core.js"), "w") as f:
        f.write(source)
    shutil.copyfile(os.path.join(utils, "dist", "index.js"), os.path.join(out_dir, "wasm-utils.js"))
    for name in LITERT_WASM_FILES:
        shutil.copyfile(os.path.join(core, "wasm", name), os.path.join(out_dir, "wasm", name))
    with open(os.path.join(core, "package.json")) as f:
        version = json.load(f).get("version")
    notice = (f"{LITERT_JS_PACKAGE} {version} (https://www.npmjs.com/package/{LITERT_JS_PACKAGE}, source "
              "https://github.com/google-ai-edge/LiteRT, litert/js), licensed under the Apache License 2.0.\n"
              "core.js is its dist/index.js with its wasm-utils import made relative and an int8 tensor type "
              "added (tfgan_app/serving/web.py).\n\n")
    license_text = open(APACHE_LICENSE).read() if os.path.isfile(APACHE_LICENSE) else \
        "Full text: https://www.apache.org/licenses/LICENSE-2.0\n"
    with open(os.path.join(out_dir, "LICENSE.txt"), "w") as f:
        f.write(notice + license_text)


def copy_page(web_dir: str) -> None:
    """Copies the explorer page into `web_dir`: index.html at the top (its `/explorer/` paths made relative,
    so the site works from any folder of a static host) and the other `FILES` under `explorer/`."""
    os.makedirs(os.path.join(web_dir, "explorer"), exist_ok=True)
    for name in FILES:
        with open(os.path.join(STATIC_DIR, name)) as f:
            text = f.read()
        if name == "index.html":
            with open(os.path.join(web_dir, name), "w") as f:
                f.write(text.replace('="/explorer/', '="explorer/'))
        else:
            with open(os.path.join(web_dir, "explorer", name), "w") as f:
                f.write(text)


def write_model_files(model_dir: str, version_dir: str, generator: keras.Model, num_classes: Optional[int],
                      quantizations: Sequence[str], calibration_images: Optional[np.ndarray] = None,
                      batch_size: int = WEB_BATCH_SIZE) -> Dict:
    """Writes batch-`batch_size` `.tflite` files and their sidecar into `model_dir`; returns the sidecar.

    The page runs any number of images through them, `batch_size` at a time (benchmarks/browser_latency.py
    times batch 1 and 16).

    The sidecar is the export's `tflite/generator.json` (kind, shapes, classes) with these files' own
    entries (`tensor_quantization`: the (scale, zero_point) the page quantizes int8 latents and
    dequantizes int8 images with) and `"batch_size"`.
    """
    with open(os.path.join(version_dir, TFLITE_DIR, SIDECAR_FILE)) as f:
        sidecar = {key: value for key, value in json.load(f).items() if key not in ("files", "skipped")}
    sidecar.update({"batch_size": batch_size, "files": {}})
    os.makedirs(model_dir, exist_ok=True)
    for quantization in quantizations:
        path = os.path.join(model_dir, tflite_file_name(quantization))
        with open(path, "wb") as f:
            f.write(convert(generator, quantization, num_classes, calibration_images=calibration_images,
                            batch_size=batch_size))
        sidecar["files"][quantization] = {"file": os.path.basename(path), "size_bytes": os.path.getsize(path),
                                          "tensor_quantization": TFLiteGenerator(path).quantization_params()}
    with open(os.path.join(model_dir, SIDECAR_FILE), "w") as f:
        json.dump(sidecar, f, indent=2)
    return sidecar


def write_web(version_dir: str, name: str, generator: keras.Model, num_classes: Optional[int] = None,
              quantizations: Sequence[str] = QUANTIZATIONS, calibration_images: Optional[np.ndarray] = None) -> str:
    """Writes the static site `<version_dir>/web/` for the exported `generator`; returns its path.

    Args:
        version_dir: an export's `<base>/<name>/<version>` (with its `tflite/generator.json`).
        name: the model name the page shows.
        generator: the exported Keras generator (latent, conditional or image-to-image).
        num_classes: class count of a conditional generator.
        quantizations: `.tflite` files to write for the page (the first is the page's default).
        calibration_images: image-to-image int8 calibration inputs, as for `export_tflite`.

    Raises:
        UsageError: a text-conditioned generator (its tokenizer does not run in the page) or no quantization.
        MissingResourceError: LiteRT.js is not installed and cannot be (`ensure_litert_js`).
    """
    quantizations = check_quantizations(quantizations)
    if not quantizations:
        raise UsageError("--web needs at least one TFLite file for the page, received --tflite= (none).")
    export_kind(model_kind(generator)).check_web(name)
    core = ensure_litert_js()
    web_dir = os.path.join(version_dir, WEB_DIR)
    explorer = os.path.join(web_dir, "explorer")
    copy_page(web_dir)
    copy_runtime(os.path.join(explorer, "litert"), core)
    write_model_files(os.path.join(explorer, "models", name), version_dir, generator, num_classes,
                      quantizations, calibration_images)
    with open(os.path.join(explorer, "models.json"), "w") as f:
        json.dump({"models": [name], "device": {name: f"models/{name}/"}}, f, indent=2)
    return web_dir


def write_web_for_run(version_dir: str, name: str, run_dir: str, quantizations: Sequence[str] = QUANTIZATIONS,
                      direction: str = "a_to_b", which: str = "best") -> str:
    """`write_web` for the generator of a training run (as `export_run` exported it); returns the site's path."""
    trained = load_run(run_dir, direction, which)
    calibration = None
    if "int8" in quantizations:
        calibration = export_kind(model_kind(trained.generator)).run_calibration_images(
            trained.generator, trained.config, direction)
    return write_web(version_dir, name, trained.generator, trained.num_classes, quantizations, calibration)
