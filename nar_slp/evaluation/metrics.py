"""Pose-level metrics that need no learned evaluator: DurACC (§5.4) and DTW-MJE.

All functions take poses as numpy arrays ``(T, J, K)`` in ORIGINAL PT coordinates
(neck at the origin, the units stored in ``.skels``), whatever system produced them.
Nothing here normalises.

DurACC (paper §5.4, Table 3)
    The share of sequences whose generated length differs from the ground-truth length
    by strictly less than ``tolerance`` frames. The paper reports it as "DurACC
    (<1s)", assuming 25 fps, so the default tolerance is 25 frames
    (``cfg.eval.duracc_tolerance``).

Motion amplitude (not in the paper; makes regression to the mean visible)
    Per sequence, the mean joint speed (Euclidean displacement per frame, averaged
    over joints and frames) and the pose spread (root-mean-square distance of each
    joint from its own mean position over the sequence, averaged over joints), both in
    PT units. A system is compared with the ground truth by the ratio of the sentence
    means: 1 = as much motion as real signing; a model that averages its training
    targets scores below 1 on both.

DTW-MJE (not in the paper; a common SLP sanity metric)
    Mean joint error after dynamic time warping. The cost of pairing generated frame i
    with reference frame j is the mean over the J joints of the Euclidean distance
    between the two frames' joints (PT units). DTW uses the steps (1, 0), (0, 1) and
    (1, 1) with unit weights, from (0, 0) to (T_gen - 1, T_ref - 1). The reported value
    is the optimal path's total cost divided by the number of cells on that path, so it
    is a mean per-joint distance in PT units that does not grow with sequence length,
    and a time-stretched copy of a sequence scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nar_slp.duracc import duracc_hits


def slice_interval(seq: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Frames ``start .. stop - 1`` of ``seq`` (those it has), as a view.

    Args:
        seq: (T, ...) array.
        start, stop: frame indices, 0 <= start <= stop. ``stop`` may exceed T: the
            result then ends at the last frame; if ``start >= T`` it is empty (0, ...).

    Returns:
        ``seq[start:min(stop, T)]``, shape (min(stop, T) - start, ...) or (0, ...).
    """
    if start < 0 or stop < start:
        raise ValueError(
            f"slice_interval needs 0 <= start <= stop, got [{start}, {stop})"
        )
    seq = np.asarray(seq)
    t = seq.shape[0]
    return seq[min(start, t) : min(stop, t)]


def dur_acc(
    pred_lengths: Sequence[int] | np.ndarray,
    true_lengths: Sequence[int] | np.ndarray,
    tolerance: int = 25,
) -> float:
    """Duration accuracy (§5.4): share of |pred - true| < ``tolerance`` frames
    (the mean of :func:`duracc_hits`).

    Args:
        pred_lengths: generated sequence lengths in frames, shape (N,).
        true_lengths: ground-truth lengths in frames, shape (N,).
        tolerance: margin in frames; 25 = "< 1 s" at 25 fps as in Table 3.

    Returns:
        A fraction in [0, 1] (Table 3 prints it as is, e.g. 0.76).
    """
    hits = duracc_hits(pred_lengths, true_lengths, tolerance)
    if hits.size == 0:
        raise ValueError("dur_acc: no lengths given")
    return float(hits.mean())


def frame_cost_matrix(gen: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Mean per-joint Euclidean distance between every pair of frames.

    Args:
        gen: (T_g, J, K) poses; ref: (T_r, J, K) poses (PT units).

    Returns:
        (T_g, T_r) float64 matrix; entry (i, j) = mean_J ||gen[i, J] - ref[j, J]||.
    """
    gen = np.asarray(gen, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if gen.ndim != 3 or ref.ndim != 3 or gen.shape[1:] != ref.shape[1:]:
        raise ValueError(
            f"DTW needs (T, J, K) arrays with the same (J, K); got {gen.shape} and "
            f"{ref.shape}"
        )
    if gen.shape[0] == 0 or ref.shape[0] == 0:
        raise ValueError(f"DTW needs non-empty sequences; got {gen.shape}, {ref.shape}")
    # ||a - b||^2 = |a|^2 + |b|^2 - 2 a.b per joint, as one batched matmul: ~3x faster
    # than materialising (T_g, T_r, J, K) differences. Round-off leaves ~1e-8 PT units
    # where two frames coincide (float64), far below any pose difference of interest.
    g = gen.transpose(1, 0, 2)  # (J, T_g, K)
    r = ref.transpose(1, 2, 0)  # (J, K, T_r)
    sq = (g**2).sum(-1)[:, :, None] + (r**2).sum(1)[:, None, :] - 2.0 * (g @ r)
    return np.sqrt(np.maximum(sq, 0.0)).mean(0)  # (T_g, T_r)


def dtw_path_cost(cost: np.ndarray) -> tuple[float, int]:
    """Minimum total DTW cost over ``cost`` and the length of that path.

    Steps (1, 0), (0, 1), (1, 1); the path starts at (0, 0) and ends at (N-1, M-1).
    Each row is solved in closed form: within a row only horizontal steps remain, so
    ``D[i, j] = S[j] + min_{k <= j} (A[k] - S[k-1])`` with S the row's prefix sums of
    the cost and A[k] the best way to enter the row at column k (from above or
    diagonally). That makes the DP one vectorised numpy pass per row.

    Returns:
        (total cost, number of cells on the optimal path). Among equal-cost paths the
        one found first (diagonal entry preferred, shortest horizontal run) is used.
    """
    n, m = cost.shape
    cols = np.arange(m)
    prev_d = np.cumsum(cost[0])  # (M,) row 0: only horizontal steps
    prev_len = cols + 1.0
    for i in range(1, n):
        # Best entry into row i at column k: from (i-1, k) or diagonally (i-1, k-1).
        enter_d = prev_d.copy()
        enter_len = prev_len.copy()
        diag_better = np.zeros(m, dtype=bool)
        diag_better[1:] = prev_d[:-1] <= prev_d[1:]
        enter_d[1:] = np.where(diag_better[1:], prev_d[:-1], prev_d[1:])
        enter_len[1:] = np.where(diag_better[1:], prev_len[:-1], prev_len[1:])
        s = np.cumsum(cost[i])  # (M,)
        s_before = np.concatenate(([0.0], s[:-1]))  # S[k-1]
        val = enter_d - s_before  # (M,)
        run_min = np.minimum.accumulate(val)
        # Index of the (latest) k achieving the running minimum, for the path length.
        is_min = val <= np.concatenate(([np.inf], run_min[:-1]))
        best_k = np.maximum.accumulate(np.where(is_min, cols, 0))
        prev_d = s + run_min
        prev_len = enter_len[best_k] + (cols - best_k + 1)
    return float(prev_d[-1]), int(prev_len[-1])


def dtw_mje(gen: np.ndarray, ref: np.ndarray) -> float:
    """DTW mean joint error between two pose sequences (see the module docstring).

    Args:
        gen: (T_g, J, K) generated poses; ref: (T_r, J, K) reference poses, PT units.
            The lengths may differ.

    Returns:
        Optimal DTW path cost / path length: a mean per-joint distance in PT units.
    """
    total, length = dtw_path_cost(frame_cost_matrix(gen, ref))
    return total / length


def dtw_mje_per_sentence(
    gens: Sequence[np.ndarray], refs: Sequence[np.ndarray]
) -> np.ndarray:
    """:func:`dtw_mje` of each pair (generated i against reference i), shape (N,)
    in PT units (the per-sentence values behind the bootstrap SE of DTW-MJE)."""
    if len(gens) != len(refs):
        raise ValueError(
            f"mean_dtw_mje: {len(gens)} generated sequences but {len(refs)} references"
        )
    if not gens:
        raise ValueError("mean_dtw_mje: no sequences given")
    return np.array([dtw_mje(g, r) for g, r in zip(gens, refs, strict=True)])


def mean_dtw_mje(gens: Sequence[np.ndarray], refs: Sequence[np.ndarray]) -> float:
    """Mean of :func:`dtw_mje` over paired lists (generated i against reference i)."""
    return float(np.mean(dtw_mje_per_sentence(gens, refs)))


def motion_amplitude(poses: Sequence[np.ndarray]) -> np.ndarray:
    """Per-sequence (mean joint speed, pose spread), shape (N, 2), PT units per frame
    and PT units (see the module docstring). A 1-frame sequence has speed 0."""
    if not poses:
        raise ValueError("motion_amplitude: no sequences given")
    out = np.zeros((len(poses), 2))
    for i, p in enumerate(poses):
        p = np.asarray(p, dtype=np.float64)  # (T, J, K)
        if p.ndim != 3 or len(p) == 0:
            raise ValueError(
                f"motion_amplitude: sequence {i} is {p.shape}, not (T, J, K)"
            )
        if len(p) > 1:
            out[i, 0] = np.linalg.norm(np.diff(p, axis=0), axis=-1).mean()
        centred = p - p.mean(axis=0, keepdims=True)  # (T, J, K)
        out[i, 1] = np.sqrt((centred**2).sum(-1).mean(0)).mean()
    return out
