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

Checkpoint selection (the epoch kept in ``best/``): the smallest dev L_pose + L_length
weighted as in Eq. 11, the earliest epoch on ties; with ``student.train.patience`` > 0
training stops once that many epochs passed without a better score. The rule, and why
L_distil (Eq. 9) is left out: :mod:`nar_slp.training.student_dev`.

The decoder is given the true lengths during training (teacher-forced lengths); the
dev DurACC uses the regulator's predicted lengths.

This module holds the run; its parts live in :mod:`.student_setup` (argument checks,
parameter groups, ``torch.compile``, resume), :mod:`.student_data` (inputs, loaders,
the encoder and teacher caches), :mod:`.student_epochs` (one epoch's step, dev score
and checkpoints) and :mod:`.student_dev` (dev evaluation and selection).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nar_slp.checkpoints import checkpoint_exists, load_checkpoint
from nar_slp.config import Config
from nar_slp.distributed import barrier, init_world, rank_device, wrap_ddp
from nar_slp.loop import LoopResult, Selection, train_epochs
from nar_slp.models.encoder_sources import SCRATCH
from nar_slp.models.pose_vae import freeze
from nar_slp.models.student import (
    BEST,
    TextToLatentStudent,
    build_student,
    load_student,
)
from nar_slp.recipe import grad_clip
from nar_slp.training.student_data import (
    cache_frozen_features,
    dataset_inputs,
    make_student_loader,
)
from nar_slp.training.student_dev import (
    best_epoch,
    patience_ran_out,
    selection_score,
)
from nar_slp.training.student_epochs import StudentEpochs
from nar_slp.training.student_setup import (
    check_run_arguments,
    compile_decoder,
    load_resume_state,
    param_groups,
)
from nar_slp.utils import EpochLogger, pick_device, seed_everything


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
