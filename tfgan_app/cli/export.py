"""Export a trained generator for deployment: a versioned TF Serving SavedModel plus TFLite files.

Reads DIR/config.json and DIR/generator.keras of a `tfgan train` run and writes
<base>/<name>/<version>/ (SavedModel with serving_default / generate /
generate_png signatures and warm-up requests), <base>/<name>/<version>/tflite/
(generator_{float32,float16,int8}.tflite + generator.json with parity numbers),
and rewrites <base>/models.config for tensorflow_model_server. See export/README.md.
Image-to-image runs get serving_default / translate_png, text-conditioned runs
serving_default / from_captions / generate_from_captions(_png) with the vocabulary
of their config.json. For CycleGAN runs, --direction=b_to_a exports the B->A
generator (generator_b_to_a.keras, or from gan.keras for older runs) as <name>_b_to_a.

Examples:
  tfgan export --run_dir=runs/dcgan_mnist --base=export
  tfgan export --run_dir=runs/cyclegan_mnist_recolored --direction=b_to_a
  tfgan export --run_dir=runs/dcgan_mnist --generator=last   # not the best_generator.keras of --eval_every

Runs trained with --eval_every export best_generator.keras (the best evaluation) by default;
--generator=last exports generator.keras (the end of training).
"""

import json

from absl import flags

from tfgan_app.cli import quiet
from tfgan_app.names import DIRECTIONS, GENERATOR_CHOICES, QUANTIZATIONS


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan export` flags on `fv`."""
    flags.DEFINE_string("run_dir", None, "Training run directory (holds config.json and generator.keras).",
                        flag_values=fv, required=True)
    flags.DEFINE_string("name", None, "Model name in the serving layout (default: the config's 'name', plus "
                        "'_b_to_a' with --direction=b_to_a).", flag_values=fv)
    flags.DEFINE_string("base", "export", "TF Serving base folder; the model goes to <base>/<name>/<version>/.",
                        flag_values=fv)
    flags.DEFINE_string("version", "auto", "'auto' (one past the highest) or an unused positive integer.",
                        flag_values=fv)
    flags.DEFINE_list("tflite", list(QUANTIZATIONS), "TFLite files to write (subset of float32,float16,int8; "
                      "empty for none).", flag_values=fv)
    flags.DEFINE_enum("direction", "a_to_b", list(DIRECTIONS), "CycleGAN runs: which generator to export, A->B "
                      "(generator.keras) or B->A (generator_b_to_a.keras, else taken from gan.keras). Other runs "
                      "have a_to_b only.", flag_values=fv)
    flags.DEFINE_enum("generator", "best", list(GENERATOR_CHOICES), "best: best_generator.keras when the run kept "
                      "one (tfgan train --eval_every), else generator.keras; last: generator.keras (end of "
                      "training).", flag_values=fv)


def run(fv: flags.FlagValues) -> int:
    """Exports and prints where everything went and the TFLite parity report."""
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    from tfgan_app.export import export_run  # pylint: disable=import-outside-toplevel
    from tfgan_app.export.tflite import check_quantizations  # pylint: disable=import-outside-toplevel
    with quiet.export_noise_filtered():
        result = export_run(fv.run_dir, name=fv.name, base_dir=fv.base, version=fv.version,
                            quantizations=check_quantizations(fv.tflite), direction=fv.direction,
                            which=fv.generator)
    print(f"SavedModel: {result.version_dir} (model {result.name!r}, version {result.version})")
    print(f"models.config: {result.models_config}")
    if result.tflite:
        for quantization, entry in result.tflite["files"].items():
            print(f"TFLite {quantization:>7}: {result.version_dir}/tflite/{entry['file']} "
                  f"({entry['size_bytes']} bytes) parity vs SavedModel: {json.dumps(entry['parity'])}")
        for quantization, reason in result.tflite.get("skipped", {}).items():
            print(f"TFLite {quantization:>7}: skipped ({reason})")
    return 0
