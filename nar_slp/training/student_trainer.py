"""Training of the student (the LLM, §3.4, Eq. 8-11) against a frozen pose VAE.

:func:`train_student` trains :class:`~nar_slp.models.student.TextToLatentStudent`
through the package's training loop (:func:`nar_slp.loop.train_epochs`: the step,
clipping, the fp16 scaler, dev selection and patience) with AdamW and (on CUDA)
bf16/fp16 autocast, evaluates on the dev split every epoch and writes a checkpoint
folder ``out_dir`` after each epoch:

    out_dir/model.safetensors      the LAST epoch: every student weight, the text
                                   encoder's included (a frozen pretrained encoder
                                   too: a checkpoint is self-contained)
    out_dir/optimizer.safetensors  AdamW state (tensors; structure in config.json)
    out_dir/config.json            the full Config, epoch, history, input kind,
                                   best_epoch, stopped_early
    out_dir/best/                  the epoch selected on dev (model + config, no
                                   optimizer): what evaluation loads

No pickle anywhere. A run interrupted after any epoch resumes from ``out_dir`` (the
last epoch) and reaches the same weights as an uninterrupted run on CPU: every epoch
re-seeds with ``seed_everything(cfg.seed + epoch)`` and sets the batch sampler's
epoch, and a frozen text encoder's features are cached before the first epoch in an
order that depends only on the data (``PretrainedTextEncoder.precompute``).

Checkpoint selection (the epoch kept in ``best/``): the smallest dev
:func:`selection_score` = w_pose · dev L_pose + w_length · dev L_length (Eq. 8, 10;
the weights of Eq. 11), the earliest epoch on ties. The rule is the same for every
system: L_distil (Eq. 9) is left out because the "w/o KD" student does not train it,
so including it would select KD students on a term their ablation never optimises;
L_pose is what the pose metrics (FGD, back-translation) judge and L_length what
DurACC judges. (L_length is a BCE against soft targets T / T_max, so its floor is
not 0; a constant offset does not move the argmin.) With ``student.patience`` > 0
training stops once that many epochs passed without a better score; the stop is
recorded and a resumed or repeated run stops at the same epoch.

The decoder is given the true lengths during training (teacher-forced lengths); the
dev DurACC uses the regulator's predicted lengths.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nar_slp.bootstrap import bootstrap_se
from nar_slp.checkpoints import (
    check_compatible,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from nar_slp.config import Config
from nar_slp.data.dataset import make_loader
from nar_slp.distributed import (
    World,
    all_sum,
    barrier,
    init_world,
    rank_device,
    share_step,
    wrap_ddp,
)
from nar_slp.evaluation.metrics import duracc_hits
from nar_slp.evaluation.results_table import ResultsTable
from nar_slp.loop import EpochStats, LoopResult, Selection, Step, train_epochs
from nar_slp.models.pose_vae import freeze
from nar_slp.models.student import TextToLatentStudent, build_student, student_losses
from nar_slp.models.text_encoder import PretrainedTextEncoder
from nar_slp.schedules import SCHEDULES, lr_factor
from nar_slp.students import (
    ARCH_BEFORE,
    ARCH_KEYS,
    BEST,
    check_student_extra,
)
from nar_slp.utils import (
    EpochLogger,
    autocast_context,
    pick_device,
    quiet_progress,
    seed_everything,
)

INPUT_KINDS = ("text", "gloss")

# To resume, the architecture (ARCH_KEYS) and the set of trained parameters must
# match.
RESUME_KEYS = [*ARCH_KEYS, "student.finetune_encoder"]


@dataclass
class StudentTrainResult:
    """The trained student (eval mode, the ``best_epoch`` weights), one history row
    per epoch, and the epoch selected on dev (None without a dev set: the last)."""

    model: TextToLatentStudent
    history: list[dict[str, Any]] = field(default_factory=list)
    directory: Path | None = None
    best_epoch: int | None = None
    stopped_early: bool = False

    def summary(self, name: str = "") -> str:
        """One line for a whole training run: epochs trained, the selected epoch and
        its dev losses, and the training time of the epochs in the history."""
        if not self.history:
            return f"{name}: no epochs trained"
        best = self.history[(self.best_epoch or len(self.history)) - 1]
        dev = " ".join(
            f"{t} {best[f'dev_{t}']:.4f}"
            for t in ("pose", "distil", "length")
            if f"dev_{t}" in best
        )
        seconds = sum(h.get("seconds", 0.0) for h in self.history)
        stop = ", stopped early" if self.stopped_early else ""
        return (
            f"{name}: {len(self.history)} epochs{stop}, selected epoch "
            f"{best['epoch']}: dev {dev} ({seconds:.0f} s)"
        )


def selection_score(
    row: dict[str, Any], weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> float | None:
    """The dev checkpoint-selection score of one history row (lower is better):
    w_pose · dev L_pose + w_length · dev L_length (see the module docstring for why
    L_distil is left out); None when the row has no dev metrics."""
    pose, length = row.get("dev_pose"), row.get("dev_length")
    if pose is None or length is None or not (math.isfinite(pose + length)):
        return None
    w_pose, _, w_length = weights
    return w_pose * float(pose) + w_length * float(length)


def best_epoch(
    history: list[dict[str, Any]],
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> int | None:
    """The epoch (1-based, as in ``row["epoch"]``) with the lowest
    :func:`selection_score`, the earliest on ties; None if no row has dev metrics."""
    best, best_score = None, math.inf
    for row in history:
        score = selection_score(row, weights)
        if score is not None and score < best_score:
            best, best_score = int(row["epoch"]), score
    return best


def _patience_ran_out(history: list[dict[str, Any]], cfg: Config) -> bool:
    patience = cfg.student.patience
    if patience <= 0 or not history:
        return False
    best = best_epoch(history, cfg.student.loss_weights)
    return best is not None and int(history[-1]["epoch"]) - best >= patience


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
                out = model(_inputs(batch, input_kind), lengths=batch.lengths)
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
    world: World | None = None,
) -> dict[str, float]:
    """Dev losses (true lengths) and DurACC (predicted lengths) over ``loader``.

    Under ``torchrun`` (``world``) each rank evaluates its shard of the dev batches
    and the sums are reduced over ranks, so every rank returns the whole split's
    figures.

    Returns ``{"pose", "distil", "length", "duracc"}``: frame terms averaged over
    real frames, the length BCE over sequences, DurACC = share of sequences whose
    predicted length is less than ``cfg.eval.duracc_tolerance`` frames from the truth
    (:func:`~nar_slp.evaluation.metrics.duracc_hits`).
    """
    sums = {"pose": 0.0, "distil": 0.0, "length": 0.0}
    n_frames = n_seqs = n_hit = 0
    for row in _dev_batches(model, loader, vae, cfg, device, input_kind):
        sums["pose"] += row["pose"] * row["frames"]
        sums["distil"] += row["distil"] * row["frames"]
        sums["length"] += row["length"] * len(row["true"])
        n_hit += int(
            duracc_hits(row["predicted"], row["true"], cfg.eval.duracc_tolerance).sum()
        )
        n_frames += row["frames"]
        n_seqs += len(row["true"])
    if world is not None and world.distributed:
        totals = all_sum([*sums.values(), n_frames, n_seqs, n_hit], world)
        sums = dict(zip(sums, totals[:3], strict=True))
        n_frames, n_seqs, n_hit = (int(v) for v in totals[3:])
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
    hit = duracc_hits(predicted, true, cfg.eval.duracc_tolerance)

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


COMPILE_OFF = "no"


def compile_decoder(model: Any, backend: str) -> None:
    """``torch.compile`` the student's NAR decoder in place with ``backend``
    (``StudentConfig.compile``; ``"no"`` leaves it eager). ``dynamic=False``: with
    ``pad_to_multiple > 1`` the decoder sees a bounded set of shapes, one graph each.
    In place (``nn.Module.compile``), so the state dict keeps its names and
    checkpoints load with or without it."""
    check_compile_backend(backend)
    if backend != COMPILE_OFF:
        model.decoder.compile(backend=backend, dynamic=False)


def check_compile_backend(backend: str) -> None:
    """Refuse a ``student.compile`` value that is neither "no" nor a backend."""
    if backend == COMPILE_OFF:
        return
    if not isinstance(backend, str) or backend not in torch._dynamo.list_backends(
        exclude_tags=()
    ):
        raise ValueError(
            f"student.compile={backend!r} is not a torch.compile backend; use 'no', "
            "'inductor' or another name of torch._dynamo.list_backends()"
        )


def _make_loader(
    dataset: Any,
    batch_size: int,
    shuffle: bool,
    seed: int,
    world: World | None = None,
    pad_to_multiple: int = 1,
) -> Any:
    return make_loader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        world=world,
        placeholder=shuffle,  # training steps are collective, evaluation is not
        pad_to_multiple=pad_to_multiple,
    )


def train_student(
    cfg: Config,
    train_set: Any,
    dev_set: Any | None,
    vae: nn.Module,
    out_dir: str | Path,
    device: str | torch.device = "auto",
    resume: bool = True,
    log: Callable[[str], Any] | None = print,
    log_every: int | None = None,
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
        log: called with the progress lines (None: silent); which epochs get a line
            is :class:`nar_slp.utils.EpochLogger`'s policy.
        log_every: print every k-th epoch (None: at most a few lines per run).
        input_kind: ``"text"`` (T2P, the paper) or ``"gloss"`` (G2P: the same model
            reads the gloss string); default ``cfg.data.input_kind``.

    Returns:
        :class:`StudentTrainResult` with the model in eval mode holding the weights
        of the dev-selected epoch (``best_epoch``; the last epoch without a dev
        set), per-epoch rows ``{epoch, train_total, train_pose, train_distil,
        train_length, dev_pose, dev_distil, dev_length, dev_duracc, seconds}``, and
        whether ``student.patience`` stopped training early.

    Under ``torchrun --nproc_per_node N`` the same call trains with
    DistributedDataParallel (:mod:`nar_slp.distributed`): ``student.batch_size`` is
    the global batch, each rank takes its share of every batch, only rank 0 logs
    and writes checkpoints, dev metrics are reduced over ranks, and the result
    matches one process's up to summation order; a run may resume with another
    number of processes.

    Raises:
        ValueError: the checkpoint in ``out_dir`` was trained with another
            architecture, VAE or input kind.
    """
    log = log or (lambda _line: None)
    input_kind = input_kind or cfg.data.input_kind
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind={input_kind!r}; valid: {', '.join(INPUT_KINDS)}")
    scfg = cfg.student
    check_compile_backend(scfg.compile)
    if scfg.pad_to_multiple < 1:
        raise ValueError(f"student.pad_to_multiple={scfg.pad_to_multiple} must be >= 1")
    if scfg.schedule not in SCHEDULES:
        raise ValueError(
            f"student.schedule={scfg.schedule!r}; valid: {', '.join(SCHEDULES)}"
        )
    device = pick_device(device)
    world = init_world(device)
    device = rank_device(device, world)
    if not world.main:
        log = lambda _line: None  # noqa: E731 (rank 0 alone reports)
    out_dir = Path(out_dir)

    vae = freeze(vae.to(device))  # the teacher LGM and the PGM stay fixed (§3.4)
    n_values = _n_values(vae)

    seed_everything(cfg.seed)
    model = build_student(cfg).to(device)
    model.input_kind = input_kind
    optimizer = torch.optim.AdamW(
        _param_groups(model, scfg.lr, scfg.encoder_lr),
        lr=scfg.lr,
        weight_decay=scfg.weight_decay,
    )
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    use_fp16 = device.type == "cuda" and scfg.mixed_precision == "fp16"
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)

    start_epoch, history = 0, []
    if resume and checkpoint_exists(out_dir):
        ckpt = load_checkpoint(out_dir, device="cpu")
        check_compatible(ckpt.config, cfg.to_dict(), RESUME_KEYS, out_dir, ARCH_BEFORE)
        check_student_extra(
            ckpt.extra, out_dir, n_values=n_values, input_kind=input_kind
        )
        model.load_state_dict(ckpt.state_dict)
        if ckpt.optimizer_state is not None:
            optimizer.load_state_dict(ckpt.optimizer_state)
        if ckpt.extra.get("scaler"):
            scaler.load_state_dict(ckpt.extra["scaler"])
        start_epoch = int(ckpt.extra.get("epoch", 0))
        history = list(ckpt.extra.get("history", []))
        log(f"student: resumed from {out_dir} after epoch {start_epoch}")
    elif not resume and world.main:
        shutil.rmtree(out_dir / BEST, ignore_errors=True)  # a fresh run's best only
    barrier(world)  # nobody writes before every rank has read the checkpoint

    pad = scfg.pad_to_multiple
    loader = _make_loader(train_set, scfg.batch_size, True, cfg.seed, world, pad)
    dev_loader = (
        _make_loader(dev_set, scfg.batch_size, False, cfg.seed, world, pad)
        if dev_set is not None and len(dev_set) > 0
        else None
    )
    compile_decoder(model, scfg.compile)
    trained = wrap_ddp(model, device, world)  # the forward of the training steps

    weights = scfg.loss_weights
    stopped_early = _patience_ran_out(history, cfg)
    encoder = model.encoder
    to_train = start_epoch < scfg.epochs and not stopped_early
    if (
        to_train
        and isinstance(encoder, PretrainedTextEncoder)
        and not encoder.trainable
    ):
        # Cache the frozen encoder's features once, in a data-determined order (exact
        # resume; see nar_slp.models.text_encoder).
        texts = _dataset_inputs(train_set, input_kind)
        if dev_loader is not None:
            texts += _dataset_inputs(dev_set, input_kind)
        if texts:
            encoder.precompute(texts)

    teacher = (
        teacher_latents(vae, train_set, device)
        if to_train and scfg.cache_teacher
        else None
    )
    epoch_log = EpochLogger(log, scfg.epochs, log_every)
    total_steps = scfg.epochs * len(loader)
    keys = ("total", "pose", "distil", "length")
    ep: dict[str, Any] = {}  # this epoch's global batch sizes, loss sums, items

    def batches(epoch: int) -> Any:  # epoch: 1-based
        seed_everything(cfg.seed + epoch - 1)
        if world.rank > 0:  # own dropout masks per rank; rank 0 keeps one process's
            torch.manual_seed((cfg.seed + epoch - 1) * 7919 + world.rank)
        _set_epoch(loader, epoch - 1)
        ep["sizes"] = (
            loader.batch_sampler.global_sizes(epoch - 1) if world.distributed else []
        )
        ep["sums"], ep["items"], ep["epoch"] = dict.fromkeys(keys, 0.0), 0, epoch
        bar = quiet_progress(loader, desc=f"student {epoch}/{scfg.epochs}")
        return enumerate(bar)

    def step(item: tuple[int, Any]) -> Step:
        i, batch = item
        global_sizes = ep["sizes"]
        # The rate is a function of the global step alone, so resume is exact.
        factor = lr_factor(
            scfg.schedule, (ep["epoch"] - 1) * len(loader) + i, total_steps, scfg.warmup
        )
        for group, base_lr in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base_lr * factor
        batch = batch.to(device)
        with autocast_context(device, scfg.mixed_precision):
            out = trained(_inputs(batch, input_kind), lengths=batch.lengths)
            losses = student_losses(
                out,
                batch,
                vae,
                cfg.data.max_frames,
                scfg.use_kd,
                scfg.loss_weights,
                z_pose=None if teacher is None else teacher.batch(batch),
            )
        b = len(batch.lengths)
        objective = losses.total
        real = not world.distributed or world.rank < global_sizes[i]
        share = share_step(
            int((batch.mask.bool() & out.frame_mask).sum()) if real else 0,
            b if real else 0,
            bool(torch.isfinite(losses.total)),
            world,
        )
        if world.distributed:
            objective = _share_objective(losses, share, scfg.use_kd, weights)
        if not share.finite:  # every rank stops, before any backward
            raise FloatingPointError(
                f"student loss is {float(losses.total)} at epoch {ep['epoch']}; "
                "lower student.lr or use mixed_precision='no'"
            )
        # a placeholder share has weight 0 in share and adds nothing
        n_global = global_sizes[i] if world.distributed else b
        _accumulate(ep["sums"], losses, share, world, n_global, scfg.use_kd, weights)
        ep["items"] += b if real else 0
        return Step(objective)

    def dev_score(epoch: int) -> float | None:
        ep["dev"] = (
            evaluate_student(model, dev_loader, vae, cfg, device, input_kind, world)
            if dev_loader is not None
            else dict.fromkeys(("pose", "distil", "length", "duracc"))
        )
        return selection_score({f"dev_{k}": v for k, v in ep["dev"].items()}, weights)

    def end_epoch(stats: EpochStats) -> None:
        sums, n_items = ep["sums"], ep["items"]
        if world.distributed:
            *totals, n_items = all_sum([*sums.values(), n_items], world)
            sums = dict(zip(sums, totals, strict=True))
        row: dict[str, Any] = {"epoch": stats.epoch}
        for key in sums:
            row[f"train_{key}"] = sums[key] / max(n_items, 1)
        for key, value in ep["dev"].items():
            row[f"dev_{key}"] = value
        row["seconds"] = stats.seconds
        history.append(row)
        best = best_epoch(history, weights)
        extra = {
            "kind": "student",
            "epoch": stats.epoch,
            "history": history,
            "input_kind": input_kind,
            "n_values": n_values,
            "best_epoch": best,
            "selection": "dev L_pose + L_length (weighted as in Eq. 11)",
            "stopped_early": _patience_ran_out(history, cfg),
        }
        if world.main:
            if best == stats.epoch:
                # Written before the last-epoch checkpoint: if a crash falls between
                # the two, the resumed run retrains this epoch and rewrites the same
                # weights.
                save_checkpoint(out_dir / BEST, model, cfg.to_dict(), extra=extra)
            save_checkpoint(
                out_dir,
                model,
                cfg.to_dict(),
                extra={**extra, "scaler": scaler.state_dict() if use_fp16 else None},
                optimizer_state=optimizer.state_dict(),
            )
        barrier(world)  # every rank may read what rank 0 wrote
        epoch_log.epoch(stats.epoch, _format_row(row, scfg.epochs, best))

    if not stopped_early:
        # the selection continues over the resumed history (best/ is on disk)
        best = best_epoch(history, weights)
        resumed = LoopResult([], stale=start_epoch - best if best else 0)
        if best is not None:
            resumed.best_epoch = best
            resumed.best_score = selection_score(history[best - 1], weights)
        loop = train_epochs(
            model,
            optimizer,
            range(start_epoch + 1, scfg.epochs + 1),
            batches,
            step,
            clip=scfg.grad_clip if scfg.grad_clip > 0 else None,
            scaler=scaler,
            dev_score=dev_score,
            selection=Selection(
                patience=scfg.patience if scfg.patience > 0 else None,
                keep_state=False,
            ),
            end_epoch=end_epoch,
            previous=resumed,
            name="student",
            hint="lower student.lr",
        )
        stopped_early = loop.stopped_early
    epoch_log.finish(best_epoch(history, weights))
    if stopped_early and history:
        log(
            f"student: stopped after epoch {history[-1]['epoch']}, "
            f"{scfg.patience} epoch(s) without a better dev score"
        )
    best = best_epoch(history, weights)
    model.trained_epoch = len(history) or None
    if best is not None and checkpoint_exists(out_dir / BEST):
        state = load_checkpoint(out_dir / BEST, device="cpu", with_optimizer=False)
        model.load_state_dict(state.state_dict)
        model.trained_epoch = int(state.extra.get("epoch", best))
    model.eval()
    return StudentTrainResult(
        model=model,
        history=history,
        directory=out_dir,
        best_epoch=best,
        stopped_early=stopped_early,
    )


def _accumulate(
    sums: dict[str, float],
    losses: Any,
    share: Any,
    world: World,
    weight: int,
    use_kd: bool,
    weights: tuple[float, float, float],
) -> None:
    """Add the step's losses, times ``weight`` sequences, to the epoch's ``sums``.

    One process: the batch means. Under torchrun each rank adds its part of the
    global batch's means (its means times its share weight / world size), so the
    sums reduced over ranks equal one process's."""
    if not world.distributed:
        for key in sums:
            sums[key] += float(getattr(losses, key).detach()) * weight
        return
    part = {
        "pose": share.frame_weight * float(losses.pose.detach()),
        "distil": share.frame_weight * float(losses.distil.detach()),
        "length": share.item_weight * float(losses.length.detach()),
    }
    w_pose, w_distil, w_length = weights
    part["total"] = w_pose * part["pose"] + w_length * part["length"]
    if use_kd:
        part["total"] += w_distil * part["distil"]
    for key in sums:
        sums[key] += part[key] / world.size * weight


def _share_objective(
    losses: Any, share: Any, use_kd: bool, weights: tuple[float, float, float]
) -> torch.Tensor:
    """Eq. 11 of this rank's share, each mean weighted by the rank's part of the
    global batch (:func:`nar_slp.distributed.share_step`)."""
    w_pose, w_distil, w_length = weights
    frame_terms = w_pose * losses.pose
    if use_kd:
        frame_terms = frame_terms + w_distil * losses.distil
    return (
        share.frame_weight * frame_terms + share.item_weight * w_length * losses.length
    )


class TeacherCache:
    """The frozen teacher's latents LGM(y) of every sequence of a dataset, by name;
    :meth:`batch` pads them like :func:`~nar_slp.data.dataset.collate` pads poses."""

    def __init__(self, latents: dict[str, torch.Tensor]) -> None:
        self.latents = latents

    def batch(self, batch: Any) -> torch.Tensor:
        """(B, T, Z) for ``batch`` (zeros after each length)."""
        rows = [self.latents[name] for name in batch.names]
        t = int(batch.mask.shape[1])
        out = rows[0].new_zeros(len(rows), t, rows[0].shape[-1])  # (B, T, Z)
        for b, z in enumerate(rows):
            out[b, : z.shape[0]] = z
        return out


@torch.no_grad()
def teacher_latents(
    vae: nn.Module, dataset: Any, device: torch.device, batch_size: int = 64
) -> TeacherCache:
    """LGM(y) of every sequence of ``dataset`` (the frozen VAE in eval mode)."""
    latents: dict[str, torch.Tensor] = {}
    loader = _make_loader(dataset, batch_size, shuffle=False, seed=0)
    for batch in loader:
        batch = batch.to(device)
        b, t = batch.mask.shape
        z = vae.lgm(batch.poses.reshape(b, t, -1))  # (B, T, Z)
        for i, name in enumerate(batch.names):
            latents[name] = z[i, : int(batch.lengths[i])].clone()
    if len(latents) != len(dataset):
        raise ValueError(
            "teacher_latents: sequence names are not unique; the teacher cache "
            "needs one name per sequence (student.cache_teacher=False avoids it)"
        )
    return TeacherCache(latents)


def _param_groups(
    model: TextToLatentStudent, lr: float, encoder_lr: float
) -> list[dict[str, Any]]:
    """AdamW parameter groups: a trained text encoder (scratch or fine-tuned) at
    ``encoder_lr`` (0 = ``lr``), everything else at ``lr``. One group when the encoder
    is frozen or shares the rate, so such runs' optimizer state keeps its layout."""
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    if not encoder or encoder_lr <= 0 or encoder_lr == lr:
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]
    ids = {id(p) for p in encoder}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    return [{"params": rest}, {"params": encoder, "lr": encoder_lr}]


def _dataset_inputs(dataset: Any, input_kind: str) -> list[str]:
    """All non-empty strings the student reads from ``dataset`` (texts or glosses;
    empty ones are reported by the training loop, naming the sample)."""
    strings = dataset.glosses if input_kind == "gloss" else dataset.texts
    return [s for s in strings if s.strip()]


def _format_row(row: dict[str, Any], epochs: int, best: int | None = None) -> str:
    parts = [f"student epoch {row['epoch']}/{epochs}"]
    for key in ("train_total", "train_pose", "train_distil", "train_length"):
        parts.append(f"{key.removeprefix('train_')} {row[key]:.4f}")
    if row.get("dev_pose") is not None:
        parts.append(
            f"| dev pose {row['dev_pose']:.4f} distil {row['dev_distil']:.4f} "
            f"length {row['dev_length']:.4f} DurACC {row['dev_duracc']:.2f}"
        )
    if best == row["epoch"]:
        parts.append("*best*")
    parts.append(f"({row['seconds']:.1f} s)")
    return " ".join(parts)


def dev_report_tables(
    reports: Mapping[str, Sequence[Mapping[str, tuple[float, float]]]],
) -> tuple[ResultsTable, ResultsTable, ResultsTable]:
    """Chapter 03's ``training`` tables from :func:`student_dev_report` results.

    Args:
        reports: system key -> one report per training seed.

    Returns:
        (mean over seeds, standard deviation over seeds (ddof=1; NaN with one seed),
        mean of the seeds' bootstrap standard errors), one row per system, columns
        :data:`DEV_REPORT_COLUMNS`; written as ``training.csv``, ``training_sd.csv``
        and ``training_se.csv`` and compared by the results check.
    """
    n = max((len(r) for r in reports.values()), default=0)

    def table(title: str) -> ResultsTable:
        return ResultsTable(list(DEV_REPORT_COLUMNS), title=title, fmt="{:.4f}")

    mean = table(
        f"Students on dev, mean over {n} seed(s) (true lengths for the losses)"
    )
    sd = table("Standard deviation over seeds")
    se = table("Bootstrap standard errors (mean over seeds)")
    for key, per_seed in reports.items():
        values = {c: np.array([r[c][0] for r in per_seed]) for c in DEV_REPORT_COLUMNS}
        errors = {c: np.array([r[c][1] for r in per_seed]) for c in DEV_REPORT_COLUMNS}
        mean.add_row(key, "students", {c: float(v.mean()) for c, v in values.items()})
        sd.add_row(
            key,
            "students",
            {
                c: float(v.std(ddof=1)) if len(v) > 1 else float("nan")
                for c, v in values.items()
            },
        )
        se.add_row(key, "students", {c: float(v.mean()) for c, v in errors.items()})
    return mean, sd, se
