"""Trains the small MNIST / Fashion-MNIST classifiers shipped in `tfgan_app/evaluation/classifiers/`.

These classifiers are the feature extractors for "classifier FID" (FCD), the
classifier score and per-class coverage of generated digits / clothes (see
`tfgan_app.evaluation.extractors.ClassifierExtractor`). Each is a small CNN
taking uint8-valued `[N, 28, 28, 1]` images (the 1/255 rescaling is inside the
model), with a 128-d `features` layer and 10 `logits`. The saved files are
uncompiled (no optimizer state) to stay small.

Usage (a few CPU minutes per dataset):
    python scripts/train_classifiers.py --datasets=mnist,fashion_mnist

Writes `<dataset>_classifier.keras` and updates `metrics.json` next to them:
test accuracy, epochs, training time, and the reference scores of real data
with the new classifier (classifier FID / KID of the 10k test images vs 10k
training images, and the test images' classifier score), the "perfect
generator" numbers to compare generated images with.
"""

import argparse
import json
import os
import time

import keras
import numpy as np

from tfgan_app.data import load_fashion_mnist, load_mnist
from tfgan_app.evaluation import ArraySource, evaluate

CLASSIFIER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "tfgan_app", "evaluation", "classifiers")
LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}


def build_classifier(num_classes: int = 10) -> keras.Model:
    """Small CNN: 5 conv layers with batch norm, global average pooling, 128-d features, logits."""
    inputs = keras.Input((28, 28, 1), name="images")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    for filters, pool in ((32, False), (32, True), (64, False), (64, True), (128, False)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        if pool:
            x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    features = keras.layers.Dense(128, activation="relu", name="features")(x)
    x = keras.layers.Dropout(0.3)(features)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="digit_classifier")


def train(dataset: str, epochs: int, batch_size: int, seed: int) -> dict:
    """Trains one classifier, writes it and returns its metrics."""
    keras.utils.set_random_seed(seed)
    train_x, train_y = LOADERS[dataset]("train")
    test_x, test_y = LOADERS[dataset]("test")
    model = build_classifier()
    steps = epochs * int(np.ceil(len(train_x) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(keras.optimizers.Adam(schedule),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.time()
    model.fit(train_x.astype(np.float32), train_y, batch_size=batch_size, epochs=epochs, verbose=2)
    seconds = time.time() - start
    _, accuracy = model.evaluate(test_x.astype(np.float32), test_y, batch_size=512, verbose=0)
    shipped = build_classifier()  # uncompiled copy: no optimizer state in the file
    shipped.set_weights(model.get_weights())
    path = os.path.join(CLASSIFIER_DIR, f"{dataset}_classifier.keras")
    shipped.save(path)
    return {"test_accuracy": round(float(accuracy), 4), "epochs": epochs, "train_seconds": round(seconds, 1),
            "file_bytes": os.path.getsize(path)}


def reference_scores(dataset: str) -> dict:
    """Scores of the real test split against the training split with the shipped classifier."""
    test_x, _ = LOADERS[dataset]("test")
    result = evaluate(ArraySource(f"{dataset} test", test_x), dataset, metrics="fid,kid,is",
                      num_samples=len(test_x), extractor=dataset, split="train")
    return {"fcd_test_vs_train": round(result["metrics"]["fid"], 4),
            "kid_test_vs_train": round(result["metrics"]["kid_mean"], 6),
            "classifier_score_test": round(result["metrics"]["is_mean"], 3),
            "reference_samples": result["num_generated"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="mnist,fashion_mnist")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    metrics_path = os.path.join(CLASSIFIER_DIR, "metrics.json")
    metrics = {}
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            metrics = json.load(f)
    for dataset in args.datasets.split(","):
        if dataset not in LOADERS:
            parser.error(f"unknown dataset {dataset!r}; expected some of {sorted(LOADERS)}")
        metrics[dataset] = train(dataset, args.epochs, args.batch_size, args.seed)
        metrics[dataset].update(reference_scores(dataset))
        print(dataset, metrics[dataset], flush=True)
        with open(metrics_path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
