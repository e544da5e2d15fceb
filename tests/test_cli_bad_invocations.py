"""Issue #27 item 2: every bad number or path given to any `tfgan` command is one `error:` line and exit code 2.

A table of bad invocations across all commands, each run in-process through `tfgan_app.cli.main.main` (the
numbers fail at flag parsing, before TensorFlow loads). Before the fix, e.g. `serve --rest_port=99999` listened
on a wrapped port, `serve --idle_timeout_seconds=nan`, `serve --rest_port=-1`, `export --base=<a file>`,
`explore --port=<in use>` and `explore --port=99999` ended in tracebacks, and `explore --timeout=nan` was
accepted.
"""

import os
import re
import socket
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from tfgan_app.cli.main import main  # noqa: E402

PORTS = r"port number in \[0, 65535\]"
FINITE = r"finite number of seconds"
POSITIVE = r"positive integer"
SERVE = ["serve", "--base={root}", "--rest_port=0", "--grpc_port=0"]  # valid ports: the bad flag comes after

CASES = [
    # serve: ports, timeouts, limits, paths
    (["serve", "--rest_port=99999"], r"--rest_port=99999: .*" + PORTS),
    (["serve", "--grpc_port=99999"], r"--grpc_port=99999: .*" + PORTS),
    (["serve", "--rest_port=-1"], r"--rest_port=-1: .*" + PORTS),
    (["serve", "--grpc_port=-8500"], PORTS),
    (["serve", "--rest_port=abc"], r"--rest_port"),
    (SERVE + ["--idle_timeout_seconds=nan"], r"--idle_timeout_seconds=nan: .*" + FINITE),
    (SERVE + ["--idle_timeout_seconds=inf"], r"--idle_timeout_seconds=inf: .*" + FINITE),
    (SERVE + ["--idle_timeout_seconds=0"], FINITE),
    (SERVE + ["--idle_timeout_seconds=-5"], FINITE),
    (SERVE + ["--file_system_poll_wait_seconds=-1"], r"file_system_poll_wait_seconds"),
    (SERVE + ["--file_system_poll_wait_seconds=nan"], r"file_system_poll_wait_seconds"),
    (SERVE + ["--file_system_poll_wait_seconds=inf"], r"file_system_poll_wait_seconds"),
    (SERVE + ["--grace_period_seconds=nan"], r"grace_period_seconds"),
    (SERVE + ["--grace_period_seconds=-1"], r"grace_period_seconds"),
    (SERVE + ["--max_batch_size=0"], r"max_batch_size.*" + POSITIVE),
    (SERVE + ["--max_body_bytes=10"], r"max_body_bytes"),
    (["serve", "--base={root}", "--rest_port=1234", "--grpc_port=1234"], r"both 1234"),
    (["serve", "--base={file}", "--rest_port=0", "--grpc_port=0"], r"Expected --base to be a folder"),
    (["serve", "--base={root}/missing", "--rest_port=0", "--grpc_port=0"], r"No exported model under"),
    (["serve", "--no_such_flag=1"], r"no_such_flag"),
    # explore: ports, timeout, server address, model names and config file
    (["explore", "--port=99999"], r"--port=99999: .*" + PORTS),
    (["explore", "--port=-1"], PORTS),
    (["explore", "--port={busy}"], r"Cannot bind the explorer page to .*Address already in use"),
    (["explore", "--port=0", "--host=256.1.1.1"], r"Cannot bind the explorer page to 256.1.1.1"),
    (["explore", "--timeout=nan"], r"--timeout=nan: .*" + FINITE),
    (["explore", "--timeout=inf"], FINITE),
    (["explore", "--timeout=0"], FINITE),
    (["explore", "--server=notaurl"], r"received --server='notaurl'"),
    (["explore", "--models_config={root}/missing.config"], r"Cannot read the model config"),
    (["explore", "--models_config={file}"], r"Expected a TF Serving ModelServerConfig text proto"),
    (["explore", "--models=a", "--models_config={file}"], r"either --models or --models_config"),
    (["explore", "--models=a/b"], r"Expected a model name"),
    # export: paths
    (["export", "--run_dir={run}", "--base={file}"], r"Expected --base to be a folder"),
    (["export", "--run_dir={run}", "--base={file}/under"], r"Cannot write to --base="),
    (["export", "--run_dir={root}/missing"], r"Expected a training run directory"),
    (["export"], r"--run_dir"),
    # generate: counts, ranges, timeouts, paths
    (["generate", "--model={run}", "--num_images=0"], r"num_images.*" + POSITIVE),
    (["generate", "--model={run}", "--truncation=nan"], r"truncation.*\[0, 1\]"),
    (["generate", "--model={run}", "--truncation=2"], r"truncation.*\[0, 1\]"),
    (["generate", "--model={run}", "--scale=0"], r"scale.*" + POSITIVE),
    (["generate", "--model={run}", "--timeout=nan"], FINITE),
    (["generate", "--model={run}", "--batch_size=-1"], r"batch_size.*" + POSITIVE),
    (["generate", "--model={run}", "--seed=-1"], r"seed"),
    (["generate", "--model={run}", "--interpolate=-2"], r"interpolate"),
    (["generate", "--model={run}", "--num_classes=0"], r"num_classes.*" + POSITIVE),
    (["generate", "--model={root}/missing.keras", "--grid={root}/g.png"], r"does not exist"),
    # train: counts and seeds
    (["train", "--epochs=0"], r"epochs.*" + POSITIVE),
    (["train", "--steps_per_epoch=-1"], r"steps_per_epoch.*" + POSITIVE),
    (["train", "--latent_dim=0"], r"latent_dim.*" + POSITIVE),
    (["train", "--seed=-1"], r"seed"),
    (["train", "--log_every_steps=0"], r"log_every_steps.*" + POSITIVE),
    (["train", "--eval_every=0"], r"eval_every.*" + POSITIVE),
    (["train", "--eval_samples=0"], r"eval_samples.*" + POSITIVE),
    (["train", "--batch_size=abc"], r"batch_size"),
    (["train", "--dataset=folder:{root}/missing", "--output_dir={root}/run"], r"does not exist"),
    # evaluate: counts
    (["evaluate", "--generator={run}", "--num_samples=0"], r"num_samples.*" + POSITIVE),
    (["evaluate", "--generator={run}", "--kid_subset_size=1"], r"kid_subset_size"),
    (["evaluate", "--generator={run}", "--kid_subsets=0"], r"kid_subsets.*" + POSITIVE),
    (["evaluate", "--generator={run}", "--pr_k=0"], r"pr_k.*" + POSITIVE),
    (["evaluate", "--generator={run}", "--is_splits=0"], r"is_splits.*" + POSITIVE),
    (["evaluate", "--generator={run}", "--batch_size=0"], r"batch_size.*" + POSITIVE),
    (["evaluate", "--generator={root}/missing", "--dataset=mnist"], r"does not exist"),
    # prepare: sizes, shard counts, specs, paths
    (["prepare", "--dataset=folder:{root}", "--output={root}/p", "--size=0"], r"size.*\[1, 4096\]"),
    (["prepare", "--dataset=folder:{root}", "--output={root}/p", "--shards=0"], r"shards.*\[1, 100000\]"),
    (["prepare", "--dataset=folder:{root}", "--output={root}/p", "--channels=4"], r"channels.*1 \(grayscale\)"),
    (["prepare", "--dataset=folder:{root}", "--output={root}/p", "--crop=stretch"], r"crop"),
    (["prepare", "--dataset=mnist", "--output={root}/p"], r"--dataset must be folder:/PATH"),
    (["prepare", "--dataset=folder:{root}"], r"--output is required"),
    (["prepare", "--dataset=folder:{root}/missing", "--output={root}/p"], r"does not exist"),
    (["prepare", "--dataset=folder:{root}", "--output={root}/p"], r"No images"),
    (["train", "--dataset=tfrecord:{root}", "--output_dir={root}/run"], r"No prepared dataset"),
]


def test_the_table_is_large_and_covers_every_command():
    assert len(CASES) >= 40
    assert {args[0] for args, _ in CASES} == {"serve", "explore", "export", "generate", "train", "evaluate",
                                                "prepare"}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """A folder, a file in it, a run directory (config.json + generator.keras) and a port held by a socket."""
    root = tmp_path_factory.mktemp("bad_invocations")
    (root / "a_file").write_text("a file where a folder is expected\n")
    run = root / "run_dir"
    from _export_fixtures import write_run_dir  # pylint: disable=import-outside-toplevel  # loads TensorFlow
    write_run_dir(str(run))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield {"root": str(root), "file": str(root / "a_file"), "run": str(run), "busy": holder.getsockname()[1]}


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_invocation_is_one_error_line_and_exit_code_2(args, message, paths, capsys):
    argv = ["tfgan"] + [arg.format(**paths) for arg in args]
    try:
        code = main(argv)
    except BaseException as e:  # pylint: disable=broad-except  # a traceback at the CLI
        pytest.fail(f"{' '.join(argv)} raised {type(e).__name__}: {e}")
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2, err
    assert "Traceback" not in err, err
    assert len(errors) == 1 and re.search(message, errors[0]), err
