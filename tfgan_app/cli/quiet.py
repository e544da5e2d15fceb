"""How much TensorFlow, absl and gRPC print: the `--verbosity` flag of every `tfgan` command.

TensorFlow's C++ log level is read from `TF_CPP_MIN_LOG_LEVEL` when TensorFlow loads, so
`configure` must run before the first `import tensorflow` (the commands import it inside
`run()`, after `tfgan_app.cli.main` has parsed the flags). What each source needs:

- C++ `LOG(INFO/WARNING/ERROR)` after start-up, e.g. `E0000 ... failed call to cuInit: CUDA error`
  on a machine without a GPU driver (neither `CUDA_VISIBLE_DEVICES=""` nor `-1` avoids it; only
  `TF_CPP_MIN_LOG_LEVEL=3` does): `TF_CPP_MIN_LOG_LEVEL`.
- C++ lines logged while the TensorFlow shared libraries load, before absl's `InitializeLog()`
  (`WARNING: All log messages before absl::InitializeLog() ...`, `I0000 ... port.cc] oneDNN custom
  operations are on`, `I0000 ... cudart_stub.cc] Could not find cuda drivers`): absl writes these to
  stderr whatever `TF_CPP_MIN_LOG_LEVEL` says, so `import_tensorflow` reads stderr while TensorFlow
  loads and passes on every line except absl INFO lines (`I` + 4 digits) and that banner.
- gRPC's C core (the serving client / server): `GRPC_VERBOSITY`.
- Python-side absl logging (`W1130 ...` warnings of the library and Keras): `absl.logging` verbosity.

An explicit `--verbosity` wins; without it a `TF_CPP_MIN_LOG_LEVEL` already in the environment is
honoured, else the default is "quiet".

Example:
  tfgan train --verbosity=info      # everything TensorFlow has to say, start-up lines included
"""

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator, Optional

from absl import logging

VERBOSITIES = ("quiet", "error", "warning", "info")
DEFAULT_VERBOSITY = "quiet"
# --verbosity -> (TF_CPP_MIN_LOG_LEVEL, GRPC_VERBOSITY, absl-py logging level).
_LEVELS = {
    "quiet": ("3", "NONE", logging.WARNING),
    "error": ("2", "ERROR", logging.WARNING),
    "warning": ("1", "ERROR", logging.WARNING),
    "info": ("0", "INFO", logging.INFO),
}
_FROM_TF_LEVEL = {"0": "info", "1": "warning", "2": "error", "3": "quiet"}
# absl C++ INFO lines and the pre-InitializeLog banner, printed while TensorFlow's libraries load.
_LOAD_NOISE = re.compile(r"^(I\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl::InitializeLog\(\))")

_state = {"verbosity": DEFAULT_VERBOSITY}


def configure(verbosity: Optional[str] = None) -> str:
    """Sets the log levels of TensorFlow, gRPC and absl for `verbosity`; returns the verbosity used.

    Args:
      verbosity: one of `VERBOSITIES`, or None for `TF_CPP_MIN_LOG_LEVEL` from the environment when
        set (0 = info, 1 = warning, 2 = error, 3 = quiet), else "quiet".
    """
    if verbosity is None:
        verbosity = _FROM_TF_LEVEL.get(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip(), DEFAULT_VERBOSITY)
    if verbosity not in _LEVELS:
        raise ValueError(f"Expected verbosity in {VERBOSITIES}, received verbosity={verbosity!r}.")
    tf_level, grpc_level, py_level = _LEVELS[verbosity]
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = tf_level
    os.environ["GRPC_VERBOSITY"] = grpc_level
    logging.set_verbosity(py_level)
    _state["verbosity"] = verbosity
    return verbosity


# What the TFLite converter and interpreter print on every export: the deprecation warning of
# `from_concrete_functions` without `trackable_obj` (we convert a frozen function on purpose), the
# MLIR quantizer's "fully_quantize: ..." line and "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_EXPORT_NOISE = re.compile(r"^(WARNING:absl:Please consider providing the trackable_obj argument"
                           r"|fully_quantize: \d+, inference_type:"
                           r"|INFO: Created TensorFlow Lite XNNPACK delegate)")


@contextlib.contextmanager
def filtered_stderr(noise: "re.Pattern[str]") -> Iterator[None]:
    """Inside the block, stderr (file descriptor 2, so C++ output too) loses the lines matching `noise`.

    The other lines (warnings, errors, tracebacks) are passed on when the block ends, in order. With
    the "info" verbosity nothing is filtered.
    """
    if _state["verbosity"] == "info":
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not noise.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def export_noise_filtered() -> "contextlib.AbstractContextManager[None]":
    """`filtered_stderr` for the TFLite converter's and interpreter's routine lines (`tfgan export`)."""
    return filtered_stderr(_EXPORT_NOISE)


def import_tensorflow() -> None:
    """Imports TensorFlow, dropping its start-up INFO lines unless the verbosity is "info".

    Everything else written to stderr meanwhile (warnings, errors, tracebacks) is passed on.
    """
    if "tensorflow" in sys.modules:
        return
    with filtered_stderr(_LOAD_NOISE):
        # deferred so --help does not import TensorFlow
        import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
