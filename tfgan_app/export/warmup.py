"""TF Serving warm-up records: one real `PredictionLog` per exported signature.

TF Serving replays `<version>/assets.extra/tf_serving_warmup_requests` (a
TFRecord file of `tensorflow_serving.apis.prediction_log_pb2.PredictionLog`)
before it marks a version AVAILABLE, so the first user request does not pay
for graph tracing and memory allocation.
"""

import os
from typing import Dict, List

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_log_pb2

from tfgan_app.export.kinds import SIGNATURES
from tfgan_app.export.savedmodel import example_inputs

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def warmup_logs(model_name: str, metadata: Dict, num_images: int = 2) -> List[prediction_log_pb2.PredictionLog]:
    """Builds one `PredictionLog` with a `PredictRequest` for each signature of the exported model
    (`metadata["signatures"]`, the latent `SIGNATURES` when absent)."""
    logs = []
    for signature in metadata.get("signatures", SIGNATURES):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = signature
        for key, value in example_inputs(signature, metadata, num_images).items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request)))
    return logs


def write_warmup(version_dir: str, model_name: str, metadata: Dict) -> str:
    """Writes the warm-up TFRecord (`assets.extra/tf_serving_warmup_requests`) TF Serving replays on load: one small
    valid request per signature of the export.

    Args:
        version_dir: `<base>/<name>/<version>`, holding the SavedModel.
        model_name: the name the requests address.
        metadata: the export's description (`tfgan_model.json`): kind, shapes and signatures.

    Returns:
        The path of the written file.

    Example:
    >>> write_warmup("export/dcgan_mnist/1", "dcgan_mnist", read_metadata("export/dcgan_mnist/1"))
    'export/dcgan_mnist/1/assets.extra/tf_serving_warmup_requests'
    """
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for log in warmup_logs(model_name, metadata):
            writer.write(log.SerializeToString())
    return path


def read_warmup(version_dir: str) -> List[prediction_log_pb2.PredictionLog]:
    """Parses the warm-up file of a version directory back into `PredictionLog` protos.

    Args:
        version_dir: `<base>/<name>/<version>`.

    Returns:
        The records, in file order (one per signature).

    Example:
    >>> [log.predict_log.request.model_spec.signature_name for log in read_warmup("export/dcgan_mnist/1")][0]
    'serving_default'
    """
    path = os.path.join(version_dir, WARMUP_FILE)
    return [prediction_log_pb2.PredictionLog.FromString(record.numpy())
            for record in tf.data.TFRecordDataset(path)]
