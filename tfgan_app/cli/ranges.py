"""The valid range of every numeric `tfgan` flag, checked when the flags are parsed.

One table for all commands: a flag of that name, in whichever command defines it, must lie in its
range, else the command stops at parsing with one `error: flag --NAME=VALUE: ...` line and exit
code 2 (before any TensorFlow import, file or port is touched). Commands still check the
relations between flags (e.g. `--rest_port` != `--grpc_port`) in `run()`.

Example:
  tfgan serve --rest_port=99999
  error: flag --rest_port=99999: --rest_port must be a port number in [0, 65535] (0: pick a free port).
"""

import math
from typing import Callable, Dict, NamedTuple, Optional

from absl import flags

MAX_PORT = 65535
MAX_INT64 = 2 ** 63 - 1


class Range(NamedTuple):
    """Inclusive bounds of a numeric flag (None: unbounded) and what they mean, for the error line."""
    low: Optional[float]
    high: Optional[float]
    meaning: str
    low_exclusive: bool = False

    def contains(self, value) -> bool:
        """Whether `value` (None: the flag is unset) is a finite number within the bounds."""
        if value is None:
            return True
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_exclusive else value < self.low):
            return False
        return self.high is None or value <= self.high


_PORT = Range(0, MAX_PORT, "a port number in [0, 65535] (0: pick a free port)")
_POSITIVE = Range(1, None, "a positive integer (>= 1)")
_SECONDS = Range(0, None, "a finite number of seconds > 0", low_exclusive=True)

# Flag name -> its range, for every command that defines a flag of that name.
RANGES: Dict[str, Range] = {
    "port": _PORT, "rest_port": _PORT, "grpc_port": _PORT,
    "timeout": _SECONDS, "idle_timeout_seconds": _SECONDS,
    "file_system_poll_wait_seconds": Range(0, None, "a finite number of seconds >= 0 (0: scan once at start)"),
    "grace_period_seconds": Range(0, None, "a finite number of seconds >= 0"),
    "epochs": _POSITIVE, "steps_per_epoch": _POSITIVE, "batch_size": _POSITIVE, "latent_dim": _POSITIVE,
    "log_every_steps": _POSITIVE, "eval_every": _POSITIVE, "eval_samples": _POSITIVE, "num_images": _POSITIVE,
    "num_classes": _POSITIVE, "scale": _POSITIVE, "num_samples": _POSITIVE, "kid_subsets": _POSITIVE,
    "is_splits": _POSITIVE, "pr_k": _POSITIVE, "max_batch_size": _POSITIVE,
    "kid_subset_size": Range(2, None, "an integer >= 2 (KID compares pairs within a subset)"),
    "seed": Range(0, MAX_INT64, "an integer in [0, 2**63 - 1]"),
    "interpolate": Range(0, None, "an integer >= 0 (0: no latent walk; >= 2: its steps)"),
    "truncation": Range(0, 1, "a number in [0, 1] (1: no truncation)"),
    "max_body_bytes": Range(1024, MAX_INT64, "a number of bytes >= 1024"),
    "max_image_pixels": _POSITIVE,
    "size": Range(1, 4096, "an image height and width in [1, 4096]"),
    "shards": Range(1, 100_000, "a number of files in [1, 100000]"),
    "channels": Range(1, 3, "1 (grayscale) or 3 (RGB), an integer in [1, 3]"),
}


def _checker(name: str, valid: Range) -> Callable:
    def check(value) -> bool:
        if valid.contains(value):
            return True
        raise flags.ValidationError(f"--{name} must be {valid.meaning}.")
    return check


def register(fv: flags.FlagValues) -> None:
    """Registers the `RANGES` validator of each flag `fv` defines (call before parsing)."""
    defined = fv._flags()  # pylint: disable=protected-access
    for name, valid in RANGES.items():
        if name in defined and defined[name].flag_type() in ("int", "float"):
            flags.register_validator(name, _checker(name, valid), flag_values=fv)
