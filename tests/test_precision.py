"""`mixed_precision: auto`: the dtype policy follows the hardware (tfgan_app/hardware.py), with mocked facts."""

import json
import os

import keras
import pytest

from tfgan_app import hardware, presets, training
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError
from tfgan_app.hardware import HardwareFacts, choose_precision

AVX2 = frozenset({"fpu", "sse4_2", "avx", "avx2", "fma"})
AVX512_BF16 = AVX2 | {"avx512f", "avx512bw", "avx512_bf16"}
SAPPHIRE_RAPIDS = AVX2 | {"avx512f", "amx_tile", "amx_bf16", "amx_int8"}


@pytest.fixture(autouse=True)
def no_precision_override(monkeypatch):
    monkeypatch.delenv(hardware.PRECISION_ENV, raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)


@pytest.mark.parametrize("facts, policy, because", [
    (HardwareFacts(cpu_flags=AVX2), "float32", "this CPU has no bfloat16 instructions"),
    (HardwareFacts(cpu_flags=frozenset()), "float32", "this CPU has no bfloat16 instructions"),
    (HardwareFacts(cpu_flags=AVX512_BF16), "mixed_bfloat16", "AVX-512 BF16"),
    (HardwareFacts(cpu_flags=SAPPHIRE_RAPIDS), "mixed_bfloat16", "AVX-512 BF16/AMX"),
    (HardwareFacts(cpu_flags=AVX512_BF16, onednn_max_isa="AVX2"), "float32", "ONEDNN_MAX_CPU_ISA=AVX2"),
    (HardwareFacts(cpu_flags=AVX512_BF16, onednn_max_isa="avx512_core_bf16"), "mixed_bfloat16", "AVX-512 BF16"),
    (HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((8, 6),)), "mixed_bfloat16", "compute capability 8.6"),
    (HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((9, 0), (9, 0))), "mixed_bfloat16", "9.0"),
    (HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((7, 5),)), "mixed_float16", "losses are scaled"),
    (HardwareFacts(cpu_flags=AVX512_BF16, gpu_capabilities=((8, 0), (7, 0))), "mixed_float16", "7.0"),
    (HardwareFacts(cpu_flags=AVX512_BF16, gpu_capabilities=((6, 1),)), "float32", "no fast 16-bit"),
    (HardwareFacts(cpu_flags=AVX2, tpu=True), "mixed_bfloat16", "TPUs"),
])
def test_auto_follows_the_hardware(facts, policy, because):
    choice = choose_precision("auto", facts)
    assert choice.policy == policy
    assert because in choice.reason and choice.reason.startswith("auto: ")
    assert choice.warning is None


@pytest.mark.parametrize("requested, facts, warned", [
    ("mixed_bfloat16", HardwareFacts(cpu_flags=AVX2), "emulated on this CPU"),
    ("mixed_bfloat16", HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((7, 5),)), "emulated on this GPU"),
    ("mixed_bfloat16", HardwareFacts(cpu_flags=AVX512_BF16), None),
    ("mixed_bfloat16", HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((8, 0),)), None),
    ("mixed_bfloat16", HardwareFacts(tpu=True), None),
    ("mixed_float16", HardwareFacts(cpu_flags=AVX512_BF16), "mixed_float16 is emulated on this CPU"),
    ("mixed_float16", HardwareFacts(cpu_flags=AVX2, gpu_capabilities=((7, 0),)), None),
    ("mixed_float16", HardwareFacts(cpu_flags=AVX2 | {"avx512_fp16"}), None),
    ("float32", HardwareFacts(cpu_flags=AVX512_BF16), None),
])
def test_an_explicit_policy_is_kept_and_warned_where_emulated(requested, facts, warned):
    choice = choose_precision(requested, facts)
    assert choice.policy == requested and choice.reason == "asked for"
    if warned is None:
        assert choice.warning is None
    else:
        assert warned in choice.warning and "\n" not in choice.warning
        assert "--mixed_precision=auto" in choice.warning


def test_bfloat16_under_a_capped_onednn_is_refused(monkeypatch):
    """TF 2.21 sends bfloat16 to oneDNN by CPUID; capped below BF16, oneDNN aborts the process."""
    capped = HardwareFacts(cpu_flags=AVX512_BF16, onednn_max_isa="AVX2")
    with pytest.raises(UsageError, match="ONEDNN_MAX_CPU_ISA=AVX2 on this bfloat16 CPU"):
        choose_precision("mixed_bfloat16", capped)
    monkeypatch.setenv(hardware.PRECISION_ENV, "mixed_bfloat16")
    with pytest.raises(UsageError, match="ONEDNN_MAX_CPU_ISA=AVX2"):
        choose_precision("auto", capped)
    assert choose_precision("float32", capped).warning is None


def test_bfloat16_warning_states_the_measured_cost():
    warning = choose_precision("mixed_bfloat16", HardwareFacts(cpu_flags=AVX2)).warning
    assert f"~{hardware.EMULATED_BF16_SLOWDOWN}x slower" in warning


def test_environment_override_replaces_auto_only(monkeypatch):
    monkeypatch.setenv(hardware.PRECISION_ENV, "mixed_bfloat16")
    choice = choose_precision("auto", HardwareFacts(cpu_flags=AVX2))
    assert choice.policy == "mixed_bfloat16" and "TFGAN_MIXED_PRECISION" in choice.reason
    assert "emulated" in choice.warning
    assert choose_precision("float32", HardwareFacts(cpu_flags=AVX2)).policy == "float32"
    monkeypatch.setenv(hardware.PRECISION_ENV, "half")
    with pytest.raises(UsageError, match="TFGAN_MIXED_PRECISION must be one of .* received 'half'"):
        choose_precision("auto", HardwareFacts())


def test_null_is_float32_and_unknown_names_are_refused():
    assert choose_precision(None, HardwareFacts(cpu_flags=AVX512_BF16)).policy == "float32"
    with pytest.raises(UsageError, match="received 'fp8'"):
        choose_precision("fp8", HardwareFacts())


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma avx512_bf16\n\n"
                       "processor\t: 1\nflags\t\t: fpu avx2 fma avx512_bf16\n")
    assert hardware.read_cpu_flags(str(cpuinfo)) == frozenset({"fpu", "avx2", "fma", "avx512_bf16"})
    assert hardware.read_cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_detect_hardware_reads_gpu_capabilities(monkeypatch, tmp_path):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t: avx2 fma\n")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu0", "gpu1"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda gpu: {"compute_capability": (8, 0) if gpu == "gpu0" else (7, 5)})
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    facts = hardware.detect_hardware(cpu_info_path=str(cpuinfo))
    assert facts == HardwareFacts(cpu_flags=frozenset({"avx2", "fma"}), gpu_capabilities=((8, 0), (7, 5)),
                                  onednn_max_isa="AVX2")
    assert choose_precision("auto", facts).policy == "mixed_float16"


def test_every_shipped_preset_chooses_its_precision():
    for name in presets.available_presets():
        preset = presets.load_preset(name)
        assert preset.mixed_precision in ("auto", "float32"), name
    assert presets.load_preset("dcgan_mnist").mixed_precision == "auto"
    assert presets.Preset().mixed_precision == "auto"


def _tiny_args(tmp_path, image_folder):
    return ["tfgan", "train", f"--dataset=folder:{image_folder}", "--epochs=1", f"--output_dir={tmp_path / 'run'}",
            "--set", "image_size=8", "--set", "generator_options.base_filters=4", "--set",
            "discriminator_options.base_filters=4", "--batch_size=4", "--latent_dim=8"]


@pytest.mark.parametrize("flags, facts, first_line, policy, warned", [
    ([], HardwareFacts(cpu_flags=AVX2), "float32 (auto: this CPU has no bfloat16 instructions)",
     "float32", False),
    ([], HardwareFacts(cpu_flags=AVX512_BF16), "mixed_bfloat16 (auto: this CPU has AVX-512 BF16",
     "mixed_bfloat16", False),
    (["--mixed_precision=mixed_bfloat16"], HardwareFacts(cpu_flags=AVX2),
     "mixed_bfloat16 (asked for)", "mixed_bfloat16", True),
    (["--mixed_precision=float32"], HardwareFacts(cpu_flags=AVX512_BF16), "float32 (asked for)",
     "float32", False),
])
def test_train_names_its_precision_first(flags, facts, first_line, policy, warned, monkeypatch, capsys, tmp_path,
                                         image_folder):
    monkeypatch.setattr(hardware, "detect_hardware", lambda strategy=None, **_: facts)
    assert main(_tiny_args(tmp_path, image_folder) + flags) == 0
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert first.startswith("Training preset 'dcgan_mnist'") and f" in {first_line}" in first, captured.out
    assert ("warning: mixed_bfloat16 is emulated" in captured.err) == warned
    config = json.load(open(os.path.join(tmp_path, "run", "config.json")))
    assert config["precision"] == policy
    gan = keras.saving.load_model(os.path.join(tmp_path, "run", "gan.keras"), compile=False)
    assert gan.generator.layers[-2].dtype_policy.compute_dtype == ("bfloat16" if "bfloat16" in policy
                                                                  else "float32")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_library_train_resolves_auto_itself(monkeypatch, tmp_path, image_folder):
    monkeypatch.setattr(hardware, "detect_hardware", lambda strategy=None, **_: HardwareFacts(cpu_flags=AVX512_BF16))
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), [
        f"dataset=folder:{image_folder}", "image_size=8", "generator_options.base_filters=4",
        "discriminator_options.base_filters=4", "batch_size=4", "latent_dim=8", "epochs=1", "gan_options={}"])
    result = training.train(preset, str(tmp_path / "run"), verbose=0)
    config = json.load(open(os.path.join(result.output_dir, "config.json")))
    assert config["mixed_precision"] == "auto" and config["precision"] == "mixed_bfloat16"
