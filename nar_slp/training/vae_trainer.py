"""Pre-training the per-frame pose VAE (§3.2, Eq. 2 with Eq. 7) and checking it.

Frames of every training sequence are pooled: the VAE sees single poses, not
sequences. Each epoch shuffles them with a generator seeded ``cfg.seed + epoch`` and
draws the reparameterisation noise from another generator seeded from the same
number, so an interrupted run resumed from its last checkpoint ends with exactly the
weights of an uninterrupted one. The checkpoint (model, AdamW state, epoch, history)
is rewritten atomically after every epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from nar_slp.checkpoints import (
    atomic_write_json,
    check_compatible,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from nar_slp.config import Config, VAEConfig
from nar_slp.loop import EpochStats, Step, train_epochs
from nar_slp.models.pose_vae import RECON_LOSSES, PoseVAE, vae_loss
from nar_slp.recipe import adamw, grad_clip
from nar_slp.skeleton import GROUPS
from nar_slp.utils import EpochLogger, pick_device, quiet_progress, seed_everything

HISTORY_FILE = "history.json"
# Keys that must match between a saved VAE and the config that resumes/loads it.
ARCH_KEYS = ["vae.latent_dim", "vae.hidden", "n_values"]
# The noise generator's seed is offset so it never equals the shuffling seed.
_NOISE_OFFSET = 1_000_003


class _Inverse(Protocol):
    def inverse(self, x: np.ndarray) -> np.ndarray: ...


@dataclass
class VAETrainResult:
    """The trained VAE (eval mode, on the training device) and one dict per epoch."""

    model: PoseVAE
    history: list[dict[str, Any]] = field(default_factory=list)


def _pool_frames(poses: Sequence[np.ndarray], what: str) -> np.ndarray:
    """Stack every frame of ``poses`` (each (T, J, K) or (T, F)) -> (N, F) float32."""
    frames = []
    n_values = None
    for i, seq in enumerate(poses):
        arr = np.asarray(seq, dtype=np.float32)
        if arr.ndim not in (2, 3) or arr.shape[0] == 0:
            raise ValueError(
                f"{what}[{i}] must have shape (T, J, K) or (T, F) with T > 0, "
                f"got {arr.shape}"
            )
        flat = arr.reshape(arr.shape[0], -1)  # (T, F)
        if n_values is None:
            n_values = flat.shape[1]
        elif flat.shape[1] != n_values:
            raise ValueError(
                f"{what}[{i}] has {flat.shape[1]} values per frame, "
                f"{what}[0] has {n_values}"
            )
        if not np.isfinite(flat).all():
            raise ValueError(f"{what}[{i}] contains NaN or inf")
        lo, hi = float(flat.min()), float(flat.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{what}[{i}] has values in [{lo:.4g}, {hi:.4g}]; the VAE's BCE "
                "(Eq. 7) needs poses normalised to [0, 1] (use the fitted Normaliser)"
            )
        frames.append(flat)
    if not frames:
        raise ValueError(f"{what} is empty: the VAE needs at least one sequence")
    return np.concatenate(frames, axis=0)  # (N, F)


def _arch_config(cfg: Config, n_values: int) -> dict[str, Any]:
    """What the checkpoint's config.json records: the full config + n_values."""
    return {**cfg.to_dict(), "n_values": int(n_values)}


def vae_step(
    model: torch.nn.Module,
    x: torch.Tensor,
    generator: torch.Generator,
    recon_loss: str,
    kl_weight: float,
) -> Step:
    """The VAE's training step on a batch of frames ``x`` (b, F): the loss of Eq. 2
    (reconstruction + ``kl_weight`` × KL) with the reparameterisation noise drawn
    from ``generator``; its reconstruction and KL terms as the step's logs."""
    out = model(x, generator=generator)
    loss = vae_loss(out, x, recon_loss=recon_loss, kl_weight=kl_weight)
    return Step(loss.total, 1.0, {"recon": loss.recon.item(), "kl": loss.kl.item()})


@torch.no_grad()
def _evaluate(
    model: PoseVAE, frames: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Deterministic (z = mu) reconstruction BCE and MSE, averaged over all values."""
    was_training = model.training
    model.eval()
    bce_sum = mse_sum = 0.0
    for start in range(0, frames.shape[0], batch_size):
        x = frames[start : start + batch_size]  # (b, F)
        out = model(x)
        bce_sum += torch.nn.functional.binary_cross_entropy_with_logits(
            out.logits, x, reduction="sum"
        ).item()
        mse_sum += (out.recon - x).pow(2).sum().item()
    model.train(was_training)
    n = frames.numel()
    return bce_sum / n, mse_sum / n


def train_vae(
    cfg: Config,
    train_poses: Sequence[np.ndarray],
    dev_poses: Sequence[np.ndarray] | None,
    out_dir: str | Path,
    device: str | torch.device = "auto",
    resume: bool = True,
    recon_loss: str | None = None,
    log: Callable[[str], Any] | None = print,
    log_every: int | None = None,
) -> VAETrainResult:
    """Train the pose VAE on pooled frames (Eq. 2; BCE of Eq. 7 by default).

    Args:
        cfg: the full config; uses ``cfg.vae`` (sizes, λ, lr, batch size in frames,
            epochs) and ``cfg.seed``.
        train_poses, dev_poses: sequences (T, J, K) already normalised to [0, 1].
            ``dev_poses`` may be None/empty (dev metrics are then None).
        out_dir: checkpoint folder (``model.safetensors``, ``optimizer.safetensors``,
            ``config.json``, ``history.json``), rewritten after every epoch.
        device: "auto" | "cpu" | "cuda[:i]".
        resume: continue from the checkpoint in ``out_dir`` if there is one (its
            latent/hidden sizes and frame size must match, else ``ValueError``);
            False starts afresh and overwrites it.
        recon_loss: "bce" | "mse"; None uses ``cfg.vae.recon_loss``.
        log: called with the progress lines; None for silence. Which epochs get a
            line is :class:`nar_slp.utils.EpochLogger`'s policy.
        log_every: print every k-th epoch (None: at most a few lines per run).

    Returns:
        VAETrainResult with the model in eval mode and per-epoch history dicts
        ``{epoch, train_total, train_recon, train_kl, dev_recon_bce, dev_mse,
        seconds}`` (losses averaged over the epoch's batches; dev metrics with
        z = mu, averaged over values).
    """
    vcfg: VAEConfig = cfg.vae
    recon_loss = recon_loss or vcfg.recon_loss
    if recon_loss not in RECON_LOSSES:
        raise ValueError(
            f"recon_loss={recon_loss!r} is not one of {', '.join(RECON_LOSSES)}"
        )
    say = log or (lambda _msg: None)
    out_dir = Path(out_dir)
    dev = pick_device(device)

    if vcfg.train.schedule != "constant" or vcfg.train.patience:
        raise ValueError(
            "the VAE trains at a constant rate and keeps its last epoch: "
            f"vae.train.schedule must be 'constant' (got {vcfg.train.schedule!r}) "
            f"and vae.train.patience 0 (got {vcfg.train.patience})"
        )
    train_np = _pool_frames(train_poses, "train_poses")  # (N, F)
    n_values = train_np.shape[1]
    has_dev = dev_poses is not None and len(dev_poses) > 0
    dev_np = _pool_frames(dev_poses, "dev_poses") if has_dev else None
    if dev_np is not None and dev_np.shape[1] != n_values:
        raise ValueError(
            f"dev_poses have {dev_np.shape[1]} values per frame, train_poses {n_values}"
        )
    train_x = torch.from_numpy(train_np).to(dev)  # (N, F)
    dev_x = torch.from_numpy(dev_np).to(dev) if dev_np is not None else None

    seed_everything(cfg.seed)
    model = PoseVAE(vcfg, n_values=n_values).to(dev)
    # AdamW as for every part of the network (§4.2)
    optimizer = adamw(model.parameters(), vcfg.train)
    config = _arch_config(cfg, n_values)
    history: list[dict[str, Any]] = []
    start_epoch = 0

    if resume and checkpoint_exists(out_dir):
        # On CPU: load_state_dict moves tensors to the parameters' device itself and
        # keeps AdamW's step counters on the CPU, as a fresh optimizer has them.
        ckpt = load_checkpoint(out_dir, device="cpu")
        check_compatible(ckpt.config, config, ARCH_KEYS, out_dir)
        model.load_state_dict(ckpt.state_dict)
        if ckpt.optimizer_state is not None:
            optimizer.load_state_dict(ckpt.optimizer_state)
        start_epoch = int(ckpt.extra.get("epoch", 0))
        history = list(ckpt.extra.get("history", []))
        saved_loss = ckpt.extra.get("recon_loss")
        if saved_loss is not None and saved_loss != recon_loss:
            say(
                f"warning: {out_dir} was trained with recon_loss={saved_loss}, "
                f"continuing with {recon_loss}"
            )
        if start_epoch >= vcfg.train.epochs:
            say(f"{out_dir}: already trained for {start_epoch} epochs, nothing to do")
        else:
            say(f"{out_dir}: resuming after epoch {start_epoch}/{vcfg.train.epochs}")

    n_frames = train_x.shape[0]
    batch_size = max(1, min(vcfg.train.batch_size, n_frames))
    epoch_log = EpochLogger(say, vcfg.train.epochs, log_every)
    noise: dict[str, torch.Generator] = {}  # this epoch's reparameterisation noise
    dev_mse: dict[int, float] = {}

    def batches(epoch: int):
        order_gen = torch.Generator().manual_seed(cfg.seed + epoch)
        noise["gen"] = torch.Generator(device=dev).manual_seed(
            cfg.seed + epoch + _NOISE_OFFSET
        )
        perm = torch.randperm(n_frames, generator=order_gen).to(dev)  # (N,)
        starts = range(0, n_frames, batch_size)
        for start in quiet_progress(starts, desc=f"VAE epoch {epoch}"):
            yield train_x[perm[start : start + batch_size]]  # (b, F)

    def step(x: torch.Tensor) -> Step:
        return vae_step(model, x, noise["gen"], recon_loss, vcfg.kl_weight)

    def dev_score(epoch: int) -> float:
        bce, dev_mse[epoch] = _evaluate(model, dev_x, max(batch_size, 1024))
        return bce

    def end_epoch(stats: EpochStats) -> None:
        epoch = stats.epoch
        row = {
            "epoch": epoch,
            "train_total": stats.means["loss"],
            "train_recon": stats.means["recon"],
            "train_kl": stats.means["kl"],
            "dev_recon_bce": stats.dev,
            "dev_mse": dev_mse.get(epoch),
            "seconds": round(stats.seconds, 3),
        }
        history.append(row)
        save_checkpoint(
            out_dir,
            model,
            config,
            extra={
                "kind": "pose_vae",
                "epoch": epoch,
                "history": history,
                "recon_loss": recon_loss,
            },
            optimizer_state=optimizer.state_dict(),
        )
        atomic_write_json(out_dir / HISTORY_FILE, history)
        dev_msg = (
            f" | dev bce {stats.dev:.5f} mse {row['dev_mse']:.6f}"
            if stats.dev is not None
            else ""
        )
        epoch_log.epoch(
            epoch,
            f"VAE epoch {epoch}/{vcfg.train.epochs}: loss {row['train_total']:.5f} "
            f"(recon {row['train_recon']:.5f}, kl {row['train_kl']:.3f})"
            f"{dev_msg} [{row['seconds']:.1f}s]",
        )

    # the last epoch is kept (the dev scores are reported, not used to select)
    train_epochs(
        model,
        optimizer,
        range(start_epoch + 1, vcfg.train.epochs + 1),
        batches,
        step,
        dev_score=dev_score if dev_x is not None else None,
        clip=grad_clip(vcfg.train),
        end_epoch=end_epoch,
        name="VAE",
        hint="lower vae.train.lr",
    )
    epoch_log.finish()
    model.eval()
    return VAETrainResult(model=model, history=history)


# ---------------------------------------------------------------- hand-check metrics


def _as_frames(poses: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Sequences (T, J, K) or an array (..., J, K) -> (N, J, K) float32."""
    if isinstance(poses, np.ndarray):
        arr = poses.astype(np.float32, copy=False)
    else:
        arr = np.concatenate([np.asarray(p, dtype=np.float32) for p in poses], axis=0)
    if arr.ndim < 2:
        raise ValueError(f"poses must end in (J, K), got shape {arr.shape}")
    return arr.reshape(-1, *arr.shape[-2:])  # (N, J, K)


def _group_errors(
    pred: np.ndarray,
    target: np.ndarray,
    normaliser: _Inverse | None,
    groups: Mapping[str, Sequence[int]] = GROUPS,
) -> dict[str, dict[str, float]]:
    """Mean Euclidean per-joint error of each joint group, (N, J, K) inputs."""
    dist = {"normalised": np.linalg.norm(pred - target, axis=-1)}  # (N, J)
    if normaliser is not None:
        dist["original"] = np.linalg.norm(
            normaliser.inverse(pred) - normaliser.inverse(target), axis=-1
        )  # (N, J)
    return {
        group: {unit: float(d[:, list(joints)].mean()) for unit, d in dist.items()}
        for group, joints in groups.items()
    }


@torch.no_grad()
def reconstruction_error_by_group(
    model: PoseVAE,
    poses_normalised: Sequence[np.ndarray] | np.ndarray,
    normaliser: _Inverse | None = None,
    batch_size: int = 4096,
    groups: Mapping[str, Sequence[int]] = GROUPS,
) -> dict[str, dict[str, float]]:
    """Mean per-joint Euclidean reconstruction error of the VAE (z = mu) per group.

    Backs the chapter's claim that BCE reconstructs the hands instead of averaging
    them away (§3.4 "Pose Loss").

    Args:
        poses_normalised: sequences (T, J, K) or an array (..., J, K) in [0, 1].
        normaliser: anything with ``.inverse(x (N, J, K)) -> (N, J, K)``; if given,
            errors are also reported in original PT units.

    Returns:
        ``{group: {"normalised": err, "original": err}}`` for each group of
        ``groups`` (default ``nar_slp.skeleton.GROUPS``: body, left_hand, right_hand;
        ``BODY_PARTS`` splits the body into head, shoulders and arms); "original" only
        with a normaliser. "normalised" distances are taken in the [0, 1] space.
    """
    frames = _as_frames(poses_normalised)  # (N, J, K)
    n, j, k = frames.shape
    if j * k != model.n_values:
        raise ValueError(
            f"poses have {j}x{k} values per frame, the VAE expects {model.n_values}"
        )
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    recon = np.empty_like(frames)
    for start in range(0, n, batch_size):
        x = torch.from_numpy(frames[start : start + batch_size]).to(device)
        recon[start : start + batch_size] = model(x).recon.float().cpu().numpy()
    model.train(was_training)
    return _group_errors(recon, frames, normaliser, groups)


def mean_pose_error(
    train_poses: Sequence[np.ndarray] | np.ndarray,
    eval_poses: Sequence[np.ndarray] | np.ndarray,
    normaliser: _Inverse | None = None,
    groups: Mapping[str, Sequence[int]] = GROUPS,
) -> dict[str, dict[str, float]]:
    """Baseline for :func:`reconstruction_error_by_group`: the error of predicting
    the mean training pose for every frame (same groups, units and layout)."""
    train = _as_frames(train_poses)  # (N, J, K)
    target = _as_frames(eval_poses)  # (M, J, K)
    if train.shape[1:] != target.shape[1:]:
        raise ValueError(
            f"train poses are (.., {train.shape[1]}, {train.shape[2]}) but eval poses "
            f"(.., {target.shape[1]}, {target.shape[2]})"
        )
    mean = train.mean(axis=0, keepdims=True)  # (1, J, K)
    pred = np.broadcast_to(mean, target.shape).copy()  # (M, J, K)
    return _group_errors(pred, target, normaliser, groups)


__all__ = [
    "ARCH_KEYS",
    "HISTORY_FILE",
    "VAETrainResult",
    "mean_pose_error",
    "reconstruction_error_by_group",
    "train_vae",
]
