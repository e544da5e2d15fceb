"""`tfgan <command> --help` fits in HELP_WIDTH columns (issue #26 item 4), docstring examples included."""

import pytest

from tfgan_app.cli import main as cli_main

COMMANDS = sorted(cli_main.COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_line_fits_the_width(command, capsys):
    assert cli_main.main(["tfgan", command, "--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    long = [line for line in lines if len(line) > cli_main.HELP_WIDTH]
    assert lines and not long, long


def test_a_long_example_wraps_as_a_shell_continuation_with_its_comment_above():
    doc = "Examples:\n  tfgan train " + " ".join(f"--flag{i}=value{i}" for i in range(20)) + "  # what it does"
    wrapped = cli_main._wrap_doc(doc).splitlines()  # pylint: disable=protected-access
    assert wrapped[1] == "  # what it does" and wrapped[2].startswith("  tfgan train --flag0")
    assert all(line.endswith(" \\") for line in wrapped[2:-1]) and not wrapped[-1].endswith("\\")
    assert all(len(line) <= cli_main.HELP_WIDTH for line in wrapped)
    joined = " ".join(line.rstrip(" \\").strip() for line in wrapped[2:])
    assert joined == doc.splitlines()[1].split("  # ")[0].strip()  # the same command once unwrapped


def test_the_command_list_fits_the_width(capsys):
    assert cli_main.main(["tfgan", "--help"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= cli_main.HELP_WIDTH
