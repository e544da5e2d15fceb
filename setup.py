"""Packaging entry point; metadata lives in setup.cfg.

The model presets stay in the top-level `models/` folder (their one source). `build_py`
copies them into the built package as `tfgan_app/models/*.json`, so a wheel or a
non-editable `pip install .` ships them; `tfgan_app.presets.models_dir()` finds them
there, and in a checkout or editable install finds `models/` beside the package.
"""

import glob
import os

from setuptools import setup
from setuptools.command.build_py import build_py

PRESETS_SOURCE = "models"
PRESETS_PACKAGE_DIR = os.path.join("tfgan_app", "models")


class BuildPyWithPresets(build_py):
    """`build_py` that also copies `models/*.json` into the built `tfgan_app/models/`."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads models/ in the checkout itself
            return
        target = os.path.join(self.build_lib, PRESETS_PACKAGE_DIR)
        self.mkpath(target)
        for path in sorted(glob.glob(os.path.join(PRESETS_SOURCE, "*.json"))):
            self.copy_file(path, os.path.join(target, os.path.basename(path)))


setup(cmdclass={"build_py": BuildPyWithPresets})
