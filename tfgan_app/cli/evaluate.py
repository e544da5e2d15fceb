"""Score a generator (run dir, .keras, SavedModel) or an image folder against a dataset.

Prints a table of FID, KID, Inception score and precision/recall and writes
them as JSON. Features come from the shipped MNIST / Fashion-MNIST classifier
for those datasets (classifier FID, "FCD"), otherwise from InceptionV3 (needs
its Keras weights file offline; see --inception_weights).

Example:
  tfgan evaluate --generator=runs/dcgan_mnist --dataset=mnist --metrics=fid,kid,is,pr --num_samples=10000
"""

import json
import os

from absl import flags

from tfgan_app.cli import quiet
from tfgan_app.errors import UsageError
from tfgan_app.names import EXTRACTOR_NAMES, METRICS

_LABELS = {"fid": "FID", "kid_mean": "KID (mean)", "kid_std": "KID (std)", "is_mean": "IS (mean)",
           "is_std": "IS (std)", "precision": "precision", "recall": "recall"}


def define_flags(fv: flags.FlagValues) -> None:
    """Flags of `tfgan evaluate`."""
    flags.DEFINE_string("generator", None, "Run directory, .keras generator, SavedModel directory (or TF Serving "
                        "model folder: highest version) or image folder to evaluate.", flag_values=fv)
    flags.DEFINE_string("dataset", None, "Real data: mnist, fashion_mnist, tfds:NAME or folder:/PATH.",
                        flag_values=fv)
    flags.DEFINE_string("metrics", "fid,kid,is,pr", f"Comma-separated subset of {', '.join(METRICS)}.",
                        flag_values=fv)
    flags.DEFINE_integer("num_samples", 10000, "Generated images, and real images, to compare.", flag_values=fv)
    flags.DEFINE_string("extractor", "auto", f"Feature extractor: auto, {', '.join(EXTRACTOR_NAMES)} or a .keras "
                        "classifier path. auto = shipped classifier for mnist/fashion_mnist, else inception.",
                        flag_values=fv)
    flags.DEFINE_string("inception_weights", "auto", "InceptionV3 .h5 weights file; auto = the Keras cache "
                        "(~/.keras/models/).", flag_values=fv)
    flags.DEFINE_string("split", "train", "Dataset split of the real images.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "TFDS data directory.", flag_values=fv)
    flags.DEFINE_integer("batch_size", 250, "Images per generator / extractor call.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Latent seed (and real-data shuffle / KID subset seed).", flag_values=fv)
    flags.DEFINE_integer("kid_subsets", 100, "KID: number of random subsets.", flag_values=fv)
    flags.DEFINE_integer("kid_subset_size", 1000, "KID: samples per subset.", flag_values=fv)
    flags.DEFINE_integer("is_splits", 10, "Inception score: number of splits.", flag_values=fv)
    flags.DEFINE_integer("pr_k", 3, "Precision/recall: k of the k-NN radii.", flag_values=fv)
    flags.DEFINE_string("reference_stats", None, "A .npz file of the real images' features (FID/KID/PR reference "
                        "statistics): written if absent, read if present, so the real data is extracted once. A file "
                        "made with another extractor, dataset, split, --num_samples, image shape or --seed is "
                        "refused.", flag_values=fv)
    flags.DEFINE_string("output_json", None, "Where to write the results; default: RUN_DIR/evaluation.json for "
                        "a run directory, else ./evaluation.json.", flag_values=fv)


def format_table(result: dict) -> str:
    """Text table of an `evaluate` result.

    With other features than InceptionV3's, the Fréchet distance is labelled FCD (Fréchet classifier
    distance) rather than FID, so that it is not compared with published FIDs.
    """
    inception = result["extractor"] == "inception"
    labels = dict(_LABELS) if inception else {**_LABELS, "fid": "FCD"}
    features = "InceptionV3 features" if inception else (f"{result['extractor']} classifier features: FCD, not "
                                                         "FID; KID and IS on these features too")
    head = (f"{result['generator']} vs {result['dataset']} ({result['split']}) | extractor {result['extractor']} | "
            f"{result['num_generated']} generated, {result['num_real']} real | {result['seconds']} s\n"
            f"  ({features})")
    rows = [f"  {labels.get(name, name):<12} {value:.6g}" for name, value in result["metrics"].items()]
    return "\n".join([head, f"  {'metric':<12} value", *rows])


def run(fv: flags.FlagValues) -> int:
    """Runs the evaluation, prints the table and writes the JSON file."""
    if not fv.generator or not fv.dataset:
        raise UsageError("tfgan evaluate needs --generator=... and --dataset=... "
                         "(e.g. --generator=runs/dcgan_mnist --dataset=mnist).")
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    from tfgan_app.evaluation import evaluate  # pylint: disable=import-outside-toplevel
    result = evaluate(fv.generator, fv.dataset, metrics=fv.metrics, num_samples=fv.num_samples,
                      extractor=fv.extractor, inception_weights=fv.inception_weights, split=fv.split,
                      batch_size=fv.batch_size, seed=fv.seed, kid_subsets=fv.kid_subsets,
                      kid_subset_size=fv.kid_subset_size, is_splits=fv.is_splits, pr_k=fv.pr_k,
                      data_dir=fv.data_dir, verbose=1, reference_stats=fv.reference_stats)
    output = fv.output_json
    if output is None:
        is_run_dir = os.path.isfile(os.path.join(fv.generator, "config.json"))
        output = os.path.join(fv.generator, "evaluation.json") if is_run_dir else "evaluation.json"
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(format_table(result))
    print(f"wrote {output}")
    return 0
