"""DurACC's hit rule (paper §5.4): is a generated length within one second?

The one definition every DurACC of the package is computed from — the evaluation's
:func:`nar_slp.evaluation.metrics.dur_acc`, and the student trainer's dev pass and dev
report. It sits below both, so training does not import the evaluation package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def duracc_hits(
    pred_lengths: Sequence[int] | np.ndarray,
    true_lengths: Sequence[int] | np.ndarray,
    tolerance: int = 25,
) -> np.ndarray:
    """Per sequence: is the generated length within the DurACC margin (§5.4)?

    The paper scores DurACC "(<1s)", "with less than a second margin of error" at 25
    fps, so a hit is ``|pred - true| < tolerance`` frames, *strictly* less: an error of
    exactly 25 frames (1 s) is a miss. Every DurACC in the package (``dur_acc``, the
    student trainer's dev pass and dev report) is computed from this function.

    Args:
        pred_lengths: generated sequence lengths in frames, shape (N,).
        true_lengths: ground-truth lengths in frames, shape (N,).
        tolerance: margin in frames (> 0); 25 = 1 s at 25 fps.

    Returns:
        (N,) bool array, True = hit.
    """
    pred = np.asarray(pred_lengths, dtype=np.float64).reshape(-1)
    true = np.asarray(true_lengths, dtype=np.float64).reshape(-1)
    if pred.shape != true.shape:
        raise ValueError(
            f"DurACC: pred_lengths has {pred.size} entries, true_lengths {true.size}"
        )
    if tolerance <= 0:
        raise ValueError(f"DurACC: tolerance must be > 0 frames, got {tolerance}")
    return np.abs(pred - true) < tolerance
