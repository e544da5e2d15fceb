"""TF Serving's wire protocol: the REST and gRPC clients (`client`) and their tensor encoding (`codec`).

Pure protocol, no models: `tfgan_app.artifacts.open_generator` reads served models through the clients and
`tfgan_app.serving` (the local server) answers with the same encoding.

Example:
>>> from tfgan_app.tfserving import RestClient
>>> RestClient("http://localhost:8501").predict("dcgan_mnist", {"seed": 0, "num_images": 4}, signature="generate")
"""

from tfgan_app.tfserving.client import (BadRequestError, GrpcClient, ModelNotFoundError, RestClient,
                                        ServerUnavailableError, ServingError)

__all__ = ["BadRequestError", "GrpcClient", "ModelNotFoundError", "RestClient", "ServerUnavailableError",
           "ServingError"]
