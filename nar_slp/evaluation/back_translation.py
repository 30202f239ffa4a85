"""Back-translation (BT, §5.1): a pose -> text SLT model, and BLEU / ROUGE-L.

The paper scores generated poses by translating them back into spoken language with a
sign language translation (SLT) model trained on ground-truth PHOENIX-2014T poses
(following Progressive Transformers [25]; their SLT is a Transformer [2] fed with pose
sequences). We implement a small Transformer encoder-decoder:

    encoder: poses (B, T, F), every ``subsample``-th frame (2: 12.5 fps, halves the
             cost; documented in the checkpoint) -> Linear(F, D) + sinusoidal PE ->
             TransformerEncoder with a key-padding mask
    decoder: word embeddings + PE -> TransformerDecoder (causal) -> Linear(D, V)

with a word-level vocabulary built from the training targets (whitespace tokens;
``<pad>``, ``<bos>``, ``<eos>``, ``<unk>`` first). It is trained with label-smoothed
cross-entropy on ground-truth training pairs only, the best epoch chosen by dev loss.
Decoding is greedy (``beam_size=1``) or beam search with length normalisation.

Inputs: poses are numpy arrays (T, 50, 3) in ORIGINAL PT coordinates from any source;
they are normalised internally with the ``normaliser`` given, which must be the one
fitted on the ground-truth training split (the one the SLT was trained with).

Training data is ground truth by construction: :func:`train_slt` takes the corpus's
own training sequences (``SignSequence`` or ``(poses, text)`` pairs) and there is no
entry point that trains on the output of :func:`translate` or of a production model.
Generated poses only ever go through :func:`translate`.

Metrics are computed by the reference packages, not re-implemented:
:func:`bleu_scores` uses ``sacrebleu`` (BLEU-n = corpus BLEU with
``max_ngram_order=n``, uniform weights, default 13a tokenisation, exponential
smoothing), :func:`rouge_l` uses ``rouge_score``'s ``RougeScorer(['rougeL'])``.
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import nn

from nar_slp.config import Config
from nar_slp.evaluation.tae import (
    SinusoidalPositionalEncoding,
    _encoder_stack,
    load_evaluator_checkpoint,
    normalise_flat,
    set_feature_standardisation,
    warmup_cosine,
)
from nar_slp.skeleton import FRAME_SIZE

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)
SUBSAMPLE = 2  # keep every 2nd frame: SLT sees 12.5 fps
LABEL_SMOOTHING = 0.1
_SLT_KIND = "slt"


# ------------------------------------------------------------------------- vocabulary


class Vocabulary:
    """Word-level vocabulary: whitespace tokens, specials at ids 0-3."""

    def __init__(self, itos: Sequence[str]) -> None:
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"vocabulary must start with {SPECIALS}, got {itos[:4]}")
        if len(set(itos)) != len(itos):
            raise ValueError("vocabulary has duplicate tokens")
        self.itos = list(itos)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Sequence[str], min_freq: int = 1) -> Vocabulary:
        """From training texts; words seen < ``min_freq`` times map to ``<unk>``."""
        counts = Counter(w for t in texts for w in t.split())
        words = sorted(
            w for w, c in counts.items() if c >= min_freq and w not in SPECIALS
        )
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` followed by ``<eos>`` (no ``<bos>``)."""
        return [self.stoi.get(w, UNK_ID) for w in text.split()] + [EOS_ID]

    def decode(self, ids: Sequence[int]) -> str:
        """Words up to the first ``<eos>``; ``<pad>``/``<bos>`` are dropped."""
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                words.append(self.itos[i])
        return " ".join(words)


# ------------------------------------------------------------------------------ model


@dataclass
class SLTOutput:
    """What :meth:`SLTModel.forward` returns."""

    logits: torch.Tensor  # (B, L, V)
    memory: torch.Tensor  # (B, T', D) encoder states of the subsampled frames
    memory_mask: torch.Tensor  # (B, T') bool, True = real frame


class SLTModel(nn.Module):
    """Pose-to-text Transformer (see the module docstring)."""

    def __init__(
        self,
        vocab: Vocabulary,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        dropout: float = 0.1,
        subsample: int = SUBSAMPLE,
        max_output_len: int = 64,
        target: str = "text",
        frame_size: int = FRAME_SIZE,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.hparams = {
            "d_model": d_model,
            "n_layers": n_layers,
            "n_heads": n_heads,
            "dropout": dropout,
            "subsample": subsample,
            "max_output_len": max_output_len,
            "target": target,
            "frame_size": frame_size,
        }
        self.subsample, self.max_output_len, self.target = (
            subsample,
            max_output_len,
            target,
        )
        self.d_model = d_model
        # Per-value standardisation with training-frame statistics (set by train_slt,
        # saved with the weights). Normalised poses vary by only ~0.05 around 0.5, so
        # unscaled they are drowned by the positional encoding and the decoder learns
        # a language model that ignores the poses (GT and Mean poses then translate
        # identically).
        self.register_buffer("feature_mean", torch.zeros(frame_size))
        self.register_buffer("feature_std", torch.ones(frame_size))
        self.in_proj = nn.Linear(frame_size, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len=2048)
        self.embed = nn.Embedding(len(vocab), d_model, padding_idx=PAD_ID)
        self.encoder = _encoder_stack(d_model, n_layers, n_heads, dropout)
        layer = nn.TransformerDecoderLayer(
            d_model,
            n_heads,
            dim_feedforward=4 * d_model,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.decoder = nn.TransformerDecoder(
            layer, n_layers, norm=nn.LayerNorm(d_model)
        )
        self.out_proj = nn.Linear(d_model, len(vocab))
        self.dropout = nn.Dropout(dropout)

    def encode(
        self, x: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Poses (B, T, F) + mask (B, T) -> memory (B, T', D) and its mask (B, T')."""
        x, mask = x[:, :: self.subsample], mask[:, :: self.subsample]  # (B, T', F)
        x = (x - self.feature_mean) / self.feature_std  # padding is masked below
        h = self.dropout(self.pos(self.in_proj(x)))  # (B, T', D)
        memory = self.encoder(h, src_key_padding_mask=~mask)
        return memory, mask

    def decode(
        self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        """Next-token logits (B, L, V) for decoder inputs ``tokens`` (B, L)."""
        length = tokens.shape[1]
        causal = torch.triu(
            torch.ones(length, length, dtype=torch.bool, device=tokens.device), 1
        )
        h = self.dropout(self.pos(self.embed(tokens) * math.sqrt(self.d_model)))
        h = self.decoder(
            h,
            memory,
            tgt_mask=causal,
            tgt_key_padding_mask=tokens == PAD_ID,
            memory_key_padding_mask=~memory_mask,
        )  # (B, L, D)
        return self.out_proj(h)  # (B, L, V)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, tokens: torch.Tensor
    ) -> SLTOutput:
        memory, memory_mask = self.encode(x, mask)
        return SLTOutput(self.decode(tokens, memory, memory_mask), memory, memory_mask)

    def loss(
        self, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """Label-smoothed CE; ``target`` (B, L) = ids + ``<eos>``, ``<pad>``-padded."""
        bos = torch.full_like(target[:, :1], BOS_ID)
        tokens = torch.cat([bos, target[:, :-1]], 1)  # teacher forcing, (B, L)
        tokens = tokens.masked_fill(tokens == EOS_ID, PAD_ID)  # nothing follows <eos>
        logits = self(x, mask, tokens).logits  # (B, L, V)
        return nnf.cross_entropy(
            logits.flatten(0, 1),
            target.flatten(),
            ignore_index=PAD_ID,
            label_smoothing=LABEL_SMOOTHING,
        )


# --------------------------------------------------------------------------- batching


def _pairs(seqs: Sequence[Any], target: str) -> list[tuple[np.ndarray, str]]:
    """(poses, target string) from SignSequence objects or (poses, text) pairs."""
    out = []
    for i, s in enumerate(seqs):
        if hasattr(s, "poses"):
            text = getattr(s, target)
            poses = s.poses
        elif isinstance(s, (tuple, list)) and len(s) == 2:
            poses, text = s
        else:
            raise TypeError(
                f"sequence {i}: expected a SignSequence or a (poses, text) pair, "
                f"got {type(s).__name__}"
            )
        if not isinstance(text, str):
            raise TypeError(f"sequence {i}: {target} must be a str")
        out.append((np.asarray(poses), text))
    return out


def _pad_poses(
    flat: Sequence[np.ndarray], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    t_max = max(len(f) for f in flat)
    x = np.zeros((len(flat), t_max, flat[0].shape[1]), np.float32)
    mask = np.zeros((len(flat), t_max), bool)
    for i, f in enumerate(flat):
        x[i, : len(f)], mask[i, : len(f)] = f, True
    return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


def _pad_ids(ids: Sequence[Sequence[int]], device: torch.device) -> torch.Tensor:
    out = torch.full((len(ids), max(len(i) for i in ids)), PAD_ID, dtype=torch.long)
    for r, i in enumerate(ids):
        out[r, : len(i)] = torch.tensor(i, dtype=torch.long)
    return out.to(device)


def _length_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Batches of similar length (less padding); shuffled when ``rng`` is given."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    noisy = np.asarray(lengths) + rng.uniform(0, 8, len(lengths))  # vary the groups
    order = np.argsort(noisy, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


# --------------------------------------------------------------------------- training


def _dev_loss(model: SLTModel, data, batch_size: int, device: torch.device) -> float:
    model.eval()
    total = count = 0.0
    with torch.no_grad():
        for idx in _length_batches([len(f) for f, _ in data], batch_size, None):
            x, mask = _pad_poses([data[i][0] for i in idx], device)
            tgt = _pad_ids([data[i][1] for i in idx], device)
            n = float((tgt != PAD_ID).sum())
            total += float(model.loss(x, mask, tgt)) * n
            count += n
    return total / max(count, 1.0)


def train_slt(
    cfg: Config,
    train_seqs: Sequence[Any],
    dev_seqs: Sequence[Any] | None,
    normaliser: Any,
    out_dir: str | Path | None,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = print,
    target: str | None = None,
) -> SLTModel:
    """Train the back-translation model on GROUND-TRUTH poses and texts; save it.

    Args:
        cfg: uses ``cfg.eval.slt_*``, ``cfg.eval.batch_size``, ``cfg.seed``.
        train_seqs: the corpus's ground-truth training split: ``SignSequence`` objects
            or ``(poses (T, 50, 3) PT coordinates, text)`` pairs.
        dev_seqs: ground-truth dev split (same forms) for choosing the best epoch by
            dev loss; None = keep the last epoch.
        normaliser: the Normaliser fitted on the ground-truth training split.
        out_dir: checkpoint folder (``save_checkpoint``; the vocabulary and the
            hyper-parameters are in its config JSON); None = do not save.
        device: torch device; the returned model is on it, in eval mode.
        log: one line per epoch (None = silent).
        target: ``"text"`` (spoken language, Table 1) or ``"gloss"``; None =
            ``cfg.eval.slt_target``. Pairs are always read as (poses, target string).
    """
    from nar_slp.training.checkpoint import save_checkpoint

    ec = cfg.eval
    target = target or ec.slt_target
    if target not in ("text", "gloss"):
        raise ValueError(f"train_slt: target must be 'text' or 'gloss', got {target!r}")
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train = _pairs(train_seqs, target)
    if not train:
        raise ValueError("train_slt: no training sequences")
    vocab = Vocabulary.build([t for _, t in train])
    max_len = max(len(t.split()) for _, t in train) + 1

    def prepare(pairs):
        return [(normalise_flat(p, normaliser), vocab.encode(t)) for p, t in pairs]

    data = prepare(train)
    dev = prepare(_pairs(dev_seqs, target)) if dev_seqs else []
    model = SLTModel(
        vocab,
        d_model=ec.slt_d_model,
        n_layers=ec.slt_layers,
        n_heads=ec.slt_heads,
        max_output_len=max_len + 10,
        target=target,
        frame_size=data[0][0].shape[1],
    ).to(device)
    set_feature_standardisation(model, np.concatenate([f for f, _ in data]))
    opt = torch.optim.AdamW(model.parameters(), lr=ec.slt_lr, weight_decay=0.01)
    n_batches = math.ceil(len(data) / ec.batch_size)
    sched = warmup_cosine(opt, ec.slt_epochs * n_batches)
    history: list[dict[str, float]] = []
    best_state, best_dev = None, math.inf
    for epoch in range(ec.slt_epochs):
        model.train()
        t0, total, count = time.perf_counter(), 0.0, 0
        for idx in _length_batches([len(f) for f, _ in data], ec.batch_size, rng):
            x, mask = _pad_poses([data[i][0] for i in idx], device)
            tgt = _pad_ids([data[i][1] for i in idx], device)
            loss = model.loss(x, mask, tgt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            count += len(idx)
        row = {"epoch": epoch + 1, "train_loss": total / count}
        if dev:
            row["dev_loss"] = _dev_loss(model, dev, ec.batch_size, device)
            if row["dev_loss"] < best_dev:
                best_dev = row["dev_loss"]
                best_state = copy.deepcopy(model.state_dict())
        history.append(row)
        if log is not None:
            dev_txt = f", dev {row['dev_loss']:.3f}" if dev else ""
            log(
                f"SLT epoch {epoch + 1}/{ec.slt_epochs}: train {row['train_loss']:.3f}"
                f"{dev_txt} ({time.perf_counter() - t0:.1f}s)"
            )
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    if out_dir is not None:
        save_checkpoint(
            out_dir,
            model,
            config={
                "kind": _SLT_KIND,
                "model": model.hparams,
                "vocab": vocab.itos,
                "run": cfg.to_dict(),
            },
            extra={"history": history, "best_dev_loss": best_dev},
        )
    return model


def load_slt(directory: str | Path, device: str | torch.device = "cpu") -> SLTModel:
    """Rebuild an SLT model saved by :func:`train_slt` (eval mode, on ``device``)."""
    ckpt = load_evaluator_checkpoint(directory, _SLT_KIND, "an SLT model")
    model = SLTModel(Vocabulary(ckpt.config["vocab"]), **ckpt.config["model"])
    model.load_state_dict(ckpt.state_dict)
    return model.to(device).eval()


# --------------------------------------------------------------------------- decoding


@torch.no_grad()
def _greedy(model: SLTModel, memory, memory_mask, max_len: int) -> list[list[int]]:
    b = memory.shape[0]
    tokens = torch.full((b, 1), BOS_ID, dtype=torch.long, device=memory.device)
    done = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for _ in range(max_len):
        nxt = model.decode(tokens, memory, memory_mask)[:, -1].argmax(-1)  # (B,)
        nxt = nxt.masked_fill(done, PAD_ID)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        done |= nxt == EOS_ID
        if bool(done.all()):
            break
    return tokens[:, 1:].tolist()


@torch.no_grad()
def _beam(
    model: SLTModel, memory, memory_mask, max_len: int, beam: int, alpha: float
) -> list[int]:
    """Beam search for ONE sequence (memory (1, T', D)).

    Each step expands the ``beam`` live hypotheses, keeps the best ``beam`` that do
    not end; those that end with ``<eos>`` (among the step's top ``beam``) are set
    aside with score log-prob / length^alpha. Search stops when ``beam`` hypotheses
    have ended or after ``max_len`` tokens; the best ended one is returned.
    """
    dev = memory.device
    hyps = [[BOS_ID]]
    scores = torch.zeros(1, device=dev)
    finished: list[tuple[float, list[int]]] = []
    for step in range(1, max_len + 1):
        k = len(hyps)
        tokens = torch.tensor(hyps, dtype=torch.long, device=dev)  # (k, step)
        logits = model.decode(
            tokens, memory.expand(k, -1, -1), memory_mask.expand(k, -1)
        )
        logp = logits[:, -1].log_softmax(-1)  # (k, V)
        vocab_size = logp.shape[1]
        top = (scores[:, None] + logp).flatten().topk(min(2 * beam, k * vocab_size))
        alive, alive_scores = [], []
        for rank, (s, flat) in enumerate(
            zip(top.values.tolist(), top.indices.tolist(), strict=True)
        ):
            h, w = divmod(flat, vocab_size)
            seq = hyps[h] + [w]
            if w == EOS_ID or step == max_len:
                if rank < beam:
                    finished.append((s / (len(seq) - 1) ** alpha, seq[1:]))
            elif len(alive) < beam:
                alive.append(seq)
                alive_scores.append(s)
        if len(finished) >= beam or not alive:
            break
        hyps, scores = alive, torch.tensor(alive_scores, device=dev)
    if not finished:
        return hyps[0][1:]
    return max(finished, key=lambda f: f[0])[1]


@torch.no_grad()
def translate(
    model: SLTModel,
    poses_list: Sequence[np.ndarray],
    normaliser: Any,
    batch_size: int = 64,
    beam_size: int = 1,
    alpha: float = 1.0,
) -> list[str]:
    """Back-translate pose sequences into strings (words joined by single spaces).

    Args:
        model: a trained :class:`SLTModel` (its device is used).
        poses_list: arrays (T, 50, 3) in PT coordinates, from any system.
        normaliser: the ground-truth training Normaliser.
        batch_size: sequences per forward pass.
        beam_size: 1 = greedy (batched); > 1 = beam search per sequence
            (``cfg.eval.beam_size``), hypotheses ranked by log-prob / length^alpha.

    Returns:
        One string per input, in input order.
    """
    if beam_size < 1:
        raise ValueError(f"translate: beam_size must be >= 1, got {beam_size}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    flat = [
        normalise_flat(np.asarray(getattr(p, "poses", p)), normaliser)
        for p in poses_list
    ]
    for i, f in enumerate(flat):
        if len(f) == 0:
            raise ValueError(f"translate: sequence {i} has no frames")
    out: list[str] = [""] * len(flat)
    for idx in _length_batches([len(f) for f in flat], batch_size, None):
        x, mask = _pad_poses([flat[i] for i in idx], device)
        memory, memory_mask = model.encode(x, mask)
        if beam_size == 1:
            ids = _greedy(model, memory, memory_mask, model.max_output_len)
        else:
            ids = [
                _beam(
                    model,
                    memory[r : r + 1],
                    memory_mask[r : r + 1],
                    model.max_output_len,
                    beam_size,
                    alpha,
                )
                for r in range(len(idx))
            ]
        for i, seq in zip(idx, ids, strict=True):
            out[i] = model.vocab.decode(seq)
    model.train(was_training)
    return out


# ---------------------------------------------------------------------------- metrics


def bleu_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, float | str]:
    """Corpus BLEU-1..4 (×100) by sacrebleu, one reference per hypothesis.

    BLEU-n is ``sacrebleu.metrics.BLEU(max_ngram_order=n).corpus_score(hyps, [refs])``:
    geometric mean of the 1..n-gram precisions with uniform weights, times the brevity
    penalty; default tokenisation (13a), no lowercasing.

    Returns:
        ``{"BLEU-1": …, "BLEU-2": …, "BLEU-3": …, "BLEU-4": …, "signature": str}``.
    """
    from sacrebleu.metrics import BLEU

    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(
            f"bleu_scores: {len(hyps)} hypotheses but {len(refs)} references"
        )
    if not hyps:
        raise ValueError("bleu_scores: no sentences")
    out: dict[str, float | str] = {}
    signature = ""
    for n in range(1, 5):
        metric = BLEU(max_ngram_order=n)
        out[f"BLEU-{n}"] = float(metric.corpus_score(hyps, [refs]).score)
        if n == 4:
            signature = str(metric.get_signature())
    out["signature"] = signature
    return out


def _bleu_metric(order: int) -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=order)


def bleu_sentence_stats(
    hyps: Sequence[str], refs: Sequence[str], order: int = 4
) -> np.ndarray:
    """Per-sentence sufficient statistics of sacrebleu's corpus BLEU-``order``.

    Row i is ``[hyp_len, ref_len, correct_1..correct_order, total_1..total_order]``
    of sentence i (13a tokens), exactly what ``corpus_score`` sums over sentences
    (sacrebleu's own paired bootstrap resamples these rows). Summing any multiset of
    rows and passing the sum to :func:`bleu_from_stats` equals ``corpus_score`` on the
    corresponding hypothesis/reference lists.

    Returns:
        (N, 2 + 2 * order) int64.
    """
    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(
            f"bleu_sentence_stats: {len(hyps)} hypotheses but {len(refs)} references"
        )
    stats = _bleu_metric(order)._extract_corpus_statistics(hyps, [refs])
    return np.asarray(stats, dtype=np.int64).reshape(len(hyps), 2 + 2 * order)


def bleu_from_stats(stats: np.ndarray, order: int = 4) -> float:
    """Corpus BLEU-``order`` (×100) from summed statistics (2 + 2 * order,)
    (see :func:`bleu_sentence_stats`), with the settings of :func:`bleu_scores`."""
    metric = _bleu_metric(order)
    return float(metric._compute_score_from_stats([int(v) for v in stats]).score)


def bleu_bootstrap(
    hyps: Sequence[str], refs: Sequence[str], boot_counts: np.ndarray
) -> dict[str, np.ndarray]:
    """Corpus BLEU-1..4 of every bootstrap resample, from statistics computed once.

    Args:
        hyps, refs: parallel lists of N strings.
        boot_counts: (n_boot, N) sentence counts
            (:func:`nar_slp.bootstrap.bootstrap_counts`).

    Returns:
        ``{"BLEU-1": (n_boot,), …, "BLEU-4": (n_boot,)}`` (×100).
    """
    out: dict[str, np.ndarray] = {}
    for n in range(1, 5):
        metric = _bleu_metric(n)
        summed = boot_counts @ bleu_sentence_stats(hyps, refs, n)  # (n_boot, S)
        out[f"BLEU-{n}"] = np.array(
            [
                metric._compute_score_from_stats([int(v) for v in row]).score
                for row in summed
            ],
            dtype=np.float64,
        )
    return out


class WhitespaceTokenizer:
    """Tokenizer for ``rouge_score``: lowercase + split on whitespace.

    ``rouge_score``'s default tokenizer keeps only [a-z0-9] and would split German
    words at umlauts and ß ("südwesten" -> "s", "dwesten"); PHOENIX-2014T text is
    German, already lowercased and without punctuation, so whitespace is the right
    token boundary.
    """

    def tokenize(self, text: str) -> list[str]:
        return text.lower().split()


def rouge_l(
    hyps: Sequence[str], refs: Sequence[str], tokenizer: Any = "whitespace"
) -> float:
    """Mean sentence-level ROUGE-L F-measure × 100 by ``rouge_score``.

    Args:
        hyps, refs: parallel lists of strings.
        tokenizer: ``"whitespace"`` (:class:`WhitespaceTokenizer`, default),
            ``"default"`` (rouge_score's own [a-z0-9] tokenizer) or any object with a
            ``tokenize(text) -> list[str]`` method.
    """
    return 100.0 * float(np.mean(rouge_l_per_sentence(hyps, refs, tokenizer)))


def rouge_l_per_sentence(
    hyps: Sequence[str], refs: Sequence[str], tokenizer: Any = "whitespace"
) -> np.ndarray:
    """Sentence-level ROUGE-L F-measures (N,) in [0, 1]; :func:`rouge_l` is 100 × their
    mean. Arguments as :func:`rouge_l`."""
    from rouge_score.rouge_scorer import RougeScorer

    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(f"rouge_l: {len(hyps)} hypotheses but {len(refs)} references")
    if not hyps:
        raise ValueError("rouge_l: no sentences")
    if tokenizer == "whitespace":
        tokenizer = WhitespaceTokenizer()
    elif tokenizer == "default":
        tokenizer = None
    scorer = RougeScorer(["rougeL"], tokenizer=tokenizer)
    return np.array(
        [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hyps, refs, strict=True)]
    )


def back_translation_scores(
    model: SLTModel,
    poses_list: Sequence[np.ndarray],
    references: Sequence[str],
    normaliser: Any,
    batch_size: int = 64,
    beam_size: int = 1,
) -> tuple[dict[str, float | str], list[str]]:
    """Translate ``poses_list`` and score against ``references``.

    Returns:
        (``{"BLEU-1".."BLEU-4", "ROUGE", "signature"}``, the hypotheses).
    """
    hyps = translate(model, poses_list, normaliser, batch_size, beam_size)
    scores = bleu_scores(hyps, references)
    scores["ROUGE"] = rouge_l(hyps, references)
    return scores, hyps
