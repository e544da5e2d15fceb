"""Running a started service in the foreground until Ctrl-C: what `tfgan serve` and `tfgan explore` share."""

import threading
from typing import Callable, Sequence


def run_until_interrupted(lines: Sequence[str], stop: Callable[[], None]) -> int:
    """Prints `lines` and "Press Ctrl-C to stop.", blocks until interrupted, then calls `stop` (always).

    Args:
      lines: what the service is and where it listens, one line each.
      stop: shuts the service down (ports released, threads joined).

    Returns 0, the command's exit status.
    """
    try:
        for line in lines:
            print(line)
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    finally:
        stop()
    return 0
