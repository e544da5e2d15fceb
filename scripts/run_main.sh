#!/usr/bin/env bash
# The main job: install, train the default preset (DCGAN on offline MNIST), then export the generator
# as a versioned TF Serving SavedModel + TFLite files under export/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
tfgan train --model=dcgan_mnist --output_dir=runs/dcgan_mnist --eval_every=1 --eval_metric=fcd "$@"
tfgan export --run_dir=runs/dcgan_mnist --name=dcgan_mnist
