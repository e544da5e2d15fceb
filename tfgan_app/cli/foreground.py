"""Running a started service in the foreground until Ctrl-C or SIGTERM: what `tfgan serve` and `tfgan explore` share.

Both signals stop the service the same way (its `stop` stops accepting, lets the requests in flight
finish within its grace period, and releases the ports), and the command exits 0: container runtimes
(`docker stop`, Kubernetes) send SIGTERM, a terminal sends SIGINT.
"""

import signal
import threading
from typing import Callable, Sequence

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_interrupted(lines: Sequence[str], stop: Callable[[], None]) -> int:
    """Prints `lines` and "Press Ctrl-C to stop.", blocks until SIGINT or SIGTERM, then calls `stop` (always).

    Args:
      lines: what the service is and where it listens, one line each.
      stop: shuts the service down gracefully (stops accepting, drains, releases the ports, joins threads).

    Returns 0, the command's exit status.
    """
    received = []
    stopping = threading.Event()

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        received.append(signum)
        stopping.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS} if in_main_thread else {}
    try:
        for line in lines:
            print(line)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping.wait(0.5):  # a timed wait, so the signal handler runs promptly
            pass
        print(f"{signal.Signals(received[0]).name} received: stopping (requests in flight finish first).",
              flush=True)
    finally:
        try:
            stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 0
