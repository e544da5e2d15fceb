"""Checks that an exported SavedModel runs with TF1 session semantics, as TF Serving loads it.

TF Serving (and `saved_model_cli run`) do not use Python's `tf.saved_model.load`: TensorFlow's C++
`LoadSavedModel` imports the MetaGraph into a session, runs the restore op (checkpoint -> graph
variables) and the init op (lookup tables), then `Session::Run`s each signature's tensor names.
`tf.saved_model.load` rebinds every function's captured variables to the restored Python objects,
so it accepts SavedModels whose graph variables the restore op never writes (issue #19:
"FAILED_PRECONDITION: Could not find variable batch_normalization/gamma").
`check_session_load` loads a version directory the session way, from Python, in a fresh
`tf.Graph`: `tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)`, then runs every
signature once on `example_inputs`, and raises `ServingCompatibilityError` on the first failure.
The C++ loader itself is exercised by `tests/test_tfserving_loader.py`.

Example:
>>> outputs = check_session_load("export/dcgan_mnist/1")
>>> outputs["generate"]["images"].dtype
dtype('uint8')
"""

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgan_app.errors import TfganError
from tfgan_app.artifacts.layout import read_metadata
from tfgan_app.export.savedmodel import example_inputs

SERVE_TAG = "serve"


class ServingCompatibilityError(TfganError, RuntimeError):
    """A SavedModel that TensorFlow's session loader (TF Serving, `saved_model_cli run`) cannot load or run."""


def _first_line(error: Exception) -> str:
    """`FailedPreconditionError: Could not find variable ...`: the error's class and its first informative line."""
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and line.strip() != "Graph execution error:" and not line.startswith("Detected at")]
    line = (lines[0] if lines else text).split(" Debug info:")[0]
    return f"{type(error).__name__}: {line}"


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
    inputs = {name: example_inputs(name, metadata, num_images) for name in names}  # eager, before the graph
    results = {}
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, [SERVE_TAG], path)
        except (tf.errors.OpError, RuntimeError, ValueError) as e:
            raise ServingCompatibilityError(f"SavedModel {path!r} does not load in TensorFlow's session loader "
                                            f"(TF Serving): {_first_line(e)}") from e
        for name in names:
            if name not in meta_graph.signature_def:
                raise ServingCompatibilityError(
                    f"SavedModel {path!r} has no signature {name!r}; it has {sorted(meta_graph.signature_def)}.")
            signature = meta_graph.signature_def[name]
            feeds = {signature.inputs[key].name: value
                     for key, value in inputs[name].items()}
            fetches = {alias: info.name for alias, info in signature.outputs.items()}
            try:
                results[name] = session.run(fetches, feeds)
            except tf.errors.OpError as e:
                raise ServingCompatibilityError(
                    f"Signature {name!r} of SavedModel {path!r} fails in TensorFlow's session loader "
                    f"(TF Serving): {_first_line(e)}") from e
    return results
