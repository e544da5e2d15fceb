"""Serving: TF Serving REST/gRPC clients and a protocol-compatible local server.

Example:
>>> from tfgan_app.serving import LocalModelServer, RestClient
>>> with LocalModelServer("export", rest_port=0, grpc_port=None) as server:
...     RestClient(server.rest_url).predict("dcgan_mnist", {"seed": 0, "num_images": 4}, signature="generate")

The names are imported lazily, so `tfgan_app.serving.explorer` (`tfgan explore`) loads without TensorFlow.
"""

import importlib

_EXPORTS = {"BadRequestError": "tfgan_app.artifacts.remote", "GrpcClient": "tfgan_app.artifacts.remote",
            "ModelNotFoundError": "tfgan_app.artifacts.remote", "RestClient": "tfgan_app.artifacts.remote",
            "ServerUnavailableError": "tfgan_app.artifacts.remote", "ServingError": "tfgan_app.artifacts.remote",
            "LocalModelServer": "tfgan_app.serving.server"}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)  # lazy: the explorer needs no TF
    raise AttributeError(f"module 'tfgan_app.serving' has no attribute {name!r}")
