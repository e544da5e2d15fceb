"""Checks that an output folder or file can be written, before any work is done.

A run that trains for an hour and then fails to write its first file, or a
`generate` that draws every image and then cannot save the grid, wastes the
user's time and ends in a traceback. The commands call these checks first and
get one `UsageError` naming the flag instead.

Example:
>>> writable_dir("/tmp/run", "--output_dir")
'/tmp/run'
"""

import os
import re
import tempfile

from tfgan_app.errors import UsageError

# The small digit classifiers shipped as package data: evaluation's feature extractors and SRGAN's content
# loss both read them, so their folder is named here, below both.
CLASSIFIER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "evaluation", "classifiers")
# A model name of the TF Serving layout `<base>/<name>/<version>/`: a folder name and a URL segment.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def is_model_name(name: str) -> bool:
    """True if `name` is usable as a model name in URLs and folder names."""
    return isinstance(name, str) and bool(_MODEL_NAME.match(name))


def check_model_name(name: str) -> str:
    """Returns `name` if it is usable as a model name in URLs and folders, else raises `UsageError`."""
    if not is_model_name(name):
        raise UsageError(f"Expected a model name of letters, digits, '_', '.', '-' (e.g. 'dcgan_mnist'), "
                         f"received {name!r}. Pass --name=... with such a name.")
    return name


def writable_dir(path: str, flag: str) -> str:
    """Creates folder `path` if needed and checks a file can be written in it; returns `path`.

    Args:
      path: the folder.
      flag: how the user named it (e.g. "--output_dir"), for the message.

    Raises:
      UsageError: `path` is a file, lies under a file, or cannot be created or written.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"Expected {flag} to be a folder, received {path!r}, which is a file; "
                         "pass a folder path.")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise UsageError(f"Cannot write to {flag}={path!r} ({e.strerror or e}); pass a folder you can "
                         "write to.") from e
    return path


def writable_file(path: str, flag: str) -> str:
    """Checks that file `path` can be written (its folder is created if needed); returns `path`.

    Raises:
      UsageError: `path` is a folder, or its folder cannot be created or written.
    """
    if os.path.isdir(path):
        raise UsageError(f"Expected {flag} to be a file path, received {path!r}, which is a folder.")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"Cannot write {flag}={path!r}: {folder!r} is a file, not a folder; pass a path in a "
                         "folder.")
    writable_dir(folder, f"the folder of {flag}")
    return path
