"""Checks that an exported SavedModel runs with TF1 session semantics, as TF Serving loads it.

TF Serving (and `saved_model_cli run`) do not use Python's `tf.saved_model.load`: TensorFlow's C++
`LoadSavedModel` imports the MetaGraph into a session, runs the restore op (checkpoint -> graph
variables) and the init op (lookup tables), then `Session::Run`s each signature's tensor names.
`tf.saved_model.load` rebinds every function's captured variables to the restored Python objects,
so it accepts SavedModels whose graph variables the restore op never writes (issue #19:
"FAILED_PRECONDITION: Could not find variable batch_normalization/gamma").
`check_session_load` loads a version directory the session way, from Python, in a fresh
`tf.Graph`, with the package's one loader (`tfgan_app.artifacts.savedmodel_loader`), then runs every
signature once on `example_inputs`, and raises `ServingCompatibilityError` on the first failure.
The C++ loader itself is exercised by `tests/test_tfserving_loader.py`.

Example:
>>> outputs = check_session_load("export/dcgan_mnist/1")
>>> outputs["generate"]["images"].dtype
dtype('uint8')
"""

from typing import Dict, Optional, Sequence

import numpy as np

from tfgan_app.artifacts.layout import read_metadata
from tfgan_app.artifacts.savedmodel_loader import SERVE_TAG, ServingCompatibilityError, load_savedmodel  # noqa: F401
from tfgan_app.export.savedmodel import example_inputs


def check_session_load(path: str, signatures: Optional[Sequence[str]] = None,
                       num_images: int = 2) -> Dict[str, Dict[str, np.ndarray]]:
    """Loads the SavedModel version directory `path` with TF1 session semantics and runs each signature.

    Args:
        path: an exported version directory (`<base>/<name>/<version>`, with `assets.extra/tfgan_model.json`).
        signatures: signature names to run (default: all of the metadata's "signatures").
        num_images: batch size of the `example_inputs` fed to each signature.

    Returns:
        `{signature: {output alias: numpy array}}`.

    Raises:
        ServingCompatibilityError: the session loader cannot load the SavedModel or run a signature
            (the message names the signature and TensorFlow's first error line).
    """
    metadata = read_metadata(path)
    names = list(signatures) if signatures is not None else list(metadata["signatures"])
    inputs = {name: example_inputs(name, metadata, num_images) for name in names}
    with load_savedmodel(path) as model:
        missing = [name for name in names if name not in model.signature_defs]
        if missing:
            raise ServingCompatibilityError(
                f"SavedModel {path!r} has no signature {missing[0]!r}; it has {sorted(model.signature_defs)}.")
        return {name: model.run(name, inputs[name]) for name in names}
