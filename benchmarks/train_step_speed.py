"""DCGAN training speed: our `GAN.fit` vs a plain keras.io-style step vs PyTorch, knobs, scaling.

Sections (`--sections`, default all):

* `compare` (batch 64 and 256, MNIST 28x28): steps/s of
  - `plain`: the keras.io "DCGAN overriding train_step" loop written below (one
    tape per network, real and fake concatenated into one D batch, noisy labels),
    float32, `fit` defaults;
  - `ours fp32`: `tfgan_app.gans.GAN` with the same float32 `fit` defaults;
  - `ours fast`: `GAN` with the fast settings (`mixed_bfloat16`, `steps_per_execution`);
  - `torch`: PyTorch's reference DCGAN loop (pytorch/examples `dcgan/main.py`) on the
    same architecture, float32 on CPU; skipped with a message when torch is absent.
  All use the same generator/discriminator architecture (`dcgan_generator`,
  `dcgan_discriminator` with 64 base filters, latent 64) and Adam(2e-4, 0.5).
* `knobs` (batch 64): the effect of `jit_compile` (XLA), mixed precision,
  `steps_per_execution` and the `tf.data` input pipeline, each against float32 defaults.
* `scaling`: step time vs batch size (32-256) and image size (28, 32, 64).

How it measures: the variants of a table run in one worker process, one timed
window each in turn, for several rounds, so every variant sees the same machine
load; a ratio is the median over rounds of the per-round ratio (robust to load
drift), a rate is the median over rounds. A `fit` window excludes its first
step group (iterator creation, shuffle-buffer fill) and tracing (warm-up call).
Each window also records the process' CPU seconds: "CPU ms/step" and the
"(CPU)" ratios are far less sensitive to other processes on a shared machine
than wall time (threads that spin-wait still count, so they are not exact).

Usage:
    python benchmarks/train_step_speed.py --quick            # ~7 min on 2 cores (compare 2, knobs 1.5, scaling 4)
    python benchmarks/train_step_speed.py --sections=knobs   # one section, full length
"""

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)

LATENT_DIM = 64
FAST = {"policy": "mixed_bfloat16", "spe": 10}  # the fast settings; see benchmarks/README.md


# ---------------------------------------------------------------- worker side (one process per table)

def _tf_dataset(variant: Dict[str, Any]):
    """The input pipeline of a variant, infinite, as `(images, labels)` batches in [-1, 1]."""
    import numpy as np
    import tensorflow as tf
    from tfgan_app.data import load_dataset, load_mnist

    batch, size, pipeline = variant["batch"], variant["image_size"], variant.get("pipeline", "default")
    image_size = None if size == 28 else (size, size)
    if pipeline == "default":  # the library's pipeline: shuffle, batch, parallel map, prefetch
        return load_dataset("mnist", batch, image_size=image_size, seed=0).dataset.repeat()
    images, labels = load_mnist("train")
    if pipeline == "synthetic":  # one batch repeated: no input cost at all (upper bound)
        x = tf.image.resize(images[:batch].astype("float32"), (size, size)) / 127.5 - 1.0
        return tf.data.Dataset.from_tensors((x, tf.zeros([batch], tf.int32))).repeat()
    if pipeline == "cache":  # decoded once to float32 in memory (what .cache() after the map gives)
        x = images.astype("float32") / 127.5 - 1.0
        if image_size:
            x = tf.image.resize(x, image_size).numpy()
        ds = tf.data.Dataset.from_tensor_slices((x, labels.astype("int32")))
        return ds.shuffle(len(x), seed=0).batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE).repeat()
    if pipeline == "no_prefetch":  # the library's pipeline without parallel map and prefetch
        ds = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
        ds = ds.shuffle(len(images), seed=0).batch(batch, drop_remainder=True)

        def scale(x, y):
            x = tf.cast(x, tf.float32)
            return (tf.image.resize(x, image_size) if image_size else x) / 127.5 - 1.0, y
        return ds.map(scale).repeat()
    raise ValueError(f"unknown pipeline {pipeline!r}")


def _plain_gan_class():
    """The keras.io DCGAN example's `train_step` (fchollet, "DCGAN overriding Model.train_step").

    Deviations, both needed to run the same model: the discriminator returns logits
    (so the loss is `from_logits=True`), and networks are called with `training=True`
    because our architecture has batch norm (the example's has none).
    """
    import keras
    import tensorflow as tf

    class PlainGAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)

        def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
            super().compile(**kwargs)
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn
            self.d_loss_metric = keras.metrics.Mean(name="d_loss")
            self.g_loss_metric = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_metric, self.g_loss_metric]

        def train_step(self, data):
            real_images = data[0]
            batch_size = tf.shape(real_images)[0]
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            generated = self.generator(z, training=True)
            combined = tf.concat([generated, real_images], axis=0)
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            labels += 0.05 * tf.random.uniform(tf.shape(labels))
            with tf.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(combined, training=True))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            misleading = tf.zeros((batch_size, 1))
            with tf.GradientTape() as tape:
                g_loss = self.loss_fn(misleading, self.discriminator(self.generator(z, training=True),
                                                                     training=True))
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
            self.d_loss_metric.update_state(d_loss)
            self.g_loss_metric.update_state(g_loss)
            return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}

    return PlainGAN


class _KerasRunner:
    """Times `fit` windows of a Keras GAN variant (ours or plain)."""

    def __init__(self, variant: Dict[str, Any]):
        import keras

        from tfgan_app.architectures import dcgan_discriminator, dcgan_generator
        from tfgan_app.gans import GAN

        shape = (variant["image_size"], variant["image_size"], 1)
        keras.mixed_precision.set_global_policy(variant.get("policy", "float32"))  # layers keep it
        generator = dcgan_generator(LATENT_DIM, shape, base_filters=variant.get("g_filters", 64))
        discriminator = dcgan_discriminator(shape, base_filters=variant.get("d_filters", 64))
        self.spe = variant.get("spe", 1)
        compile_args = {"jit_compile": variant.get("jit", False), "steps_per_execution": self.spe}
        optimizers = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(2)]
        if variant["impl"] == "ours":
            self.model = GAN(generator, discriminator, seed=0)
            self.model.compile(*optimizers, loss="non_saturating", **compile_args)
        else:
            self.model = _plain_gan_class()(discriminator, generator, LATENT_DIM)
            self.model.compile(*optimizers, keras.losses.BinaryCrossentropy(from_logits=True), **compile_args)
        keras.mixed_precision.set_global_policy("float32")
        self.dataset = _tf_dataset(variant)
        self.window_steps = 2 * self.spe

    def window(self, steps: int) -> Tuple[float, float]:
        """Runs `fit` for `spe + steps` steps; returns (wall, process CPU) seconds of the last `steps`."""
        import keras
        times: Dict[str, Tuple[float, float]] = {}

        class Timer(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                times.setdefault("start", (time.perf_counter(), time.process_time()))

            def on_epoch_end(self, epoch, logs=None):
                times["end"] = (time.perf_counter(), time.process_time())

        self.model.fit(self.dataset, epochs=1, steps_per_epoch=self.spe + steps, verbose=0, callbacks=[Timer()])
        return times["end"][0] - times["start"][0], times["end"][1] - times["start"][1]

    def calibrate(self, budget: float) -> None:
        """Warms up (tracing happens in the untimed first step group) and sets the window to ~`budget` s."""
        per_step = self.window(self.spe)[0] / self.spe
        self.window_steps = self.spe * max(1, round(budget / (per_step * self.spe)))


def _torch_models(image_size: int):
    """Our DCGAN architecture in PyTorch (same layers, shapes and init as `tfgan_app.architectures.dcgan`)."""
    from torch import nn

    side, stages = image_size, 0
    while side % 2 == 0 and side > 4:
        side, stages = side // 2, stages + 1
    base, top = 64, 64 * 2 ** (stages - 1)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Sequential(nn.Linear(LATENT_DIM, side * side * top, bias=False),
                                         nn.BatchNorm1d(side * side * top), nn.ReLU())
            layers: List[nn.Module] = []
            for i in range(stages - 1):
                cin, cout = top // 2 ** i, top // 2 ** (i + 1)
                layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
            layers += [nn.ConvTranspose2d(base, 1, 4, 2, 1), nn.Tanh()]
            self.body = nn.Sequential(*layers)

        def forward(self, z):
            return self.body(self.project(z).view(-1, top, side, side))

    d_layers: List[nn.Module] = []
    for i in range(stages):
        cin, cout = 1 if i == 0 else base * 2 ** (i - 1), base * 2 ** i
        d_layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=i == 0))
        if i > 0:
            d_layers.append(nn.BatchNorm2d(cout))
        d_layers.append(nn.LeakyReLU(0.2))
    d_layers += [nn.Flatten(), nn.Linear(side * side * top, 1)]
    generator, discriminator = Generator(), nn.Sequential(*d_layers)
    for module in list(generator.modules()) + list(discriminator.modules()):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
    return generator, discriminator


class _TorchRunner:
    """Times PyTorch's reference DCGAN loop (pytorch/examples dcgan/main.py) on our architecture.

    As in the reference, the fake batch of the D update is reused for the G
    update (one generator forward per step; the Keras loops run two). Batches are
    drawn from MNIST already scaled to [-1, 1] in memory (no DataLoader cost).
    """

    def __init__(self, variant: Dict[str, Any]):
        import torch

        from tfgan_app.data import load_mnist

        torch.manual_seed(0)
        self.torch = torch
        self.batch = variant["batch"]
        self.generator, self.discriminator = _torch_models(variant["image_size"])
        images = torch.from_numpy(load_mnist("train")[0]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        if variant["image_size"] != 28:
            images = torch.nn.functional.interpolate(images, size=variant["image_size"], mode="bilinear")
        self.images = images
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = torch.nn.BCEWithLogitsLoss()
        self.window_steps = 2

    def step(self) -> None:
        torch = self.torch
        real = self.images[torch.randint(0, len(self.images), (self.batch,))]
        ones, zeros = torch.ones(self.batch, 1), torch.zeros(self.batch, 1)
        self.discriminator.zero_grad()
        self.criterion(self.discriminator(real), ones).backward()
        fake = self.generator(torch.randn(self.batch, LATENT_DIM))
        self.criterion(self.discriminator(fake.detach()), zeros).backward()
        self.d_opt.step()
        self.generator.zero_grad()
        self.criterion(self.discriminator(fake), ones).backward()
        self.g_opt.step()

    def window(self, steps: int) -> Tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(steps):
            self.step()
        return time.perf_counter() - start, time.process_time() - cpu_start

    def calibrate(self, budget: float) -> None:
        self.window(1)
        per_step = self.window(2)[0] / 2
        self.window_steps = max(2, round(budget / per_step))


def worker(config: Dict[str, Any]) -> None:
    """Builds every variant, then times them round-robin; emits per-variant window seconds."""
    if config.get("threads"):  # process-wide: before TensorFlow creates its thread pools
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(config["threads"][0])
        tf.config.threading.set_inter_op_parallelism_threads(config["threads"][1])
    runners = []
    for variant in config["variants"]:
        if variant["impl"] == "torch":
            runners.append(_TorchRunner(variant))
        else:
            runners.append(_KerasRunner(variant))
    for runner in runners:
        runner.calibrate(config["budget"])
    seconds: List[List[float]] = [[] for _ in runners]
    cpu_seconds: List[List[float]] = [[] for _ in runners]
    for _ in range(config["rounds"]):
        for runner, wall, cpu in zip(runners, seconds, cpu_seconds):
            wall_s, cpu_s = runner.window(runner.window_steps)
            wall.append(wall_s)
            cpu.append(cpu_s)
    _common.emit({"seconds": seconds, "cpu_seconds": cpu_seconds, "steps": [r.window_steps for r in runners]})


# ---------------------------------------------------------------- driver side

def torch_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def measure(variants: List[Dict[str, Any]], args, threads: Optional[Tuple[int, int]] = None,
            env: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """Runs the variants in one worker; returns them with `steps_per_s`, `ms_per_step` and `rounds`.

    `threads` = (intra-op, inter-op) threads of that worker (default: TensorFlow's); `env` its extra environment.
    """
    config = {"variants": variants, "budget": args.budget, "rounds": args.rounds, "threads": threads}
    result = _common.run_isolated(os.path.abspath(__file__), config, timeout=args.timeout, env=env)
    if "error" in result:
        print(f"  worker failed: {result['error']}", flush=True)
        return [dict(v, error=result["error"]) for v in variants]
    rows = []
    for variant, secs, cpu_secs, steps in zip(variants, result["seconds"], result["cpu_seconds"], result["steps"]):
        rates = [steps / s for s in secs]
        rows.append(dict(variant, rates=rates, cpu_rates=[steps / s for s in cpu_secs],
                         steps_per_s=statistics.median(rates), ms_per_step=1000.0 / statistics.median(rates),
                         cpu_ms_per_step=1000.0 * statistics.median(cpu_secs) / steps,
                         spread=_common.spread(secs)))
    return rows


def paired_ratio(row: Dict[str, Any], base: Dict[str, Any], key: str = "rates") -> Optional[float]:
    """Median over rounds of row rate / base rate (same round = same machine load).

    `key="cpu_rates"` uses steps per process-CPU-second instead of wall time: less
    sensitive to other processes on a shared machine (spin-waiting threads still count).
    """
    if key not in row or key not in base:
        return None
    return statistics.median(a / b for a, b in zip(row[key], base[key]))


def describe(v: Dict[str, Any]) -> str:
    parts = [v.get("policy", "float32")]
    if v.get("jit"):
        parts.append("jit_compile")
    if v.get("spe", 1) > 1:
        parts.append(f"steps_per_execution={v['spe']}")
    if v.get("pipeline", "default") != "default" and v["impl"] != "torch":
        parts.append(f"pipeline={v['pipeline']}")
    return ", ".join(parts)


def section_compare(args) -> None:
    notes = ["`plain`: the keras.io-style `train_step` written in this script; `ours`: `tfgan_app.gans.GAN.fit`; "
             "`torch`: pytorch/examples' DCGAN loop (one G forward per step; the Keras loops do two). "
             "Ratios are medians of per-round ratios (same machine load)."]
    with_torch = torch_available()
    if not with_torch:
        notes.append("PyTorch column skipped: torch is not installed (`pip install torch` to add it).")
    rows = []
    for batch in args.compare_batches:
        common = {"batch": batch, "image_size": 28}
        variants = [dict(common, impl="plain"), dict(common, impl="ours"), dict(common, impl="ours", **FAST)]
        if with_torch:
            variants.append(dict(common, impl="torch"))
        measured = measure(variants, args)
        plain, torch_row = measured[0], measured[3] if with_torch else None
        for row in measured:
            row["settings"] = describe(row)
            row["vs_plain"] = paired_ratio(row, plain)
            row["vs_plain_cpu"] = paired_ratio(row, plain, "cpu_rates")
            row["vs_torch"] = paired_ratio(row, torch_row) if torch_row else None
        rows += measured
    _common.report("1. DCGAN MNIST 28x28 train steps/s: ours vs keras.io-style vs PyTorch", rows,
                   ["batch", "impl", "settings", "steps_per_s", "ms_per_step", "cpu_ms_per_step", "vs_plain",
                    "vs_plain_cpu", "vs_torch", "spread"],
                   ["batch", "impl", "settings", "steps/s", "ms/step", "CPU ms/step", "x plain", "x plain (CPU)",
                    "x torch", "window spread"],
                   notes)


def section_knobs(args) -> None:
    common = {"batch": args.knob_batch, "image_size": 28, "impl": "ours"}
    variants = [
        dict(common),
        dict(common, jit=True),
        dict(common, policy="mixed_bfloat16"),
        dict(common, policy="mixed_bfloat16", jit=True),
        dict(common, spe=10),
        dict(common, spe=50),
        dict(common, policy="mixed_bfloat16", spe=10),
        dict(common, pipeline="no_prefetch"),
        dict(common, pipeline="cache"),
        dict(common, pipeline="synthetic"),
    ]
    notes = ["Baseline: float32, no XLA, steps_per_execution=1, the library pipeline (`load_dataset`: "
             "shuffle, batch, parallel map, prefetch). `cache`: images decoded to float32 once in memory; "
             "`synthetic`: one batch repeated (zero input cost, an upper bound)."]
    if "avx512_fp16" in _common.cpu_flags():
        variants.append(dict(common, policy="mixed_float16"))
    else:
        notes.append("mixed_float16 not measured: this CPU has no native float16 arithmetic "
                     "(no AVX512-FP16/AMX-FP16), so TensorFlow emulates it.")
    if args.quick:
        variants = [v for v in variants if v.get("spe") != 50]
    rows = measure(variants, args)
    for row in rows:
        row["settings"] = describe(row)
        row["speedup"] = paired_ratio(row, rows[0])
        row["speedup_cpu"] = paired_ratio(row, rows[0], "cpu_rates")
    _common.report(f"2. Knobs, ours, batch {args.knob_batch}", rows,
                   ["settings", "steps_per_s", "ms_per_step", "cpu_ms_per_step", "speedup", "speedup_cpu", "spread"],
                   ["settings", "steps/s", "ms/step", "CPU ms/step", "x baseline", "x baseline (CPU)",
                    "window spread"], notes)


def section_scaling(args) -> None:
    rows = []
    for size in args.image_sizes:
        for policy in args.scaling_policies:
            variants = [{"impl": "ours", "batch": b, "image_size": size, "policy": policy,
                         "pipeline": "synthetic"} for b in args.scaling_batches]
            rows += measure(variants, args)
    for row in rows:
        if "steps_per_s" in row:
            row["ms_per_image"] = row["ms_per_step"] / row["batch"]
    _common.report("3. Step time vs batch size and image size (ours, synthetic input)", rows,
                   ["image_size", "policy", "batch", "ms_per_step", "ms_per_image", "cpu_ms_per_step", "spread"],
                   ["image side", "policy", "batch", "ms/step", "ms/image", "CPU ms/step", "window spread"],
                   ["DCGAN stages follow the side: 28 → 2 up/down-sampling stages (7x7x128 start), "
                    "32 → 3 (4x4x256), 64 → 4 (4x4x512); input pipeline excluded (one repeated batch)."])


def cpu_class(env: Dict[str, str]) -> str:
    """The CPU flags that matter for speed, as the worker sees them (`ONEDNN_MAX_CPU_ISA` caps oneDNN)."""
    flags = ", ".join(_common.cpu_flags()) or "no AVX2"
    isa = env.get("ONEDNN_MAX_CPU_ISA")
    return f"{flags}; oneDNN capped at {isa}" if isa else flags


def section_threads(args) -> None:
    """The default preset's step (batch 32, G 64 / D 32 filters, float32) under process-wide settings, per CPU
    class: TensorFlow's thread pools, oneDNN off, and the oneDNN ISA capped at AVX2 (a CPU without AVX-512)."""
    common = {"batch": 32, "image_size": 28, "impl": "ours", "d_filters": 32}
    rows = []
    for isa in args.isas:
        env = {"ONEDNN_MAX_CPU_ISA": isa} if isa != "native" else {}
        settings = [("TensorFlow defaults", None, {}), ("intra 2 / inter 1", (2, 1), {}),
                    ("intra 1 / inter 2", (1, 2), {}), ("oneDNN off (Eigen)", None, {"TF_ENABLE_ONEDNN_OPTS": "0"})]
        base = None
        for label, threads, extra in settings:
            variants = [dict(common), dict(common, jit=True), dict(common, spe=10)]
            for row in measure(variants, args, threads=threads, env={**env, **extra}):
                row.update(cpu=cpu_class(env), process=label, settings=describe(row))
                base = base or row
                row["speedup_cpu"] = (base["cpu_ms_per_step"] / row["cpu_ms_per_step"]
                                      if "cpu_ms_per_step" in row and "cpu_ms_per_step" in base else None)
                rows.append(row)
    _common.report("4. Threads, oneDNN and XLA per CPU class (dcgan_mnist's step: batch 32, D 32 filters, float32)",
                   rows, ["cpu", "process", "settings", "ms_per_step", "cpu_ms_per_step", "speedup_cpu", "spread"],
                   ["CPU flags", "process settings", "step settings", "ms/step", "CPU ms/step",
                    "x first row (CPU)", "window spread"],
                   ["Each process-settings group runs in its own worker (thread pools and oneDNN are process-wide); "
                    "compare CPU ms/step across groups, wall ms/step only within one."])


SECTIONS = {"compare": section_compare, "knobs": section_knobs, "scaling": section_scaling,
            "threads": section_threads}


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of ~1 s windows, float32-only scaling, no steps_per_execution=50")
    parser.add_argument("--sections", default="compare,knobs,scaling,threads",
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--image_sizes", default="28,32,64", help="image sides of the scaling section")
    parser.add_argument("--policies", default=None,
                        help="dtype policies of the scaling section (default: float32 with --quick, "
                             "else float32,mixed_bfloat16)")
    parser.add_argument("--isas", default="native,AVX2",
                        help="threads section: CPU classes to measure, `native` and/or ONEDNN_MAX_CPU_ISA values "
                             "(AVX2 approximates a CPU without AVX-512)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {sorted(SECTIONS)}")
    args.rounds = 3 if args.quick else 5
    args.budget = 1.0 if args.quick else 3.0
    args.timeout = 1800.0
    args.compare_batches = [64, 256]
    args.knob_batch = 64
    args.image_sizes = [int(s) for s in args.image_sizes.split(",")]
    args.isas = args.isas.split(",")
    args.scaling_batches = [32, 64, 128, 256]
    default_policies = "float32" if args.quick else "float32,mixed_bfloat16"
    args.scaling_policies = (args.policies or default_policies).split(",")
    return args


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    print(f"Machine: {_common.machine_summary()}")
    print(f"Load average at start: {os.getloadavg()[0]:.1f} (numbers are only comparable within one table)")
    start = time.time()
    for name in args.sections.split(","):
        SECTIONS[name](args)
    print(f"\n(total {time.time() - start:.0f} s; load average at end {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
