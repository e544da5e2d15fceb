"""The one SavedModel loader of the package, with TF Serving's semantics (issue #26).

TF Serving (and `saved_model_cli run`) do not use Python's `tf.saved_model.load`: TensorFlow's C++
`LoadSavedModel` imports the `serve` MetaGraph into a session, runs the restore op (checkpoint -> graph
variables) and the init op (lookup tables), then `Session::Run`s each signature's tensor names.
`tf.saved_model.load` is more lenient: it rebinds every function's captured variables to the restored
Python objects (so it runs SavedModels whose graph variables the restore op never writes, issue #19), and it
loads a SavedModel without the `serve` tag. `load_savedmodel` loads the TF1 way, in a fresh `tf.Graph`, and is
what `tfgan generate`, `tfgan evaluate`, `tfgan export` (TFLite parity, the session check) and `tfgan serve` use,
so a SavedModel TF Serving rejects is rejected everywhere with the same one-line `ServingCompatibilityError`.

Example:
>>> with load_savedmodel("export/dcgan_mnist/1") as model:
...     images = model.run("serving_default", {"latents": latents})["images"]
"""

from typing import Dict, Mapping

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.util import deprecation

from tfgan_app.errors import MissingResourceError, TfganError

SERVE_TAG = "serve"
# Internal signature of TF2 SavedModels; TF Serving does not expose it either.
INIT_OP_SIGNATURE = "__saved_model_init_op"


class ServingCompatibilityError(TfganError, RuntimeError):
    """A SavedModel that TensorFlow's session loader (TF Serving, `saved_model_cli run`) cannot load or run."""


def first_line(error: Exception) -> str:
    """`FailedPreconditionError: Could not find variable ...`: the error's class and its first informative line."""
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and line.strip() != "Graph execution error:" and not line.startswith("Detected at")]
    line = (lines[0] if lines else text).split(" Debug info:")[0]
    return f"{type(error).__name__}: {line}"


class SessionSavedModel:
    """A SavedModel loaded as TF Serving loads it: its graph, a session holding the variables, its `SignatureDef`s.

    Args:
        path: a SavedModel directory (`saved_model.pb` + `variables/`).

    Raises:
        ServingCompatibilityError: the session loader cannot load it (no `serve` tag, a restore or init op that
            fails, ...); the message names `path` and TensorFlow's first error line.
    """

    def __init__(self, path: str):
        self.path = path
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        try:
            # The TF1 loader on purpose (TF Serving's semantics, module doc); its deprecation warning is not news.
            with self.graph.as_default(), deprecation.silence():
                meta_graph = tf.compat.v1.saved_model.loader.load(self.session, [SERVE_TAG], path)
        except (tf.errors.OpError, RuntimeError, ValueError, OSError) as e:
            self.close()
            raise ServingCompatibilityError(f"SavedModel {path!r} does not load in TensorFlow's session loader "
                                            f"(TF Serving): {first_line(e)}") from e
        self.signature_defs: Dict[str, meta_graph_pb2.SignatureDef] = {
            key: value for key, value in meta_graph.signature_def.items() if key != INIT_OP_SIGNATURE}

    def signature_def(self, name: str) -> meta_graph_pb2.SignatureDef:
        """The `SignatureDef` named `name`.

        Raises:
            MissingResourceError: the SavedModel has no such signature (the message lists the ones it has).
        """
        if name not in self.signature_defs:
            raise MissingResourceError(f"SavedModel {self.path!r} has no {name} signature; it has "
                                       f"{sorted(self.signature_defs)}. Export it with `tfgan export`.")
        return self.signature_defs[name]

    def input_shape(self, signature: str, key: str) -> list:
        """The declared shape of input `key` of `signature` (None for an unknown dimension)."""
        dims = self.signature_def(signature).inputs[key].tensor_shape.dim
        return [None if d.size < 0 else int(d.size) for d in dims]

    def run(self, signature: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Runs `signature` on `{input key: array}` with `Session.run`; returns `{output alias: array}`.

        Raises:
            MissingResourceError: no such signature.
            ServingCompatibilityError: the session cannot run it (as TF Serving fails the request).
        """
        definition = self.signature_def(signature)
        feeds = {definition.inputs[key].name: value for key, value in inputs.items()}
        fetches = {alias: info.name for alias, info in definition.outputs.items()}
        try:
            return self.session.run(fetches, feeds)
        except tf.errors.OpError as e:
            raise ServingCompatibilityError(f"Signature {signature!r} of SavedModel {self.path!r} fails in "
                                            f"TensorFlow's session loader (TF Serving): {first_line(e)}") from e

    def close(self) -> None:
        """Releases the session (the variables and the graph)."""
        self.session.close()

    def __enter__(self) -> "SessionSavedModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_savedmodel(path: str) -> SessionSavedModel:
    """Loads the SavedModel at `path` with TF Serving's session semantics (see the module doc).

    Args:
        path: a SavedModel directory.

    Returns:
        A `SessionSavedModel`; close it (or use it as a context manager) to free its session.

    Raises:
        ServingCompatibilityError: TF Serving's loader would reject it.
    """
    return SessionSavedModel(path)
