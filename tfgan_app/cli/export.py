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
  tfgan export --run_dir=runs/dcgan_mnist --web   # + <version>/web/: the explorer on LiteRT.js, any static host

--web writes <base>/<name>/<version>/web/, a static site that generates in the visitor's browser (LiteRT.js,
WebAssembly) from batch-1 copies of the --tflite files, with no server: `python -m http.server -d DIR/web`.

Runs trained with --eval_every export best_generator.keras (the best evaluation) by default;
--generator=last exports generator.keras (the end of training).
"""

import json

from absl import flags

from tfgan_app.cli import quiet
from tfgan_app.errors import UsageError
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
    flags.DEFINE_boolean("web", False, "Also write <version>/web/: a static site running the generator in the "
                         "browser with LiteRT.js (npm @litertjs/core, installed by scripts/install.sh), no server.",
                         flag_values=fv)


def run(fv: flags.FlagValues) -> int:
    """Exports and prints where everything went and the TFLite parity report."""
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    from tfgan_app.export import export_run  # pylint: disable=import-outside-toplevel
    from tfgan_app.export.tflite import check_quantizations  # pylint: disable=import-outside-toplevel
    quantizations = check_quantizations(fv.tflite)
    if fv.web and not quantizations:
        raise UsageError("--web runs the TFLite files in the browser: keep at least one in --tflite "
                         f"(e.g. --tflite=float32,int8), received --tflite={','.join(fv.tflite)!r}.")
    with quiet.export_noise_filtered():
        result = export_run(fv.run_dir, name=fv.name, base_dir=fv.base, version=fv.version,
                            quantizations=quantizations, direction=fv.direction,
                            which=fv.generator)
    print(f"SavedModel: {result.version_dir} (model {result.name!r}, version {result.version})")
    print(f"models.config: {result.models_config}")
    if result.tflite:
        for quantization, entry in result.tflite["files"].items():
            print(f"TFLite {quantization:>7}: {result.version_dir}/tflite/{entry['file']} "
                  f"({entry['size_bytes']} bytes) parity vs SavedModel: {json.dumps(entry['parity'])}")
        for quantization, reason in result.tflite.get("skipped", {}).items():
            print(f"TFLite {quantization:>7}: skipped ({reason})")
    if fv.web:
        from tfgan_app.serving.web import write_web_for_run  # pylint: disable=import-outside-toplevel
        written = list((result.tflite or {}).get("files", {}))
        with quiet.export_noise_filtered():
            web_dir = write_web_for_run(result.version_dir, result.name, fv.run_dir, written, fv.direction,
                                        fv.generator)
        print(f"Web: {web_dir} (on-device explorer, {', '.join(written)}): python -m http.server -d {web_dir}")
    return 0
