"""Issue #14, mixed load: valid and malformed loopback requests against a real `tfgan serve` process with broken
versions on disk (a smaller run of `benchmarks/serving_latency.py --mode=mixed`, whose 1,200-request result is in
benchmarks/README.md)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mixed_load_with_broken_versions_has_no_5xx_and_no_growth():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "serving_latency.py"), "--mode=mixed",
                             "--requests=300", "--time_limit=120", "--json"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["requests"] == 300 and summary["server_alive"], summary
    assert summary["valid_wrong"] == 0 and summary["malformed_wrong"] == 0 and summary["5xx"] == 0, summary
    assert summary["valid_200"] > 100 and summary["malformed_expected"] > 50, summary
    assert summary["states"] == {"1": "AVAILABLE", "2": "END", "3": "END"}, summary
    assert summary["rss_peak_ratio"] < 1.5, summary
