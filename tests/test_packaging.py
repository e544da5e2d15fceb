"""The wheel ships the model presets (issue #13 item 10).

Builds the wheel from a copy of the source tree, installs it into a fresh virtualenv (with the
system site-packages for TensorFlow, without pip: the outer pip installs into it) and loads a
preset from there, outside the checkout. About 20 s on an idle machine.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ("setup.py", "setup.cfg", "MANIFEST.in", "README.md", "models", "tfgan_app")


def run(*command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a clean copy of the checkout (no build/ or egg-info left in the checkout)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    source.mkdir()
    for name in SOURCES:
        path = os.path.join(ROOT, name)
        if os.path.isdir(path):
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
        str(source))
    (path,) = (root / "dist").glob("tfgan_app-*.whl")
    return path


def test_wheel_holds_every_preset_and_no_unused_dependency(wheel):
    presets = sorted(f for f in os.listdir(os.path.join(ROOT, "models")) if f.endswith(".json"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        packaged = sorted(os.path.basename(n) for n in names if n.startswith("tfgan_app/models/"))
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert json.loads(archive.read("tfgan_app/models/dcgan_mnist.json")) == json.load(
            open(os.path.join(ROOT, "models", "dcgan_mnist.json")))
    assert presets and packaged == presets
    # TFDS needs it to prepare any dataset but declares it only for Python < 3.9 (tensorflow/datasets#11212).
    assert "Requires-Dist: importlib_resources" in metadata or "Requires-Dist: importlib-resources" in metadata


def test_installed_wheel_loads_a_preset_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv))
    python = str(venv / "bin" / "python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", str(wheel))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TFGAN_MODELS_DIR")}
    script = ("import json, tfgan_app.presets as p; "
              "print(json.dumps([p.__file__, p.models_dir(), p.available_presets(), "
              "p.load_preset('cgan_mnist').to_dict()]))")
    out = run(python, "-c", script, cwd=str(tmp_path), env=env)
    module, folder, names, preset = json.loads(out.strip().splitlines()[-1])
    assert module.startswith(str(venv)) and folder.startswith(str(venv))  # the installed copy, not the checkout
    assert "dcgan_mnist" in names and len(names) == len([f for f in os.listdir(os.path.join(ROOT, "models"))
                                                         if f.endswith(".json")])
    assert preset["gan"] == "conditional" and preset["name"] == "cgan_mnist"
