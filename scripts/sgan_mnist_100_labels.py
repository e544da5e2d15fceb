"""Semi-supervised GAN on MNIST with 100 labels vs the same classifier trained on those 100 labels alone.

Trains `SGAN` with feature matching and input instance noise (Salimans et al.
2016's recipe, with the library's MLP discriminator) on 60k MNIST training
images of which only 100 (10 per class) keep their label, then reports the test
accuracy of the discriminator's K-class head. The baseline is the same
discriminator network, same input noise, trained only with cross-entropy on the
100 labelled images for the same number of updates.

Usage:
  python scripts/sgan_mnist_100_labels.py --epochs=10 --steps_per_epoch=600
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures import mlp_generator
from tfgan_app.architectures.variants import extended_discriminator
from tfgan_app.data import load_mnist
from tfgan_app.gans.sgan import SGAN, labelled_indices, semi_supervised_dataset

HIDDEN = (1000, 500, 250, 250, 250)


def build_discriminator():
    return extended_discriminator((28, 28, 1), base="mlp", hidden_units=HIDDEN, extra_outputs=10)


def baseline_accuracy(images, labels, test_images, test_labels, steps, batch_size, noise, lr, seed):
    """The SGAN discriminator's class head trained by cross-entropy on the labelled images only."""
    keras.utils.set_random_seed(seed)
    d = build_discriminator()
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.GaussianNoise(noise)(inputs)
    classifier = keras.Model(inputs, d(x)[:, 1:])
    classifier.compile(keras.optimizers.Adam(lr, beta_1=0.5),
                       keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().shuffle(len(images), seed=seed)
    classifier.fit(ds.batch(batch_size), epochs=1, steps_per_epoch=steps, verbose=0)
    return float(classifier.evaluate(test_images, test_labels, batch_size=1000, verbose=0)[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_labelled", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps_per_epoch", type=int, default=600)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=3e-4)
    parser.add_argument("--input_noise", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    images, labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    images = images.astype(np.float32) / 127.5 - 1.0
    test_images = test_images.astype(np.float32) / 127.5 - 1.0
    labelled = labelled_indices(labels, args.num_labelled, args.seed)
    steps = args.epochs * args.steps_per_epoch

    start = time.time()
    base = baseline_accuracy(images[labelled], labels[labelled].astype(np.int32), test_images, test_labels, steps,
                             min(args.batch_size, args.num_labelled), args.input_noise, args.learning_rate, args.seed)
    print(f"baseline (same classifier, {args.num_labelled} labels only, {steps} steps): "
          f"test accuracy {base:.4f}  [{time.time() - start:.0f} s]", flush=True)

    keras.utils.set_random_seed(args.seed)
    data = semi_supervised_dataset(images, labels, args.num_labelled, args.batch_size, seed=args.seed).repeat()
    generator = mlp_generator(100, (28, 28, 1), hidden_units=(500, 500))
    gan = SGAN(generator, build_discriminator(), num_classes=10, seed=args.seed,
                                feature_matching=True, instance_noise=args.input_noise)
    gan.compile(d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5), loss="non_saturating")
    start, accuracies = time.time(), []
    for epoch in range(args.epochs):
        history = gan.fit(data, epochs=1, steps_per_epoch=args.steps_per_epoch, verbose=0)
        accuracy = float(np.mean(gan.classify(test_images) == test_labels))
        accuracies.append(accuracy)
        print(f"SGAN epoch {epoch + 1}/{args.epochs}: d_loss {history.history['d_loss'][-1]:.3f} "
              f"g_loss {history.history['g_loss'][-1]:.3f} test accuracy {accuracy:.4f} "
              f"[{time.time() - start:.0f} s]", flush=True)
    best = max(accuracies)
    print(f"RESULT num_labelled={args.num_labelled} sgan_accuracy={accuracy:.4f} (best epoch {best:.4f}) "
          f"baseline_accuracy={base:.4f} sgan_beats_baseline={accuracy > base}")


if __name__ == "__main__":
    main()
