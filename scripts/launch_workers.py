"""Launches N local worker processes of one command, each with its own TF_CONFIG.

Every worker runs the same command; `TF_CONFIG` tells worker i the cluster
(N addresses on 127.0.0.1, free ports picked here) and its index, which is all
`MultiWorkerMirroredStrategy` (`tfgan train --strategy=multi_worker`) needs.
Output lines are prefixed with `[worker i]`. Exits with the first non-zero
worker exit code (the other workers are then stopped), 0 when all succeed.

Examples:
  python scripts/launch_workers.py --num_workers=2 -- \\
      tfgan train --strategy=multi_worker --model=dcgan_mnist --steps_per_epoch=20 --output_dir=runs/mw
  python scripts/launch_workers.py --num_workers=2 --timeout=600 -- python my_training_script.py

On several machines, run the command yourself on each host with
TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]}, "task": {"type": "worker", "index": I}}'
(`tfgan_app.distribute.tf_config(addresses, I)` builds it).
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from typing import List, Optional, Sequence

from tfgan_app.distribute import tf_config


def free_ports(num: int, host: str = "127.0.0.1") -> List[int]:
    """`num` distinct TCP ports that are free on `host` right now."""
    sockets = []
    try:
        for _ in range(num):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _relay(prefix: str, stream, out) -> None:
    for line in iter(stream.readline, ""):
        out.write(f"{prefix} {line}")
        out.flush()


def launch(command: Sequence[str], num_workers: int, timeout: Optional[float] = None,
           host: str = "127.0.0.1") -> int:
    """Runs `command` as `num_workers` workers of one cluster on `host`; returns the exit code.

    A worker that fails, or the timeout (seconds) expiring, stops all workers.
    """
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, received {num_workers}.")
    addresses = [f"{host}:{port}" for port in free_ports(num_workers, host)]
    processes, relays = [], []
    for index in range(num_workers):
        env = {**os.environ, "TF_CONFIG": tf_config(addresses, index), "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(list(command), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, bufsize=1)
        relay = threading.Thread(target=_relay, args=(f"[worker {index}]", process.stdout, sys.stdout), daemon=True)
        relay.start()
        processes.append(process)
        relays.append(relay)
    deadline = None if timeout is None else time.monotonic() + timeout
    code = 0
    while any(p.poll() is None for p in processes):
        failed = [p.returncode for p in processes if p.returncode not in (None, 0)]
        timed_out = deadline is not None and time.monotonic() > deadline
        if failed or timed_out:
            code = failed[0] if failed else 124
            print(f"[launcher] {'a worker failed' if failed else f'timeout after {timeout} s'}; stopping workers",
                  file=sys.stderr)
            for p in processes:
                if p.poll() is None:
                    p.kill()
            break
        time.sleep(0.2)
    for p in processes:
        p.wait()
    for relay in relays:
        relay.join(timeout=5)
    return code or next((p.returncode for p in processes if p.returncode != 0), 0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_workers", type=int, default=2, help="Worker processes to start (default: 2).")
    parser.add_argument("--timeout", type=float, default=None, help="Stop all workers after this many seconds.")
    parser.add_argument("--host", default="127.0.0.1", help="Address the workers listen on (default: 127.0.0.1).")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="The command every worker runs, after `--`.")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after `--`, e.g. -- tfgan train --strategy=multi_worker")
    return launch(command, args.num_workers, args.timeout, args.host)


if __name__ == "__main__":
    sys.exit(main())
