"""Where an exported generator describes itself, and where TF Serving finds its versions.

* `assets.extra/tfgan_model.json` (`METADATA_FILE`) in a SavedModel version directory and `generator.json`
  (`SIDECAR_FILE`) next to its `.tflite` files: the model description written once at export
  (`kind`, shapes, `num_classes`, vocabulary, signatures) and read by every loader.
* `export/<name>/<version>/`: a TF Serving model folder of numbered versions (`list_versions`).
"""

import json
import os
from typing import Dict, List, Optional

METADATA_FILE = os.path.join("assets.extra", "tfgan_model.json")
SIDECAR_FILE = "generator.json"
# Conditional latent models also have this signature: no inputs, output `class_ids` = 0..num_classes-1, whose
# static shape [num_classes] puts the class count into TF Serving's GetModelMetadata reply (which holds
# signature_defs only), so clients learn it without a predict call (`served_num_classes`).
CLASS_IDS_SIGNATURE = "class_ids"


def list_versions(model_dir: str) -> List[int]:
    """The numbered versions of a TF Serving model folder that hold a `saved_model.pb`.

    Args:
        model_dir: `<base>/<name>`.

    Returns:
        The versions as sorted ints (`[]` when the folder does not exist or holds none).

    Example:
    >>> list_versions("export/dcgan_mnist")
    [1, 2]
    """
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(d) for d in os.listdir(model_dir)
                  if d.isdigit() and os.path.isfile(os.path.join(model_dir, d, "saved_model.pb")))


def read_metadata(path: str) -> Dict:
    """Reads the `tfgan_model.json` of an exported SavedModel version directory."""
    with open(os.path.join(path, METADATA_FILE)) as f:
        return json.load(f)


def read_sidecar(tflite_path: str) -> Optional[Dict]:
    """The sidecar JSON next to a `.tflite` file, or None if there is none."""
    path = os.path.join(os.path.dirname(os.path.abspath(tflite_path)), SIDECAR_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def served_num_classes(signature_defs: Dict) -> Optional[int]:
    """The class count a served model states in its metadata (`CLASS_IDS_SIGNATURE`), or None.

    Args:
      signature_defs: `["metadata"]["signature_def"]["signature_def"]` of a TF Serving GetModelMetadata
        reply (REST JSON, or `json_format.MessageToDict` of the gRPC reply: dim sizes may be strings).

    Example:
      >>> served_num_classes(RestClient(url).metadata("cgan_mnist")["metadata"]["signature_def"]["signature_def"])
      10
    """
    outputs = signature_defs.get(CLASS_IDS_SIGNATURE, {}).get("outputs", {})
    dims = outputs.get("class_ids", {}).get("tensor_shape", {}).get("dim", [])
    if len(dims) != 1 or int(dims[0].get("size", -1)) < 1:
        return None
    return int(dims[0]["size"])
