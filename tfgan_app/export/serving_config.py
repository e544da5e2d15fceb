"""The TF Serving layout `<base>/<model_name>/<version>/` and its `models.config`.

TF Serving watches each model's base path and serves the integer-named
subfolders as versions (anything else, e.g. a `.staging-*` folder, is ignored).
`models.config` is a `ModelServerConfig` text proto listing every model in the
base folder, for `tensorflow_model_server --model_config_file=...`:

    model_config_list {
      config {
        name: "dcgan_mnist"
        base_path: "/abs/path/export/dcgan_mnist"
        model_platform: "tensorflow"
        model_version_policy { all {} }
      }
    }

Two files are written: `models.config` with absolute host paths, and
`models.docker.config` with `/models/<name>` paths for the `tensorflow/serving`
container when `<base>` is mounted at `/models`.
"""

import os
from typing import List, Optional

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfgan_app.artifacts.layout import list_versions
from tfgan_app.paths import check_model_name, is_model_name  # noqa: F401  (TF-free home; re-exported)

CONFIG_FILE = "models.config"
DOCKER_CONFIG_FILE = "models.docker.config"
def list_models(base_dir: str) -> List[str]:
    """The model folders of a TF Serving base folder that hold at least one version.

    Args:
        base_dir: the base folder (`export/`).

    Returns:
        Their names, sorted.

    Example:
    >>> list_models("export")
    ['cgan_mnist', 'dcgan_mnist']
    """
    if not os.path.isdir(base_dir):
        return []
    return sorted(d for d in os.listdir(base_dir) if list_versions(os.path.join(base_dir, d)))


def next_version(model_dir: str) -> int:
    """The version after the highest existing one (1 for a new model); integer-named folders all count."""
    existing = [int(d) for d in os.listdir(model_dir) if d.isdigit()] if os.path.isdir(model_dir) else []
    return max(existing, default=0) + 1


def models_config(base_dir: str, path_prefix: Optional[str] = None) -> model_server_config_pb2.ModelServerConfig:
    """A `ModelServerConfig` serving all versions of every model in `base_dir`.

    `path_prefix` replaces the absolute `base_dir` in each `base_path` (e.g.
    `/models` inside the TF Serving container).
    """
    prefix = path_prefix if path_prefix is not None else os.path.abspath(base_dir)
    config = model_server_config_pb2.ModelServerConfig()
    for name in list_models(base_dir):
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{prefix.rstrip('/')}/{name}"
        entry.model_platform = "tensorflow"
        entry.model_version_policy.all.SetInParent()
    return config


def write_models_config(base_dir: str) -> str:
    """(Re)writes `models.config` and `models.docker.config` in `base_dir`, one entry per model folder.

    Args:
        base_dir: the TF Serving base folder.

    Returns:
        The path of `models.config` (base paths on this machine; the docker file uses `/models/<name>`).

    Example:
    >>> write_models_config("export")
    'export/models.config'
    """
    path = os.path.join(base_dir, CONFIG_FILE)
    for file_name, prefix in ((CONFIG_FILE, None), (DOCKER_CONFIG_FILE, "/models")):
        with open(os.path.join(base_dir, file_name), "w") as f:
            f.write(text_format.MessageToString(models_config(base_dir, prefix)))
    return path


def read_models_config(path: str) -> model_server_config_pb2.ModelServerConfig:
    """Parses a `models.config` text proto (TF Serving's `--model_config_file`).

    Args:
        path: the file.

    Returns:
        The `ModelServerConfig` proto.

    Example:
    >>> [m.name for m in read_models_config("export/models.config").model_config_list.config]
    ['dcgan_mnist']
    """
    with open(path) as f:
        return text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
