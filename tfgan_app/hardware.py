"""The compute precision a run uses, chosen from the hardware it meets.

bfloat16 pays only where the processor computes it natively: CPUs with AVX-512 BF16 or AMX, NVIDIA GPUs of
compute capability >= 8.0 (Ampere and newer) and TPUs. Elsewhere TensorFlow emulates it, and the default
DCGAN preset measured ~8x slower per step than in float32 on a 2-core AVX2 CPU (Zen 3: 0.78 s vs ~0.1 s per
step; see `benchmarks/RESULTS.md`). float16 pays on GPUs of compute capability 7.x (tensor cores), with loss scaling.

`mixed_precision: "auto"` (every preset's default) resolves with `choose_precision`:

| hardware | policy |
|---|---|
| TPU | `mixed_bfloat16` |
| every GPU compute capability >= 8.0 | `mixed_bfloat16` |
| every GPU compute capability >= 7.0 | `mixed_float16` (both optimizers loss-scaled) |
| other GPUs | `float32` |
| CPU with `avx512_bf16` or `amx_bf16` (and oneDNN allowed to use them) | `mixed_bfloat16` |
| any other CPU | `float32` |

`$TFGAN_MIXED_PRECISION` (a policy name), where set, replaces the hardware's answer for "auto" on that machine (the
test suite sets it to float32 so that results do not depend on the CPU). An explicit policy in a preset or flag
is kept as asked; if the hardware would emulate it, the choice carries a one-line warning.

Example:
>>> facts = HardwareFacts(cpu_flags=frozenset({"avx2", "fma"}))
>>> choose_precision("auto", facts).describe()
'float32 (auto: this CPU has no bfloat16 instructions)'
>>> choose_precision("auto", HardwareFacts(cpu_flags=frozenset({"avx512_bf16"}))).policy
'mixed_bfloat16'
"""

import dataclasses
import os
from typing import Iterable, Optional, Tuple

from tfgan_app.errors import UsageError

AUTO = "auto"
PRECISION_ENV = "TFGAN_MIXED_PRECISION"
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
PRECISION_CHOICES = (AUTO,) + POLICIES
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPU_FP16_FLAGS = ("avx512_fp16", "amx_fp16")
# ONEDNN_MAX_CPU_ISA values that still allow oneDNN's bfloat16 instructions (oneDNN's documented ISA names).
ONEDNN_BF16_ISAS = ("ALL", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
                    "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512",
                    "AVX10_2_512_AMX_2")
# Measured on a 2-core AMD EPYC (Zen 3: AVX2 + FMA, no AVX-512), dcgan_mnist's train step; benchmarks/RESULTS.md.
EMULATED_BF16_SLOWDOWN = 8


@dataclasses.dataclass(frozen=True)
class HardwareFacts:
    """What decides the precision: the CPU's instruction-set flags, the GPUs' compute capabilities, a TPU.

    Attributes:
      cpu_flags: lower-case flags as in `/proc/cpuinfo` (e.g. `{"avx2", "avx512_bf16"}`).
      gpu_capabilities: `(major, minor)` compute capability of each GPU that trains (empty: none).
      tpu: training runs on a TPU.
      onednn_max_isa: the `ONEDNN_MAX_CPU_ISA` environment variable, which caps oneDNN's instructions.
    """

    cpu_flags: frozenset = frozenset()
    gpu_capabilities: Tuple[Tuple[int, int], ...] = ()
    tpu: bool = False
    onednn_max_isa: Optional[str] = None

    @property
    def cpu_bf16(self) -> bool:
        """True where the CPU computes bfloat16 natively and oneDNN may use it."""
        has = any(flag in self.cpu_flags for flag in CPU_BF16_FLAGS)
        capped = self.onednn_max_isa is not None and self.onednn_max_isa.upper() not in ONEDNN_BF16_ISAS
        return has and not capped

    @property
    def cpu_fp16(self) -> bool:
        """True where the CPU computes float16 natively (AVX-512 FP16 or AMX-FP16)."""
        return any(flag in self.cpu_flags for flag in CPU_FP16_FLAGS)

    def summary(self) -> str:
        """One line naming the hardware, e.g. `CPU (avx2, fma), no GPU`."""
        if self.tpu:
            return "TPU"
        if self.gpu_capabilities:
            return "GPU compute capability " + ", ".join(f"{a}.{b}" for a, b in self.gpu_capabilities)
        shown = [f for f in ("avx2", "fma", "avx512f", *CPU_BF16_FLAGS, *CPU_FP16_FLAGS) if f in self.cpu_flags]
        capped = f"; ONEDNN_MAX_CPU_ISA={self.onednn_max_isa}" if self.onednn_max_isa else ""
        return f"CPU ({', '.join(shown) or 'no AVX2'}{capped}), no GPU"


@dataclasses.dataclass(frozen=True)
class PrecisionChoice:
    """The Keras dtype policy a run uses, and why.

    Attributes:
      policy: `float32`, `mixed_bfloat16` or `mixed_float16`.
      reason: why, in a few words ("auto: this CPU has no bfloat16 instructions", "asked for").
      warning: one line when the hardware emulates the asked-for policy, else None.
    """

    policy: str
    reason: str
    warning: Optional[str] = None

    def describe(self) -> str:
        return f"{self.policy} ({self.reason})"


def read_cpu_flags(path: str = "/proc/cpuinfo") -> frozenset:
    """The CPU's instruction-set flags from `path` (Linux); an empty set where it cannot be read."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):  # x86: flags; ARM: Features
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def _gpu_capabilities(tf) -> Tuple[Tuple[int, int], ...]:
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        capabilities.append(tuple(capability) if capability else (0, 0))
    return tuple(capabilities)


def detect_hardware(strategy=None, cpu_info_path: str = "/proc/cpuinfo") -> HardwareFacts:
    """The `HardwareFacts` of this machine (and of `strategy`: a `TPUStrategy` means a TPU)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel  # deferred: presets use this module TF-free
    tpu = strategy is not None and "TPUStrategy" in type(strategy).__name__
    return HardwareFacts(cpu_flags=read_cpu_flags(cpu_info_path), gpu_capabilities=_gpu_capabilities(tf),
                         tpu=tpu, onednn_max_isa=os.environ.get("ONEDNN_MAX_CPU_ISA") or None)


def _auto(facts: HardwareFacts) -> PrecisionChoice:
    if facts.tpu:
        return PrecisionChoice("mixed_bfloat16", "auto: TPUs compute bfloat16 natively")
    if facts.gpu_capabilities:
        lowest = min(facts.gpu_capabilities)
        shown = f"{lowest[0]}.{lowest[1]}"
        if lowest >= (8, 0):
            return PrecisionChoice("mixed_bfloat16", f"auto: GPU compute capability {shown} computes bfloat16")
        if lowest >= (7, 0):
            return PrecisionChoice("mixed_float16", f"auto: GPU compute capability {shown} has float16 tensor "
                                   "cores; losses are scaled")
        return PrecisionChoice("float32", f"auto: GPU compute capability {shown} has no fast 16-bit arithmetic")
    if facts.cpu_bf16:
        return PrecisionChoice("mixed_bfloat16", "auto: this CPU has AVX-512 BF16/AMX bfloat16 instructions")
    if any(flag in facts.cpu_flags for flag in CPU_BF16_FLAGS):
        return PrecisionChoice("float32", f"auto: ONEDNN_MAX_CPU_ISA={facts.onednn_max_isa} keeps oneDNN off "
                               "this CPU's bfloat16 instructions")
    return PrecisionChoice("float32", "auto: this CPU has no bfloat16 instructions")


def _emulation_warning(policy: str, facts: HardwareFacts) -> Optional[str]:
    if facts.tpu or policy == "float32":
        return None
    if policy == "mixed_bfloat16":
        if (facts.gpu_capabilities and min(facts.gpu_capabilities) >= (8, 0)) or (
                not facts.gpu_capabilities and facts.cpu_bf16):
            return None
        where = ("this GPU (compute capability < 8.0)" if facts.gpu_capabilities
                 else "this CPU (no avx512_bf16/amx_bf16)")
        return (f"mixed_bfloat16 is emulated on {where}: the default preset measured ~{EMULATED_BF16_SLOWDOWN}x "
                "slower per step than float32 on such a CPU. Use --mixed_precision=auto (or float32).")
    if facts.gpu_capabilities and min(facts.gpu_capabilities) >= (7, 0):
        return None
    if not facts.gpu_capabilities and facts.cpu_fp16:
        return None
    where = "this GPU (compute capability < 7.0)" if facts.gpu_capabilities else "this CPU (no avx512_fp16/amx_fp16)"
    return (f"mixed_float16 is emulated on {where} and runs slower than float32. "
            "Use --mixed_precision=auto (or float32).")


def choose_precision(requested: Optional[str], facts: HardwareFacts) -> PrecisionChoice:
    """Resolves a preset's `mixed_precision` against the hardware.

    Args:
      requested: `"auto"`, a policy in `POLICIES`, or None (float32, presets written before `auto`).
      facts: the hardware, from `detect_hardware()` (tests pass their own).

    Returns:
      A `PrecisionChoice`: for "auto" the policy of the table in the module docstring; otherwise the asked-for
      policy, with a warning when the hardware would emulate it.

    Raises:
      UsageError: `requested` names no policy.
    """
    if requested == AUTO:
        override = os.environ.get(PRECISION_ENV)
        if override:
            if override not in POLICIES:
                raise UsageError(f"${PRECISION_ENV} must be one of {', '.join(POLICIES)}, received {override!r}.")
            _check_onednn_cap(override, facts)
            return PrecisionChoice(override, f"auto: ${PRECISION_ENV}={override}",
                                   _emulation_warning(override, facts))
        return _auto(facts)
    if requested is None:
        return PrecisionChoice("float32", "preset default")
    if requested not in POLICIES:
        raise UsageError(f"mixed_precision must be one of {', '.join(PRECISION_CHOICES)}, received "
                         f"{requested!r}.")
    _check_onednn_cap(requested, facts)
    return PrecisionChoice(requested, "asked for", _emulation_warning(requested, facts))


def _check_onednn_cap(policy: str, facts: HardwareFacts) -> None:
    """bfloat16 on a bfloat16 CPU whose oneDNN is capped below it aborts the process in oneDNN ("could not
    create a primitive descriptor for the matmul primitive", TF 2.21): refuse it with a clear line instead."""
    capped = any(flag in facts.cpu_flags for flag in CPU_BF16_FLAGS) and not facts.cpu_bf16
    if policy == "mixed_bfloat16" and capped and not facts.gpu_capabilities and not facts.tpu:
        raise UsageError(f"mixed_bfloat16 cannot run with ONEDNN_MAX_CPU_ISA={facts.onednn_max_isa} on this "
                         "bfloat16 CPU: TensorFlow still sends bfloat16 to oneDNN, which then aborts. Unset "
                         "ONEDNN_MAX_CPU_ISA or use --mixed_precision=auto (float32 here).")


def check_precision_name(value: Optional[str], allowed: Iterable[str] = PRECISION_CHOICES) -> None:
    """Raises `UsageError` unless `value` is None or one of `allowed` (a preset's `mixed_precision`)."""
    if value is not None and value not in tuple(allowed):
        raise UsageError(f"mixed_precision must be one of {', '.join(allowed)} (or null: float32), "
                         f"received {value!r}.")
