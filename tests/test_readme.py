"""README.md and docs/*.md run as written: every ```python and ```bash / ```sh / ```shell block, in document order
(README.md first, then the docs pages by name).

How the blocks run (one walkthrough of the README, as a user reading it top to bottom would):

* All blocks share one working folder, in the order they appear, so files a block writes (`gan.keras`,
  `runs/quick`) are there for the blocks after it; nothing else is shared.
* A Python block runs in a fresh `python -c` process of its own (so a block that needs a name must define or
  import it itself: the README presents the blocks as separate snippets, not one session).
* A shell block runs under `bash -e -o pipefail` with `tfgan` and `python` on PATH meaning this checkout's CLI
  and this interpreter.
* A block that cannot run here is skipped *by name*: the line just before it is
  `<!-- readme-test: skip (REASON) -->`, and REASON is the skip reason pytest shows.
* The README's quick start (`bash scripts/run_main.sh`, skipped: 7 minutes) leaves `runs/dcgan_mnist`, which
  later blocks use; `walkthrough` stands in for it with a 5-step `tfgan train` of that preset, and of
  `cgan_mnist` for the latent-tools block.
"""

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")
DOCS = [README] + sorted(os.path.join(REPO, "docs", name) for name in os.listdir(os.path.join(REPO, "docs"))
                         if name.endswith(".md"))
MARKER = re.compile(r"<!-- readme-test: skip \((?P<reason>[^)]+)\) -->")
BLOCK = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$", re.S | re.M)
LANGUAGES = {"python": "python", "bash": "shell", "sh": "shell", "shell": "shell"}
TIMEOUT = 300
STAND_INS = [  # what the skipped quick start leaves, with small numbers
    "tfgan train --model=dcgan_mnist --output_dir=runs/dcgan_mnist --steps_per_epoch=5 --epochs=1",
    "tfgan train --model=cgan_mnist --output_dir=runs/cgan_mnist --steps_per_epoch=5 --epochs=1",
]


def readme_blocks():
    """(id, kind, body, skip reason or None) of every Python and shell block of `DOCS`, in order."""
    blocks = []
    for path in DOCS:
        text = open(path, encoding="utf-8").read()
        name = os.path.relpath(path, REPO)
        for match in BLOCK.finditer(text):
            kind = LANGUAGES.get(match.group("lang"))
            if kind is None:
                continue
            before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.fullmatch(before.strip())
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{name}:{line}-{kind}", kind, match.group("body"),
                           marker.group("reason") if marker else None))
    return blocks


BLOCKS = readme_blocks()


def _shims(folder):
    """A bin folder whose `tfgan` runs this checkout's CLI and whose `python` is this interpreter."""
    os.makedirs(folder, exist_ok=True)
    for name, target in (("tfgan", f'exec "{sys.executable}" -m tfgan_app.cli.main "$@"'),
                         ("python", f'exec "{sys.executable}" "$@"')):
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\n{target}\n")
        os.chmod(path, 0o755)
    return folder


def _run(kind, body, cwd, env):
    command = [sys.executable, "-c", body] if kind == "python" else ["bash", "-e", "-o", "pipefail", "-c", body]
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{kind} block failed (rc {proc.returncode}):\n{body}\n--- stdout\n" \
                                 f"{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    """The shared working folder and environment, with the stand-ins for the skipped quick start."""
    folder = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "PATH": _shims(str(folder / ".bin")) + os.pathsep + os.environ.get("PATH", ""),
           "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    for command in STAND_INS:
        _run("shell", command, folder, env)
    return folder, env


def test_every_marker_names_a_reason_and_precedes_a_block():
    text = "".join(open(path, encoding="utf-8").read() for path in DOCS)
    markers = re.findall(r"<!-- readme-test:.*?-->", text)
    assert all(MARKER.fullmatch(m) for m in markers), markers
    assert len(markers) == sum(reason is not None for *_, reason in BLOCKS)
    assert any(reason is None for *_, reason in BLOCKS)  # the test runs blocks, it does not only skip them


@pytest.mark.parametrize("kind, body, reason", [b[1:] for b in BLOCKS], ids=[b[0] for b in BLOCKS])
def test_readme_block_runs(walkthrough, kind, body, reason):
    if reason:
        pytest.skip(reason)
    folder, env = walkthrough
    _run(kind, body, folder, env)
