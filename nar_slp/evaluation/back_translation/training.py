"""Training of the back-translation model (§5.1) on ground-truth poses only.

:func:`train_slt` takes the corpus's own training sequences and there is no entry
point that trains on the output of a production model; generated poses only ever go
through :func:`~nar_slp.evaluation.back_translation.decoding.translate`.

Objective: label-smoothed cross-entropy of the next word + ``cfg.slt.gloss_weight``
× CTC of the gloss sequence over the encoder states (joint recognition and translation,
Camgoz et al. 2020); the CTC term is used when every training sequence has glosses.
AdamW with the schedule of ``cfg.slt.train`` (by default linear warm-up and cosine
decay). Every ``cfg.slt.eval_every`` epochs (and after the last) the dev split is
translated greedily and the state with the best dev BLEU-4 is kept: the checkpoint
records that epoch and the whole history. ``cfg.slt.train.patience`` > 0 dev checks
without a better BLEU-4 stop training early (0, the default: never).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_slp.checkpoints import save_checkpoint
from nar_slp.config import Config
from nar_slp.evaluation.back_translation.data import (
    Example,
    Vocabulary,
    as_examples,
    length_batches,
    pad_ids,
    pad_poses,
)
from nar_slp.evaluation.back_translation.decoding import translate_ids
from nar_slp.evaluation.back_translation.model import SLTModel, build_slt
from nar_slp.evaluation.tae import (
    evaluator_hparams,
    load_evaluator_checkpoint,
    normalise_flat,
)
from nar_slp.evaluation.text_metrics import bleu_scores
from nar_slp.loop import EpochStats, Selection, Step, train_epochs
from nar_slp.recipe import (
    adamw,
    check_schedule,
    grad_clip,
    lr_scheduler,
    patience,
)
from nar_slp.utils import EpochLogger

SLT_KIND = "slt"


def _encode(
    examples: Sequence[Example],
    normaliser: Any,
    vocab: Vocabulary,
    gloss_vocab: Vocabulary | None,
) -> list[tuple[np.ndarray, list[int], list[int] | None, str]]:
    """(frames (T, F), target ids + <eos>, gloss ids or None, target string)."""
    return [
        (
            normalise_flat(e.poses, normaliser),
            vocab.encode(e.target),
            gloss_vocab.encode(e.gloss or "", eos=False) if gloss_vocab else None,
            e.target,
        )
        for e in examples
    ]


@torch.no_grad()
def dev_bleu4(model: SLTModel, data, batch_size: int, device: torch.device) -> float:
    """Corpus BLEU-4 (×100) of greedy translations of encoded dev data."""
    model.eval()
    hyps = [""] * len(data)
    for idx in length_batches([len(d[0]) for d in data], batch_size, None):
        x, mask = pad_poses([data[i][0] for i in idx], device)
        for i, ids in zip(idx, translate_ids(model, x, mask), strict=True):
            hyps[i] = model.vocab.decode(ids)
    return float(bleu_scores(hyps, [d[3] for d in data])["BLEU-4"])


def train_slt(
    cfg: Config,
    train_seqs: Sequence[Any],
    dev_seqs: Sequence[Any] | None,
    normaliser: Any,
    out_dir: str | Path | None,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = print,
    log_every: int | None = None,
    target: str | None = None,
) -> SLTModel:
    """Train the back-translation model on GROUND-TRUTH poses and texts; save it.

    Args:
        cfg: uses ``cfg.slt`` (the architecture, :func:`~nar_slp.evaluation.
            back_translation.model.build_slt`; ``gloss_weight``, ``eval_every``,
            ``target``) and its ``train`` (AdamW ``lr`` and ``weight_decay``,
            ``epochs``, ``batch_size`` sentences per step, ``grad_clip`` (0 =
            none), the ``schedule`` with ``warmup``, ``patience`` in dev checks,
            0 = never stop early), ``cfg.eval.batch_size`` (dev decoding),
            ``cfg.seed``.
        train_seqs: the ground-truth training split: ``SignSequence`` objects (their
            glosses feed the CTC head) or ``(poses (T, 50, 3) PT coordinates, text)``
            pairs (no glosses: translation loss only).
        dev_seqs: ground-truth dev split (same forms) for choosing the epoch by dev
            BLEU-4; None = keep the last epoch.
        normaliser: the Normaliser fitted on the ground-truth training split.
        out_dir: checkpoint folder (vocabularies and hyper-parameters in its config
            JSON; ``history``, ``best_epoch``, ``best_dev_bleu4`` in its extra);
            None = do not save.
        device: torch device; the returned model is on it, in eval mode.
        log: receives the progress lines (None = silent); which epochs get a line is
            :class:`nar_slp.utils.EpochLogger`'s policy.
        log_every: print every k-th epoch (None: at most a few lines per run).
        target: ``"text"`` (Table 1) or ``"gloss"``; None = ``cfg.slt.target``.
    """

    ec, sc = cfg.eval, cfg.slt
    tr = sc.train
    target = target or sc.target
    if target not in ("text", "gloss"):
        raise ValueError(f"train_slt: target must be 'text' or 'gloss', got {target!r}")
    check_schedule(tr, "slt")
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train = as_examples(train_seqs, target)
    if not train:
        raise ValueError("train_slt: no training sequences")
    vocab = Vocabulary.build([e.target for e in train])
    use_gloss = sc.gloss_weight > 0 and all(e.gloss for e in train)
    gloss_vocab = Vocabulary.build([e.gloss for e in train]) if use_gloss else None
    data = _encode(train, normaliser, vocab, gloss_vocab)
    dev = (
        _encode(as_examples(dev_seqs, target), normaliser, vocab, gloss_vocab)
        if dev_seqs
        else []
    )
    max_len = max(len(d[1]) for d in data)
    model = build_slt(
        sc,
        vocab,
        gloss_vocab,
        max_output_len=max_len + 10,
        target=target,
        n_values=data[0][0].shape[1],
    ).to(device)
    model.standardiser.fit(np.concatenate([d[0] for d in data]))
    opt = adamw(model.parameters(), tr)
    n_batches = math.ceil(len(data) / tr.batch_size)
    sched = lr_scheduler(opt, tr, tr.epochs * n_batches, "slt")
    history: list[dict[str, float]] = []
    epoch_log = EpochLogger(log, tr.epochs, log_every)

    def batches(epoch: int) -> list:
        # drawn when the epoch starts, from the one generator seeded above
        return length_batches([len(d[0]) for d in data], tr.batch_size, rng)

    def step(idx) -> Step:
        x, mask = pad_poses([data[i][0] for i in idx], device)
        tgt = pad_ids([data[i][1] for i in idx], device)
        glosses = pad_ids([data[i][2] for i in idx], device) if use_gloss else None
        loss = model.loss(x, mask, tgt, glosses, sc.gloss_weight)
        rec = loss.recognition.item() if loss.recognition is not None else math.nan
        logs = {"translation": loss.translation.item(), "ctc": rec}
        return Step(loss.total, len(idx), logs)

    def dev_score(epoch: int) -> float | None:
        if dev and (epoch % sc.eval_every == 0 or epoch == tr.epochs):
            return dev_bleu4(model, dev, ec.batch_size, device)
        return None

    def end_epoch(stats: EpochStats) -> None:
        row = {
            "epoch": stats.epoch,
            "train_loss": stats.means["translation"],
            "seconds": stats.seconds,
        }
        if use_gloss:
            row["train_ctc"] = stats.means["ctc"]
        if stats.dev is not None:
            row["dev_bleu4"] = stats.dev
        history.append(row)
        ctc = f", ctc {row['train_ctc']:.3f}" if use_gloss else ""
        bleu = f", dev BLEU-4 {row['dev_bleu4']:.2f}" if "dev_bleu4" in row else ""
        epoch_log.epoch(
            stats.epoch,
            f"SLT epoch {stats.epoch}/{tr.epochs}: train {row['train_loss']:.3f}"
            f"{ctc}{bleu} ({stats.seconds:.1f}s)",
        )

    loop = train_epochs(
        model,
        opt,
        range(1, tr.epochs + 1),
        batches,
        step,
        scheduler=sched,
        clip=grad_clip(tr),
        dev_score=dev_score,
        selection=Selection(higher_is_better=True, patience=patience(tr)),
        end_epoch=end_epoch,
        name="back-translation",
        hint="lower slt.train.lr",
    )
    best_epoch = loop.best_epoch if loop.best_epoch is not None else tr.epochs
    best_bleu = loop.best_score if loop.best_score is not None else -math.inf
    epoch_log.finish(best_epoch if loop.best_state is not None else None)
    if loop.stopped_early and log is not None:
        log(f"SLT: early stop, best dev epoch {best_epoch}")
    if loop.best_state is not None:
        model.load_state_dict(loop.best_state)
    model.eval()
    if out_dir is not None:
        save_checkpoint(
            out_dir,
            model,
            config={
                "kind": SLT_KIND,
                "model": model.hparams,
                "vocab": vocab.itos,
                "gloss_vocab": gloss_vocab.itos if gloss_vocab else None,
                "run": cfg.to_dict(),
            },
            extra={
                "history": history,
                "best_epoch": best_epoch,
                "best_dev_bleu4": best_bleu if dev else None,
            },
        )
    return model


def load_slt(directory: str | Path, device: str | torch.device = "cpu") -> SLTModel:
    """Rebuild an SLT model saved by :func:`train_slt` (eval mode, on ``device``)."""
    ckpt = load_evaluator_checkpoint(directory, SLT_KIND, "an SLT model")
    if "standardiser.keep" not in ckpt.state_dict:
        raise ValueError(
            f"{directory} holds an SLT model of the older format (no gloss head, no "
            "constant-channel handling); retrain it with train_slt"
        )
    itos = ckpt.config.get("gloss_vocab")
    model = SLTModel(
        Vocabulary(ckpt.config["vocab"]),
        Vocabulary(itos) if itos else None,
        **evaluator_hparams(ckpt.config),
    )
    model.load_state_dict(ckpt.state_dict)
    return model.to(device).eval()
