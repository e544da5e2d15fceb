"""Serving: a TF Serving-compatible local server (and, for convenience, the clients of `tfgan_app.tfserving`).

Example:
>>> from tfgan_app.serving import LocalModelServer, RestClient
>>> with LocalModelServer("export", rest_port=0, grpc_port=None) as server:
...     RestClient(server.rest_url).predict("dcgan_mnist", {"seed": 0, "num_images": 4}, signature="generate")

The names are imported lazily, so `tfgan_app.serving.explorer` (`tfgan explore`) loads without TensorFlow.
"""

import importlib

_EXPORTS = {"BadRequestError": "tfgan_app.tfserving.client", "GrpcClient": "tfgan_app.tfserving.client",
            "ModelNotFoundError": "tfgan_app.tfserving.client", "RestClient": "tfgan_app.tfserving.client",
            "ServerUnavailableError": "tfgan_app.tfserving.client", "ServingError": "tfgan_app.tfserving.client",
            "LocalModelServer": "tfgan_app.serving.server"}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)  # lazy: the explorer needs no TF
    raise AttributeError(f"module 'tfgan_app.serving' has no attribute {name!r}")
