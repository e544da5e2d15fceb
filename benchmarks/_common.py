"""Shared helpers of the benchmark scripts: isolated runs, timing, tables, machine facts.

Every measurement runs in a fresh Python process (`run_isolated`): the global
Keras dtype policy, TensorFlow's and PyTorch's thread pools and the process'
peak RSS then belong to that one configuration, so rows of a table do not
disturb each other. A benchmark script re-runs itself with `--worker=JSON`
and prints one JSON line with the result.

Example:
>>> rate = median_rate([2.0, 2.1, 1.9], steps=20)   # seconds of 3 windows of 20 steps
>>> round(rate, 2)
10.0
>>> print(markdown_table([{"a": 1, "b": 2.5}], ["a", "b"]))
| a | b |
|---|---|
| 1 | 2.50 |
"""

import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

RESULT_PREFIX = "BENCH_RESULT "


def median_rate(window_seconds: Sequence[float], steps: int) -> float:
    """Steps per second from the median duration of timed windows of `steps` steps each."""
    return steps / statistics.median(window_seconds)


def spread(window_seconds: Sequence[float]) -> float:
    """Relative spread (max - min) / median of window durations: how noisy a measurement was."""
    if len(window_seconds) < 2:
        return 0.0
    return (max(window_seconds) - min(window_seconds)) / statistics.median(window_seconds)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports `ru_maxrss` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Current resident set size of this process, in MiB (from /proc/self/statm)."""
    with open("/proc/self/statm", "r", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def emit(result: Dict[str, Any]) -> None:
    """Prints a worker's result line (read back by `run_isolated`)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_isolated(script: str, config: Dict[str, Any], timeout: float = 900.0,
                 env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Runs `python script --worker=JSON(config)` and returns its result (or {"error": ...}).

    TensorFlow's log noise is silenced in the child; a crash or timeout becomes an
    `error` entry so one failing row does not end the whole benchmark. `env` adds
    environment variables of the child (e.g. `ONEDNN_MAX_CPU_ISA`).
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", **(env or {}))
    cmd = [sys.executable, script, "--worker=" + json.dumps(config)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"error": f"exit code {proc.returncode}: {tail}"}


def dispatch_worker(worker: Optional[str], workers: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]]) -> bool:
    """In a `--worker=JSON` child: runs `workers[config["role"]](config)`, emits its result, returns True.

    Returns False (nothing run) in the driver process, where `worker` is None.
    """
    if not worker:
        return False
    config = json.loads(worker)
    emit(workers[config["role"]](config))
    return True


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[Dict[str, Any]], columns: Sequence[str],
                   headers: Optional[Sequence[str]] = None) -> str:
    """Formats rows (dicts) as a GitHub markdown table; floats get 2 decimals, missing cells stay empty."""
    headers = list(headers or columns)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_format(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", "r", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags() -> List[str]:
    """The vector/matrix instruction-set flags of this CPU that matter for float32/bf16/fp16 speed."""
    try:
        with open("/proc/cpuinfo", "r", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_fp16")
                                  if f in flags)
    except OSError:
        pass
    return []


def _version(distribution: str) -> str:
    """Installed version of a distribution, without importing it (no thread pools in the parent)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_summary() -> str:
    """One line naming the machine and library versions the numbers were measured with."""
    return (f"{_cpu_model()}, {os.cpu_count()} cores ({', '.join(cpu_flags()) or 'no AVX2'}), "
            f"Python {platform.python_version()}, TensorFlow {_version('tensorflow')}, "
            f"Keras {_version('keras')}, PyTorch {_version('torch')}")


def report(title: str, rows: Sequence[Dict[str, Any]], columns: Sequence[str],
           headers: Optional[Sequence[str]] = None, notes: Sequence[str] = (),
           printer: Callable[[str], None] = print) -> None:
    """Prints a titled markdown table with notes below it."""
    printer(f"\n### {title}\n")
    printer(markdown_table(rows, columns, headers))
    for note in notes:
        printer(f"\n{note}")
