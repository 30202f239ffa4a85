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
not 0; a constant offset does not move the argmin.) With ``student.train.patience`` > 0
training stops once that many epochs passed without a better score
(:func:`patience_ran_out`); the stop is recorded and a resumed or repeated run stops
at the same epoch.

The decoder is given the true lengths during training (teacher-forced lengths); the
dev DurACC uses the regulator's predicted lengths.

One file, in the order a run uses it: what the student reads and the loaders
(inputs, the frozen encoder's feature cache), the run's set-up (argument checks,
parameter groups, ``torch.compile``, resume), dev evaluation and selection, one
epoch's callbacks for the loop (:class:`StudentEpochs`), and the run itself
(:func:`train_student`, :func:`trained_student`).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

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
from nar_slp.duracc import duracc_hits
from nar_slp.loop import EpochStats, LoopResult, Selection, Step, train_epochs
from nar_slp.models.pose_vae import freeze
from nar_slp.models.student import (
    ARCH_KEYS,
    BEST,
    TextToLatentStudent,
    build_student,
    check_student_extra,
    load_student,
    student_losses,
)
from nar_slp.models.text_encoder import SCRATCH, PretrainedTextEncoder
from nar_slp.recipe import SCHEDULES, grad_clip, lr_factor
from nar_slp.utils import (
    EpochLogger,
    autocast_context,
    pick_device,
    quiet_progress,
    seed_everything,
)

# -------------------------------------------- what the student reads, and its loaders


def student_inputs(batch: Any, input_kind: str) -> list[str]:
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


def dataset_inputs(dataset: Any, input_kind: str) -> list[str]:
    """All non-empty strings the student reads from ``dataset`` (texts or glosses;
    empty ones are reported by the training loop, naming the sample)."""
    strings = dataset.glosses if input_kind == "gloss" else dataset.texts
    return [s for s in strings if s.strip()]


def make_student_loader(
    dataset: Any,
    batch_size: int,
    shuffle: bool,
    seed: int,
    world: World | None = None,
    pad_to_multiple: int = 1,
) -> Any:
    """A loader of ``dataset`` for training (``shuffle``) or evaluation."""
    return make_loader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        world=world,
        placeholder=shuffle,  # training steps are collective, evaluation is not
        pad_to_multiple=pad_to_multiple,
    )


def set_loader_epoch(loader: Any, epoch: int) -> None:
    """Set the epoch of the loader's (batch) sampler, which seeds its order."""
    for sampler in (
        getattr(loader, "batch_sampler", None),
        getattr(loader, "sampler", None),
    ):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            return


def cache_frozen_features(
    encoder: nn.Module, train_set: Any, dev_set: Any | None, input_kind: str
) -> None:
    """Cache a frozen pretrained ``encoder``'s features of every string of
    ``train_set`` and ``dev_set`` (None: none) once, in a data-determined order
    (exact resume; see :mod:`nar_slp.models.text_encoder`). A trained encoder (or
    one trained from scratch) is left alone."""
    if not isinstance(encoder, PretrainedTextEncoder) or encoder.trainable:
        return
    texts = dataset_inputs(train_set, input_kind)
    if dev_set is not None:
        texts += dataset_inputs(dev_set, input_kind)
    if texts:
        encoder.precompute(texts)


# ------------------------------------------------------------------- setting up a run


INPUT_KINDS = ("text", "gloss")

# To resume, the architecture (ARCH_KEYS) and the set of trained parameters must
# match.
RESUME_KEYS = [*ARCH_KEYS, "student.finetune_encoder"]

COMPILE_OFF = "no"


def check_run_arguments(cfg: Config, input_kind: str) -> None:
    """Refuse an unknown ``input_kind``, ``student.compile`` backend or
    ``student.train.schedule``, and ``student.pad_to_multiple`` < 1."""
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind={input_kind!r}; valid: {', '.join(INPUT_KINDS)}")
    scfg = cfg.student
    check_compile_backend(scfg.compile)
    if scfg.pad_to_multiple < 1:
        raise ValueError(f"student.pad_to_multiple={scfg.pad_to_multiple} must be >= 1")
    if scfg.train.schedule not in SCHEDULES:
        raise ValueError(
            f"student.train.schedule={scfg.train.schedule!r}; "
            f"valid: {', '.join(SCHEDULES)}"
        )


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


def param_groups(
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


def load_resume_state(
    out_dir: Path,
    cfg: Config,
    model: TextToLatentStudent,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    n_values: int | None,
    input_kind: str,
) -> tuple[int, list[dict[str, Any]]]:
    """Load the last-epoch checkpoint in ``out_dir`` into ``model``, ``optimizer``
    and ``scaler``; returns the epochs it trained and its history.

    Raises:
        ValueError: it was trained with another architecture (:data:`RESUME_KEYS`),
            VAE (``n_values``) or input kind.
    """
    ckpt = load_checkpoint(out_dir, device="cpu")
    if "installed_from" in ckpt.extra:
        raise ValueError(
            f"{out_dir} holds shipped weights (nar_slp.weights), not a training run to "
            "resume: train with resume=False, or in another run folder"
        )
    check_compatible(ckpt.config, cfg.to_dict(), RESUME_KEYS, out_dir)
    check_student_extra(ckpt.extra, out_dir, n_values=n_values, input_kind=input_kind)
    model.load_state_dict(ckpt.state_dict)
    if ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    if ckpt.extra.get("scaler"):
        scaler.load_state_dict(ckpt.extra["scaler"])
    return int(ckpt.extra.get("epoch", 0)), list(ckpt.extra.get("history", []))


# ------------------------------------------------------- dev evaluation and selection


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


def patience_ran_out(history: list[dict[str, Any]], cfg: Config) -> bool:
    """Whether ``student.train.patience`` epochs passed after the best one of
    ``history``."""
    patience = cfg.student.train.patience
    if patience <= 0 or not history:
        return False
    best = best_epoch(history, cfg.student.loss_weights)
    return best is not None and int(history[-1]["epoch"]) - best >= patience


@torch.no_grad()
def dev_batches(
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
                out = model(student_inputs(batch, input_kind), lengths=batch.lengths)
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
    for row in dev_batches(model, loader, vae, cfg, device, input_kind):
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


# ------------------------------------------------ one epoch, as callbacks of the loop


LOSS_KEYS = ("total", "pose", "distil", "length")


@dataclass
class StudentEpochs:
    """The loop callbacks of one student run (see the module docstring).

    ``trained`` is the module the steps call (``model`` itself, or its
    DistributedDataParallel wrapper); ``base_lrs`` the parameter groups' rates
    before the schedule; ``history`` the run's rows, extended in place.
    """

    cfg: Config
    model: TextToLatentStudent
    trained: nn.Module
    optimizer: torch.optim.Optimizer
    base_lrs: list[float]
    scaler: torch.amp.GradScaler
    use_fp16: bool
    loader: Any
    dev_loader: Any | None
    vae: nn.Module
    world: World
    device: torch.device
    input_kind: str
    n_values: int | None
    out_dir: Path
    history: list[dict[str, Any]]
    epoch_log: EpochLogger
    # this epoch's global batch sizes, loss sums, items, number and dev metrics
    ep: dict[str, Any] = field(default_factory=dict)
    total_steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.total_steps = self.cfg.student.train.epochs * len(self.loader)

    def batches(self, epoch: int) -> Any:  # epoch: 1-based
        cfg, world, loader = self.cfg, self.world, self.loader
        seed_everything(cfg.seed + epoch - 1)
        if world.rank > 0:  # own dropout masks per rank; rank 0 keeps one process's
            torch.manual_seed((cfg.seed + epoch - 1) * 7919 + world.rank)
        set_loader_epoch(loader, epoch - 1)
        self.ep["sizes"] = (
            loader.batch_sampler.global_sizes(epoch - 1) if world.distributed else []
        )
        self.ep["sums"] = dict.fromkeys(LOSS_KEYS, 0.0)
        self.ep["items"], self.ep["epoch"] = 0, epoch
        bar = quiet_progress(loader, desc=f"student {epoch}/{cfg.student.train.epochs}")
        return enumerate(bar)

    def step(self, item: tuple[int, Any]) -> Step:
        i, batch = item
        cfg, scfg, world, ep = self.cfg, self.cfg.student, self.world, self.ep
        global_sizes = ep["sizes"]
        # The rate is a function of the global step alone, so resume is exact.
        factor = lr_factor(
            scfg.train.schedule,
            (ep["epoch"] - 1) * len(self.loader) + i,
            self.total_steps,
            scfg.train.warmup,
        )
        for group, base_lr in zip(
            self.optimizer.param_groups, self.base_lrs, strict=True
        ):
            group["lr"] = base_lr * factor
        batch = batch.to(self.device)
        with autocast_context(self.device, scfg.mixed_precision):
            out = self.trained(
                student_inputs(batch, self.input_kind), lengths=batch.lengths
            )
            losses = student_losses(
                out,
                batch,
                self.vae,
                cfg.data.max_frames,
                scfg.use_kd,
                scfg.loss_weights,
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
            objective = _share_objective(losses, share, scfg.use_kd, scfg.loss_weights)
        if not share.finite:  # every rank stops, before any backward
            raise FloatingPointError(
                f"student loss is {float(losses.total)} at epoch {ep['epoch']}; "
                "lower student.train.lr or use mixed_precision='no'"
            )
        # a placeholder share has weight 0 in share and adds nothing
        n_global = global_sizes[i] if world.distributed else b
        _accumulate(
            ep["sums"], losses, share, world, n_global, scfg.use_kd, scfg.loss_weights
        )
        ep["items"] += b if real else 0
        return Step(objective)

    def dev_score(self, epoch: int) -> float | None:
        self.ep["dev"] = (
            evaluate_student(
                self.model,
                self.dev_loader,
                self.vae,
                self.cfg,
                self.device,
                self.input_kind,
                self.world,
            )
            if self.dev_loader is not None
            else dict.fromkeys(("pose", "distil", "length", "duracc"))
        )
        return selection_score(
            {f"dev_{k}": v for k, v in self.ep["dev"].items()},
            self.cfg.student.loss_weights,
        )

    def end_epoch(self, stats: EpochStats) -> None:
        cfg, world, model, history = self.cfg, self.world, self.model, self.history
        sums, n_items = self.ep["sums"], self.ep["items"]
        if world.distributed:
            *totals, n_items = all_sum([*sums.values(), n_items], world)
            sums = dict(zip(sums, totals, strict=True))
        row: dict[str, Any] = {"epoch": stats.epoch}
        for key in sums:
            row[f"train_{key}"] = sums[key] / max(n_items, 1)
        for key, value in self.ep["dev"].items():
            row[f"dev_{key}"] = value
        row["seconds"] = stats.seconds
        history.append(row)
        best = best_epoch(history, cfg.student.loss_weights)
        extra = {
            "kind": "student",
            "epoch": stats.epoch,
            "history": history,
            "input_kind": self.input_kind,
            "n_values": self.n_values,
            "best_epoch": best,
            "selection": "dev L_pose + L_length (weighted as in Eq. 11)",
            "stopped_early": patience_ran_out(history, cfg),
        }
        if world.main:
            if best == stats.epoch:
                # Written before the last-epoch checkpoint: if a crash falls between
                # the two, the resumed run retrains this epoch and rewrites the same
                # weights.
                save_checkpoint(self.out_dir / BEST, model, cfg.to_dict(), extra=extra)
            scaler_state = self.scaler.state_dict() if self.use_fp16 else None
            save_checkpoint(
                self.out_dir,
                model,
                cfg.to_dict(),
                extra={**extra, "scaler": scaler_state},
                optimizer_state=self.optimizer.state_dict(),
            )
        barrier(world)  # every rank may read what rank 0 wrote
        self.epoch_log.epoch(
            stats.epoch, _format_row(row, cfg.student.train.epochs, best)
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


# ---------------------------------------------------------------------------- the run


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


def trained_student(
    directory: str | Path, device: str | torch.device = "cpu"
) -> StudentTrainResult:
    """A finished :func:`train_student` run read back from its folder (trained in
    the run folder, or shipped weights installed there by
    :func:`nar_slp.weights.install_weights`): the dev-selected weights and the
    stored history, selected epoch and early stop."""
    directory = Path(directory)
    extra = load_checkpoint(directory, with_optimizer=False).extra
    return StudentTrainResult(
        model=load_student(directory, device),
        history=list(extra.get("history", [])),
        directory=directory,
        best_epoch=extra.get("best_epoch"),
        stopped_early=bool(extra.get("stopped_early", False)),
    )


def _n_values(vae: nn.Module) -> int | None:
    n = getattr(vae, "n_values", None)
    return int(n) if n is not None else None


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
        whether ``student.train.patience`` stopped training early.

    Under ``torchrun --nproc_per_node N`` the same call trains with
    DistributedDataParallel (:mod:`nar_slp.distributed`):
    ``student.train.batch_size`` is the global batch, each rank takes its share of
    every batch, only rank 0 logs and writes checkpoints, dev metrics are reduced
    over ranks, and the result matches one process's up to summation order; a run
    may resume with another number of processes.

    Raises:
        ValueError: the checkpoint in ``out_dir`` was trained with another
            architecture, VAE or input kind.
    """
    log = log or (lambda _line: None)
    input_kind = input_kind or cfg.data.input_kind
    check_run_arguments(cfg, input_kind)
    scfg = cfg.student
    device = pick_device(device)
    world = init_world(device)
    device = rank_device(device, world)
    if not world.main:
        log = lambda _line: None  # noqa: E731 (rank 0 alone reports)
    out_dir = Path(out_dir)

    vae = freeze(vae.to(device))  # the teacher LGM and the PGM stay fixed (§3.4)
    n_values = _n_values(vae)

    seed_everything(cfg.seed)
    model = build_student(cfg)
    if scfg.text_encoder == SCRATCH and scfg.scratch_vocab == "corpus":
        model.encoder.keep_vocabulary(dataset_inputs(train_set, input_kind))
    elif scfg.scratch_vocab not in ("corpus", "full"):
        raise ValueError(
            f"student.scratch_vocab={scfg.scratch_vocab!r}: valid 'corpus', 'full'"
        )
    model = model.to(device)
    model.input_kind = input_kind
    optimizer = torch.optim.AdamW(
        param_groups(model, scfg.train.lr, scfg.encoder_lr),
        lr=scfg.train.lr,
        weight_decay=scfg.train.weight_decay,
    )
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    use_fp16 = device.type == "cuda" and scfg.mixed_precision == "fp16"
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)

    start_epoch, history = 0, []
    if resume and checkpoint_exists(out_dir):
        start_epoch, history = load_resume_state(
            out_dir, cfg, model, optimizer, scaler, n_values, input_kind
        )
        log(f"student: resumed from {out_dir} after epoch {start_epoch}")
    elif not resume and world.main:
        shutil.rmtree(out_dir / BEST, ignore_errors=True)  # a fresh run's best only
    barrier(world)  # nobody writes before every rank has read the checkpoint

    pad = scfg.pad_to_multiple
    loader = make_student_loader(
        train_set, scfg.train.batch_size, True, cfg.seed, world, pad
    )
    dev_loader = (
        make_student_loader(dev_set, scfg.train.batch_size, False, cfg.seed, world, pad)
        if dev_set is not None and len(dev_set) > 0
        else None
    )
    compile_decoder(model, scfg.compile)
    trained = wrap_ddp(model, device, world)  # the forward of the training steps

    weights = scfg.loss_weights
    stopped_early = patience_ran_out(history, cfg)
    to_train = start_epoch < scfg.train.epochs and not stopped_early
    if to_train:
        dev_inputs = dev_set if dev_loader is not None else None
        cache_frozen_features(model.encoder, train_set, dev_inputs, input_kind)
    epoch_log = EpochLogger(log, scfg.train.epochs, log_every)
    epochs = StudentEpochs(
        cfg=cfg,
        model=model,
        trained=trained,
        optimizer=optimizer,
        base_lrs=base_lrs,
        scaler=scaler,
        use_fp16=use_fp16,
        loader=loader,
        dev_loader=dev_loader,
        vae=vae,
        world=world,
        device=device,
        input_kind=input_kind,
        n_values=n_values,
        out_dir=out_dir,
        history=history,
        epoch_log=epoch_log,
    )

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
            range(start_epoch + 1, scfg.train.epochs + 1),
            epochs.batches,
            epochs.step,
            clip=grad_clip(scfg.train),
            scaler=scaler,
            dev_score=epochs.dev_score,
            selection=Selection(
                patience=scfg.train.patience if scfg.train.patience > 0 else None,
                keep_state=False,
            ),
            end_epoch=epochs.end_epoch,
            previous=resumed,
            name="student",
            hint="lower student.train.lr",
        )
        stopped_early = loop.stopped_early
    epoch_log.finish(best_epoch(history, weights))
    if stopped_early and history:
        log(
            f"student: stopped after epoch {history[-1]['epoch']}, "
            f"{scfg.train.patience} epoch(s) without a better dev score"
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
