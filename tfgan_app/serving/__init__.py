"""Serving: TF Serving REST/gRPC clients and a protocol-compatible local server.

Example:
>>> from tfgan_app.serving import LocalModelServer, RestClient
>>> with LocalModelServer("export", rest_port=0, grpc_port=None) as server:
...     RestClient(server.rest_url).predict("dcgan_mnist", {"seed": 0, "num_images": 4}, signature="generate")
"""

from tfgan_app.artifacts.remote import (BadRequestError, GrpcClient, ModelNotFoundError, RestClient,
                                      ServerUnavailableError, ServingError)
from tfgan_app.serving.server import LocalModelServer

__all__ = ["BadRequestError", "GrpcClient", "ModelNotFoundError", "RestClient", "ServerUnavailableError",
           "ServingError", "LocalModelServer"]
