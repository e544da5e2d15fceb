"""A quiet CLI (issue 17 §3): no TensorFlow noise by default, help without TensorFlow, no remapper error.

The subprocess tests run with TF_CPP_MIN_LOG_LEVEL removed from the environment, so they see what a
user sees by default.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GRPC_VERBOSITY")}
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["train", "--help"], ["generate", "--help"], ["evaluate", "--help"],
                                  ["export", "--help"], ["serve", "--help"], ["train", "--list_models"],
                                  ["prepare", "--help"]])
def test_help_and_listing_do_not_import_tensorflow(args):
    code = ("import sys, io, contextlib\n"
            "from tfgan_app.cli.main import main\n"
            "out = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out): rc = main(['tfgan'] + {args!r})\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
            "assert rc == 0 and out.getvalue().strip(), (rc, out.getvalue())\n"
            "assert not heavy, heavy[:5]\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_train_prints_no_tensorflow_log_lines(tmp_path):
    """`tfgan train` on CPU: no `E0000`/`W0000`/`I0000` lines (cuInit, oneDNN banner, remapper, ...)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tfgan_app.cli.main", "train", "--model=stylegan_mnist", "--epochs=1",
         "--steps_per_epoch=2", "--batch_size=4", f"--output_dir={tmp_path / 'run'}",
         "--set", "generator_options.filters=8", "--set", "generator_options.max_filters=8",
         "--set", "discriminator_options.filters=8", "--set", "discriminator_options.max_filters=8"],
        env=_env(), capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (proc.stdout + proc.stderr).splitlines()
    noisy = [line for line in lines if line[:5] in ("E0000", "W0000", "I0000") or "absl::InitializeLog" in line]
    assert not noisy, noisy
    assert any(line.startswith("Done in") for line in lines), lines


def test_discriminators_train_without_a_remapper_error():
    """The CPU remapper used to fail on Conv2D + BiasAdd + LeakyRelu whose LeakyReluGrad read the BiasAdd
    (StyleGAN's discriminator, and DCGAN's first layer: the default preset)."""
    code = ("import tensorflow as tf, keras\n"
            "from tfgan_app.architectures.dcgan import dcgan_discriminator\n"
            "from tfgan_app.architectures.stylegan import stylegan_discriminator\n"
            "for d in (stylegan_discriminator((28, 28, 1), filters=8, max_filters=8),\n"
            "          dcgan_discriminator((28, 28, 1), base_filters=8)):\n"
            "    opt = keras.optimizers.Adam()\n"
            "    @tf.function\n"
            "    def step(x):\n"
            "        with tf.GradientTape() as tape:\n"
            "            loss = tf.reduce_mean(d(x, training=True))\n"
            "        opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))\n"
            "        return loss\n"
            "    step(tf.random.normal((4, 28, 28, 1)))\n"
            "    print('ok', d.name, flush=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(TF_CPP_MIN_LOG_LEVEL="2"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.count("ok") == 2, proc.stderr[-2000:]
    assert "remapper failed" not in proc.stderr, proc.stderr[-2000:]


def test_output_grad_leaky_relu_matches_leaky_relu_to_second_order():
    """Same values, input gradient and R1-style (gradient-of-gradient) weight gradient as tf.nn.leaky_relu."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tfgan_app.layers import OutputGradLeakyReLU  # pylint: disable=import-outside-toplevel
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 6)).astype("float32"))
    w = tf.Variable(np.random.default_rng(1).normal(size=(6, 6)).astype("float32"))
    layer = OutputGradLeakyReLU(0.2)

    def r1(act):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = act(tf.matmul(x, w))
                out = tf.reduce_sum(act(tf.matmul(y, w)) ** 2)
            gx = inner.gradient(out, x)
            penalty = tf.reduce_sum(gx ** 2)
        return y, gx, outer.gradient(penalty, w)

    ours = r1(layer)
    reference = r1(lambda t: tf.nn.leaky_relu(t, alpha=0.2))
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_export_prints_no_tflite_converter_lines(tmp_path):
    """`tfgan export`: no converter deprecation warning, "fully_quantize: ..." or XNNPACK INFO lines."""
    sys.path.insert(0, os.path.dirname(__file__))
    from _export_fixtures import write_run_dir  # pylint: disable=import-outside-toplevel

    run_dir = write_run_dir(str(tmp_path / "run"), name="tiny")
    proc = subprocess.run(
        [sys.executable, "-m", "tfgan_app.cli.main", "export", f"--run_dir={run_dir}", f"--base={tmp_path / 'x'}"],
        env=_env(), capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == "", proc.stderr[-3000:]
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [
        "SavedModel", "models.config", "TFLite float32", "TFLite float16", "TFLite    int8"], proc.stdout
