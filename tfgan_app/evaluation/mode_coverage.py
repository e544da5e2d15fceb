"""Mode coverage of samples from a 2-D mixture of Gaussians (VEEGAN, Srivastava et al. 2017; PacGAN).

A sample is **high quality** if it lies within 3σ (Euclidean distance) of its
nearest mode mean. A mode is **covered** if it receives at least
`min_samples` high-quality samples (default 1, out of the usual 2,500 samples;
VEEGAN asks for "enough" samples, so raise it for a stricter count). The
**reverse KL** is KL(q ‖ uniform) of the histogram q of high-quality samples
over the modes, in nats: 0 when every mode gets the same share, log(M) when all
fall on one of M modes.

Example:
>>> samples = gan.generate(2500)
>>> report = mode_coverage(samples, "ring8")
>>> report["modes_covered"], report["high_quality_fraction"]
(8, 0.93)
"""

from typing import Dict, Union

import numpy as np

from tfgan_app.data.toy import mixture_means, mixture_std
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.coverage import kl_to_uniform


def mode_coverage(samples, mixture: Union[str, np.ndarray], std: float = None, min_samples: int = 1) -> Dict:
    """Mode-coverage statistics of `[N, 2]` samples for a mixture (name, or `[M, 2]` means with `std`).

    Returns a dict: `modes_covered`, `num_modes`, `high_quality_fraction`,
    `reverse_kl`, `mode_counts` (high-quality samples per mode) and `num_samples`.
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    if isinstance(mixture, str):
        means, std = mixture_means(mixture), mixture_std(mixture)
    else:
        means = np.asarray(mixture, np.float64)
        if std is None:
            raise UsageError("Pass std (the per-mode σ) with explicit mixture means.")
    if samples.ndim != 2 or samples.shape[1] != means.shape[1] or len(samples) == 0:
        raise UsageError(f"Expected samples of shape [N, {means.shape[1]}] with N > 0, received {samples.shape}.")
    distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= 3.0 * std
    counts = np.bincount(nearest[high_quality], minlength=len(means))
    total = counts.sum()
    reverse_kl = kl_to_uniform(counts / total) if total else float("nan")
    return {"modes_covered": int((counts >= min_samples).sum()), "num_modes": int(len(means)),
            "high_quality_fraction": float(high_quality.mean()), "reverse_kl": reverse_kl,
            "mode_counts": counts.tolist(), "num_samples": int(len(samples))}
