"""`tfgan`: train, export, generate from, evaluate and serve GANs.

Usage: tfgan COMMAND [--flag=value ...]     (tfgan COMMAND --help for its flags)

Each command lives in `tfgan_app/cli/<command>.py` and exposes
`define_flags(flag_values)` and `run(flag_values) -> int`. Commands only parse
flags and call the library; no logic lives only in the CLI.
"""

import importlib
import sys
import textwrap
from typing import List, Optional

from absl import flags

from tfgan_app.cli import quiet, ranges
from tfgan_app.errors import TfganError

COMMANDS = {
    "train": "Train a GAN from a preset in models/ (or a preset file).",
    "prepare": "Pack an image folder once into TFRecord shards to stream (tfrecord:DIR, also gs://).",
    "export": "Export a trained generator as a TF Serving SavedModel and TFLite files.",
    "generate": "Write images from a .keras generator, SavedModel, .tflite file or a served model.",
    "evaluate": "Score a generator or image folder with FID, KID, IS, precision/recall.",
    "serve": "Serve exported models with the local TF Serving-compatible REST/gRPC server.",
    "explore": "Serve the latent explorer page and forward its API calls to a TF Serving server.",
}


def _usage() -> str:
    lines = [__doc__.split("\n\n")[0], "", "Commands:"]
    lines += [f"  {name:<10} {summary}" for name, summary in COMMANDS.items()]
    lines += ["", "Run `tfgan COMMAND --help` to see what a command does and all of its flags."]
    return "\n".join(lines)


HELP_WIDTH = 100


def _wrap_doc(doc: str) -> str:
    """`doc` with every line wrapped to `HELP_WIDTH` columns: prose keeps its indent; an indented example command
    continues on the next line after a shell continuation (` \\`), so it still pastes into a shell."""
    lines = []
    for line in doc.splitlines():
        if len(line) <= HELP_WIDTH:
            lines.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        if indent:  # an example command, perhaps with a trailing comment: the comment goes above it
            command, _, comment = line.strip().partition("  # ")
            if comment:
                lines.extend(textwrap.wrap(comment, HELP_WIDTH, initial_indent=indent + "# ",
                                           subsequent_indent=indent + "# "))
            parts = textwrap.wrap(command, HELP_WIDTH - len(indent) - 6, break_long_words=False,
                                  break_on_hyphens=False)
            lines.append(" \\\n".join([indent + parts[0]] + [indent + "    " + part for part in parts[1:]]))
        else:
            lines.extend(textwrap.wrap(line, HELP_WIDTH, break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def _command_help(module, fv: flags.FlagValues) -> str:
    """The command's docstring, then its flags wrapped to `HELP_WIDTH` columns, grouped by the module's optional
    `FLAG_GROUPS` (title -> flag names, in order; flags in no group follow under "Other flags")."""
    shown = {name: flag for name, flag in fv._flags().items()  # pylint: disable=protected-access
             if name not in ("help", "helpfull", "helpshort", "helpxml")}
    groups = [(title, [n for n in names if n in shown]) for title, names in getattr(module, "FLAG_GROUPS", {}).items()]
    grouped = {name for _, names in groups for name in names}
    rest = sorted(name for name in shown if name not in grouped)
    groups.append(("Other flags" if groups else "Flags", rest))
    text = [_wrap_doc(module.__doc__.strip())]
    for title, names in groups:
        if not names:
            continue
        text += ["", f"{title}:"]
        for name in names:
            flag = shown[name]
            default = "" if flag.default is None else f" (default: {flag.default!r})"
            line = " ".join(f"--{name}: {flag.help}{default}".split())  # absl's help may carry runs of spaces
            text.append(textwrap.fill(line, HELP_WIDTH, initial_indent="  ",
                                      subsequent_indent="      "))
    return "\n".join(text)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `tfgan` console script; returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    command = argv[1]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}. Valid commands: {', '.join(COMMANDS)}.\n",
              file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    module = importlib.import_module(f"tfgan_app.cli.{command}")
    fv = flags.FlagValues()
    module.define_flags(fv)
    flags.DEFINE_enum("verbosity", None, list(quiet.VERBOSITIES),
                      "What TensorFlow, absl and gRPC print: quiet (default; none of TensorFlow's C++ log lines), "
                      "error, warning or info (all, start-up lines included). Default: from "
                      "TF_CPP_MIN_LOG_LEVEL when set (3 quiet, 2 error, 1 warning, 0 info), else quiet.",
                      flag_values=fv)
    ranges.register(fv)  # every number in range at parsing (one `error:` line, exit 2)
    rest = argv[2:]
    if any(a in ("-h", "--help", "--helpfull", "-help") for a in rest):
        print(_command_help(module, fv))
        return 0
    try:
        fv([f"tfgan {command}"] + rest)
    except flags.IllegalFlagValueError as e:  # a value out of its range (`ranges`): the line says what is valid
        print(f"error: {e}", file=sys.stderr)
        return 2
    except flags.Error as e:
        print(f"error: {e}\nRun `tfgan {command} --help` to see the valid flags.", file=sys.stderr)
        return 2
    quiet.configure(fv.verbosity)  # before the command imports TensorFlow
    try:
        return int(module.run(fv) or 0)
    except TfganError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def console_main() -> None:
    """`tfgan` console-script wrapper."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
