"""Training loop of the student (the LLM, §3.4, Eq. 8-11) against a frozen pose VAE.

:func:`train_student` trains :class:`~nar_slp.models.student.TextToLatentStudent`
with AdamW, gradient clipping and (on CUDA) bf16/fp16 autocast, evaluates on the dev
split every epoch and writes a checkpoint folder ``out_dir`` after each epoch:

    out_dir/model.safetensors      every student weight, the text encoder's included
                                   (a frozen pretrained encoder too: a checkpoint is
                                   self-contained and loads without re-reading the
                                   pretrained folder's weights)
    out_dir/optimizer.safetensors  AdamW state (tensors; structure in config.json)
    out_dir/config.json            the full Config, epoch, history, input kind

No pickle anywhere. A run interrupted after any epoch resumes from ``out_dir`` and
reaches the same weights as an uninterrupted run on CPU: every epoch re-seeds with
``seed_everything(cfg.seed + epoch)`` and sets the batch sampler's epoch, and the
frozen text encoder's cached features do not depend on batch composition.

The decoder is given the true lengths during training (teacher-forced lengths); the
dev DurACC uses the regulator's predicted lengths.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nar_slp.bootstrap import bootstrap_se
from nar_slp.config import Config, config_from_dict
from nar_slp.models.pose_vae import freeze
from nar_slp.models.student import TextToLatentStudent, build_student, student_losses
from nar_slp.training.checkpoint import (
    check_compatible,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from nar_slp.utils import (
    autocast_context,
    pick_device,
    quiet_progress,
    seed_everything,
)

INPUT_KINDS = ("text", "gloss")

# Settings that change the student's architecture (or its output space): a checkpoint
# trained with different values cannot be loaded.
ARCH_KEYS = [
    "vae.latent_dim",
    "data.max_frames",
    "student.text_encoder",
    "student.pooling",
    "student.d_model",
    "student.n_layers",
    "student.n_heads",
    "student.d_ff",
    "student.length_hidden",
    "student.scratch_layers",
    "student.scratch_d_model",
]
# ... and to resume, the set of trained parameters must match too.
RESUME_KEYS = [*ARCH_KEYS, "student.finetune_encoder"]


@dataclass
class StudentTrainResult:
    """The trained student (eval mode) and one history row per epoch."""

    model: TextToLatentStudent
    history: list[dict[str, Any]] = field(default_factory=list)
    directory: Path | None = None


def _n_values(vae: nn.Module) -> int | None:
    n = getattr(vae, "n_values", None)
    return int(n) if n is not None else None


def _inputs(batch: Any, input_kind: str) -> list[str]:
    """The strings the student reads: ``batch.texts`` (T2P) or ``batch.glosses``."""
    if input_kind == "text":
        return list(batch.texts)
    glosses = list(batch.glosses)
    empty = [
        name for name, g in zip(batch.names, glosses, strict=True) if not g.strip()
    ]
    if empty:
        raise ValueError(
            f"input_kind='gloss' but {len(empty)} sample(s) have no gloss annotation "
            f"(first: {empty[0]!r}); use input_kind='text' or a corpus with glosses"
        )
    return glosses


def _set_epoch(loader: Any, epoch: int) -> None:
    for sampler in (
        getattr(loader, "batch_sampler", None),
        getattr(loader, "sampler", None),
    ):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            return


@torch.no_grad()
def _dev_batches(
    model: TextToLatentStudent,
    loader: Any,
    vae: nn.Module,
    cfg: Config,
    device: torch.device,
    input_kind: str,
) -> Iterator[dict[str, Any]]:
    """Per batch: the loss terms (true lengths), frame and sequence counts, and the
    regulator's predicted lengths next to the true ones."""
    was_training = model.training
    model.eval()
    try:
        for batch in loader:
            batch = batch.to(device)
            with autocast_context(device, cfg.student.mixed_precision):
                out = model(_inputs(batch, input_kind), n_frames=batch.lengths)
                losses = student_losses(
                    out, batch, vae, cfg.data.max_frames, True, cfg.student.loss_weights
                )
            predicted = model.lengths_from_ratio(out.length_ratio)  # (B,)
            yield {
                "pose": float(losses.pose),
                "distil": float(losses.distil),
                "length": float(losses.length),
                "frames": int(batch.mask.sum()),
                "predicted": predicted.detach().cpu().numpy(),
                "true": batch.lengths.cpu().numpy(),
            }
    finally:
        model.train(was_training)


def evaluate_student(
    model: TextToLatentStudent,
    loader: Any,
    vae: nn.Module,
    cfg: Config,
    device: torch.device,
    input_kind: str = "text",
) -> dict[str, float]:
    """Dev losses (true lengths) and DurACC (predicted lengths) over ``loader``.

    Returns ``{"pose", "distil", "length", "duracc"}``: frame terms averaged over real
    frames, the length BCE over sequences, DurACC = share of sequences whose predicted
    length is within ``cfg.eval.duracc_tolerance`` frames of the truth.
    """
    sums = {"pose": 0.0, "distil": 0.0, "length": 0.0}
    n_frames = n_seqs = n_hit = 0
    for row in _dev_batches(model, loader, vae, cfg, device, input_kind):
        sums["pose"] += row["pose"] * row["frames"]
        sums["distil"] += row["distil"] * row["frames"]
        sums["length"] += row["length"] * len(row["true"])
        error = np.abs(row["predicted"] - row["true"])
        n_hit += int((error <= cfg.eval.duracc_tolerance).sum())
        n_frames += row["frames"]
        n_seqs += len(row["true"])
    if n_seqs == 0:
        return {k: math.nan for k in ("pose", "distil", "length", "duracc")}
    return {
        "pose": sums["pose"] / max(n_frames, 1),
        "distil": sums["distil"] / max(n_frames, 1),
        "length": sums["length"] / n_seqs,
        "duracc": n_hit / n_seqs,
    }


# Columns of chapter 03's training table (results/<preset>/training.csv).
DEV_REPORT_COLUMNS = (
    "dev L_pose",
    "dev L_distil",
    "dev L_length",
    "dev DurACC %",
    "dev length r",
)


def student_dev_report(
    model: TextToLatentStudent,
    dataset: Any,
    vae: nn.Module,
    cfg: Config,
    device: str | torch.device | None = None,
    input_kind: str = "text",
    n_boot: int = 200,
    boot_seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Dev metrics of a trained student, each with its bootstrap standard error.

    Every dev sequence is scored on its own (batch of one, so padding plays no part);
    the bootstrap resamples sequences with replacement ``n_boot`` times. Returns
    ``{column: (value, se)}`` for :data:`DEV_REPORT_COLUMNS`: L_pose and L_distil
    averaged over real frames (as during training), L_length over sequences, DurACC
    in % with the regulator's lengths, and the correlation of predicted and true
    lengths. ``n_boot=0`` gives NaN standard errors.
    """
    device = pick_device(device) if not isinstance(device, torch.device) else device
    loader = _make_loader(dataset, 1, shuffle=False, seed=cfg.seed)
    rows = list(_dev_batches(model, loader, vae, cfg, device, input_kind))
    if not rows:
        raise ValueError("student_dev_report: the dev set is empty")
    frames = np.array([r["frames"] for r in rows], dtype=np.float64)
    pose = np.array([r["pose"] for r in rows]) * frames  # per-sequence sums
    distil = np.array([r["distil"] for r in rows]) * frames
    length = np.array([r["length"] for r in rows])
    predicted = np.concatenate([r["predicted"] for r in rows]).astype(np.float64)
    true = np.concatenate([r["true"] for r in rows]).astype(np.float64)
    hit = np.abs(predicted - true) <= cfg.eval.duracc_tolerance

    def corr(idx: np.ndarray) -> float:
        p, t = predicted[idx], true[idx]
        if p.std() == 0 or t.std() == 0:
            return math.nan
        return float(np.corrcoef(p, t)[0, 1])

    stats: dict[str, Callable[[np.ndarray], float]] = {
        "dev L_pose": lambda i: float(pose[i].sum() / frames[i].sum()),
        "dev L_distil": lambda i: float(distil[i].sum() / frames[i].sum()),
        "dev L_length": lambda i: float(length[i].mean()),
        "dev DurACC %": lambda i: float(100.0 * hit[i].mean()),
        "dev length r": corr,
    }
    everything = np.arange(len(rows))
    return {
        name: (fn(everything), bootstrap_se(fn, len(rows), n_boot, boot_seed))
        for name, fn in stats.items()
    }


def _make_loader(dataset: Any, batch_size: int, shuffle: bool, seed: int) -> Any:
    from nar_slp.data.dataset import make_loader

    return make_loader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed)


def train_student(
    cfg: Config,
    train_set: Any,
    dev_set: Any | None,
    vae: nn.Module,
    out_dir: str | Path,
    device: str | torch.device = "auto",
    resume: bool = True,
    log: Callable[[str], Any] | None = print,
    input_kind: str | None = None,
) -> StudentTrainResult:
    """Train the student of ``cfg`` on ``train_set`` (Eq. 11) with a frozen ``vae``.

    Args:
        cfg: full configuration (``cfg.student`` for the model and optimiser,
            ``cfg.vae.latent_dim``, ``cfg.data.max_frames`` = T_max, ``cfg.seed``).
        train_set, dev_set: ``PoseTextDataset``\\ s (dev may be None: no dev columns).
        vae: the pretrained pose VAE (teacher LGM = ``vae.lgm``, PGM = ``vae.decode``);
            it is frozen here.
        out_dir: checkpoint folder (see the module docstring).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        resume: continue from the checkpoint in ``out_dir`` if there is one (False:
            start over and overwrite it).
        log: called with one line per epoch (None: silent).
        input_kind: ``"text"`` (T2P, the paper) or ``"gloss"`` (G2P: the same model
            reads the gloss string); default ``cfg.data.input_kind``.

    Returns:
        :class:`StudentTrainResult` with the model in eval mode and per-epoch rows
        ``{epoch, train_total, train_pose, train_distil, train_length, dev_pose,
        dev_distil, dev_length, dev_duracc, seconds}``.

    Raises:
        ValueError: the checkpoint in ``out_dir`` was trained with another
            architecture, VAE or input kind.
    """
    log = log or (lambda _line: None)
    input_kind = input_kind or cfg.data.input_kind
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind={input_kind!r}; valid: {', '.join(INPUT_KINDS)}")
    scfg = cfg.student
    device = pick_device(device)
    out_dir = Path(out_dir)

    vae = freeze(vae.to(device))  # the teacher LGM and the PGM stay fixed (§3.4)
    n_values = _n_values(vae)

    seed_everything(cfg.seed)
    model = build_student(cfg).to(device)
    model.input_kind = input_kind
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=scfg.lr, weight_decay=scfg.weight_decay)
    use_fp16 = device.type == "cuda" and scfg.mixed_precision == "fp16"
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)

    start_epoch, history = 0, []
    if resume and checkpoint_exists(out_dir):
        ckpt = load_checkpoint(out_dir, device="cpu")
        check_compatible(ckpt.config, cfg.to_dict(), RESUME_KEYS, out_dir)
        _check_extra(ckpt.extra, out_dir, n_values=n_values, input_kind=input_kind)
        model.load_state_dict(ckpt.state_dict)
        if ckpt.optimizer_state is not None:
            optimizer.load_state_dict(ckpt.optimizer_state)
        if ckpt.extra.get("scaler"):
            scaler.load_state_dict(ckpt.extra["scaler"])
        start_epoch = int(ckpt.extra.get("epoch", 0))
        history = list(ckpt.extra.get("history", []))
        log(f"student: resumed from {out_dir} after epoch {start_epoch}")

    loader = _make_loader(train_set, scfg.batch_size, True, cfg.seed)
    dev_loader = (
        _make_loader(dev_set, scfg.batch_size, False, cfg.seed)
        if dev_set is not None and len(dev_set) > 0
        else None
    )

    for epoch in range(start_epoch, scfg.epochs):
        started = time.perf_counter()
        seed_everything(cfg.seed + epoch)
        _set_epoch(loader, epoch)
        model.train()
        sums = {"total": 0.0, "pose": 0.0, "distil": 0.0, "length": 0.0}
        n_items = 0
        bar = quiet_progress(loader, desc=f"student {epoch + 1}/{scfg.epochs}")
        for batch in bar:
            batch = batch.to(device)
            with autocast_context(device, scfg.mixed_precision):
                out = model(_inputs(batch, input_kind), n_frames=batch.lengths)
                losses = student_losses(
                    out,
                    batch,
                    vae,
                    cfg.data.max_frames,
                    scfg.use_kd,
                    scfg.loss_weights,
                )
            if not torch.isfinite(losses.total):
                raise FloatingPointError(
                    f"student loss is {float(losses.total)} at epoch {epoch + 1}; "
                    "lower student.lr or use mixed_precision='no'"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(losses.total).backward()
            if scfg.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, scfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            b = len(batch.lengths)
            for key in sums:
                sums[key] += float(getattr(losses, key).detach()) * b
            n_items += b
        row: dict[str, Any] = {"epoch": epoch + 1}
        for key in sums:
            row[f"train_{key}"] = sums[key] / max(n_items, 1)
        dev = (
            evaluate_student(model, dev_loader, vae, cfg, device, input_kind)
            if dev_loader is not None
            else {k: None for k in ("pose", "distil", "length", "duracc")}
        )
        for key, value in dev.items():
            row[f"dev_{key}"] = value
        row["seconds"] = time.perf_counter() - started
        history.append(row)
        save_checkpoint(
            out_dir,
            model,
            cfg.to_dict(),
            extra={
                "kind": "student",
                "epoch": epoch + 1,
                "history": history,
                "input_kind": input_kind,
                "n_values": n_values,
                "scaler": scaler.state_dict() if use_fp16 else None,
            },
            optimizer_state=optimizer.state_dict(),
        )
        log(_format_row(row, scfg.epochs))
    model.eval()
    return StudentTrainResult(model=model, history=history, directory=out_dir)


def _format_row(row: dict[str, Any], epochs: int) -> str:
    parts = [f"student epoch {row['epoch']}/{epochs}"]
    for key in ("train_total", "train_pose", "train_distil", "train_length"):
        parts.append(f"{key.removeprefix('train_')} {row[key]:.4f}")
    if row.get("dev_pose") is not None:
        parts.append(
            f"| dev pose {row['dev_pose']:.4f} distil {row['dev_distil']:.4f} "
            f"length {row['dev_length']:.4f} DurACC {row['dev_duracc']:.2f}"
        )
    parts.append(f"({row['seconds']:.1f} s)")
    return " ".join(parts)


def _check_extra(
    extra: dict[str, Any],
    where: Path,
    n_values: int | None = None,
    input_kind: str | None = None,
) -> None:
    if extra.get("kind", "student") != "student":
        raise ValueError(
            f"checkpoint {where} holds a {extra.get('kind')!r} model, not a student"
        )
    saved = extra.get("n_values")
    if n_values is not None and saved is not None and int(saved) != n_values:
        raise ValueError(
            f"checkpoint {where} was trained with a VAE of {saved} values per frame "
            f"(joints x coords) but this VAE has {n_values}; use the matching VAE"
        )
    saved_kind = extra.get("input_kind")
    if input_kind is not None and saved_kind is not None and saved_kind != input_kind:
        raise ValueError(
            f"checkpoint {where} was trained with input_kind={saved_kind!r} but "
            f"input_kind={input_kind!r} was asked for"
        )


def load_student(
    directory: str | Path,
    device: str | torch.device = "cpu",
    cfg: Config | None = None,
) -> TextToLatentStudent:
    """Rebuild a trained student from a :func:`train_student` folder (eval mode).

    The architecture comes from the checkpoint's own config; when ``cfg`` is given it
    must agree on the architecture keys (:data:`ARCH_KEYS`), else ``ValueError``.
    ``model.input_kind`` says whether it reads texts or glosses.
    """
    directory = Path(directory)
    ckpt = load_checkpoint(directory, device="cpu", with_optimizer=False)
    _check_extra(ckpt.extra, directory)
    if cfg is not None:
        check_compatible(ckpt.config, cfg.to_dict(), ARCH_KEYS, directory)
    saved_cfg = config_from_dict(ckpt.config)
    model = build_student(saved_cfg)
    missing, unexpected = model.load_state_dict(ckpt.state_dict, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"checkpoint {directory} does not match the student its config describes: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
        )
    model.input_kind = ckpt.extra.get("input_kind", "text")
    return model.to(pick_device(device)).eval()
