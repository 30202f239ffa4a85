"""The back-translation (SLT) model of §5.1: poses -> spoken-language text.

The paper scores generated poses by translating them back with a sign language
translation model trained on ground-truth poses (as Progressive Transformers [25]).
Ours is a small Transformer encoder-decoder that is also trained to *recognise* the
signs: a CTC gloss head on the encoder states, the joint recognition + translation
set-up of Camgoz et al. (2020, "Sign Language Transformers"), who found that the
recognition loss makes the encoder represent the signs and improves translation.
Without it, a small model on a small corpus learns a language model that barely
looks at the poses, and cannot tell real signing from a static mean pose.

    frames (B, T, F) --FeatureStandardiser (constant channels dropped)--> Linear(F, D)
      --> Conv1d(k = 2s+1, stride s) + GELU  (local motion; T' = ceil(T / s))
      --> + sinusoidal PE --> encoder_stack --> memory (B, T', D)
    gloss head:  Linear(D, G) on memory -> CTC over the gloss sequence (blank = 0)
    decoder:     word embedding + PE --> decoder_stack (causal) --> Linear(D, V)

Loss: label-smoothed cross-entropy of the next word + ``gloss_weight`` × CTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torch import nn

from nar_slp.config import SLTConfig
from nar_slp.evaluation.back_translation.data import (
    BLANK_ID,
    BOS_ID,
    EOS_ID,
    PAD_ID,
    Vocabulary,
)
from nar_slp.models.layers import (
    FeatureStandardiser,
    SinusoidalPositionalEncoding,
    causal_mask,
    decoder_stack,
    encoder_stack,
)
from nar_slp.skeleton import FRAME_SIZE

LABEL_SMOOTHING = 0.1


@dataclass
class SLTOutput:
    """What :meth:`SLTModel.forward` returns."""

    logits: torch.Tensor  # (B, L, V) next-word logits
    gloss_logits: torch.Tensor | None  # (B, T', G) CTC logits; None without a head
    memory: torch.Tensor  # (B, T', D) encoder states
    memory_mask: torch.Tensor  # (B, T') bool, True = real step


@dataclass
class SLTLoss:
    """What :meth:`SLTModel.loss` returns (scalars)."""

    total: torch.Tensor  # translation + gloss_weight * recognition
    translation: torch.Tensor  # label-smoothed CE per target token
    recognition: torch.Tensor | None  # CTC per gloss (None without glosses)


class SLTModel(nn.Module):
    """Pose-to-text Transformer with an optional CTC gloss head (module docstring).

    Args:
        vocab: target vocabulary (text words, or glosses when ``target="gloss"``).
        gloss_vocab: gloss vocabulary of the recognition head; None = no head.
        subsample: temporal stride s of the convolutional front end (1 = none).
        max_output_len: decoding stops after this many tokens.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        gloss_vocab: Vocabulary | None = None,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        dropout: float = 0.1,
        subsample: int = 2,
        max_output_len: int = 64,
        target: str = "text",
        n_values: int = FRAME_SIZE,
    ) -> None:
        super().__init__()
        if subsample < 1:
            raise ValueError(f"subsample must be >= 1, got {subsample}")
        self.vocab, self.gloss_vocab = vocab, gloss_vocab
        self.hparams = {
            "d_model": d_model,
            "n_layers": n_layers,
            "n_heads": n_heads,
            "dropout": dropout,
            "subsample": subsample,
            "max_output_len": max_output_len,
            "target": target,
            "n_values": n_values,
        }
        self.d_model, self.subsample = d_model, subsample
        self.max_output_len, self.target = max_output_len, target
        # Normalised poses vary by ~0.05 around 0.5: unscaled, the positional
        # encoding drowns them (set by train_slt from training frames).
        self.standardiser = FeatureStandardiser(n_values)
        self.in_proj = nn.Linear(n_values, d_model)
        # A strided temporal convolution instead of dropping frames: each step sees
        # 2s+1 frames, i.e. the local movement a sign is made of.
        self.temporal = nn.Conv1d(
            d_model, d_model, 2 * subsample + 1, stride=subsample, padding=subsample
        )
        self.pos = SinusoidalPositionalEncoding(d_model, max_len=2048)
        self.encoder = encoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.gloss_head = (
            nn.Linear(d_model, len(gloss_vocab)) if gloss_vocab is not None else None
        )
        self.embed = nn.Embedding(len(vocab), d_model, padding_idx=PAD_ID)
        self.decoder = decoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.out_proj = nn.Linear(d_model, len(vocab))
        self.dropout = nn.Dropout(dropout)

    def encode(
        self, x: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames (B, T, F) + mask (B, T) -> memory (B, T', D), mask (B, T')."""
        h = self.in_proj(self.standardiser(x)) * mask[..., None]  # (B, T, D)
        # Zeroed padding = the convolution's own zero padding, so a padded sequence
        # is encoded as it would be alone.
        h = nnf.gelu(self.temporal(h.transpose(1, 2))).transpose(1, 2)  # (B, T', D)
        memory_mask = mask[:, :: self.subsample]  # (B, T'), T' = ceil(T / s)
        h = self.dropout(self.pos(h))
        return self.encoder(h, src_key_padding_mask=~memory_mask), memory_mask

    def decode(
        self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        """Next-token logits (B, L, V) for decoder inputs ``tokens`` (B, L)."""
        h = self.dropout(self.pos(self.embed(tokens) * math.sqrt(self.d_model)))
        h = self.decoder(
            h,
            memory,
            tgt_mask=causal_mask(tokens.shape[1], tokens.device),
            tgt_key_padding_mask=tokens == PAD_ID,
            memory_key_padding_mask=~memory_mask,
        )  # (B, L, D)
        return self.out_proj(h)  # (B, L, V)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, tokens: torch.Tensor
    ) -> SLTOutput:
        memory, memory_mask = self.encode(x, mask)
        gloss_logits = self.gloss_head(memory) if self.gloss_head is not None else None
        return SLTOutput(
            self.decode(tokens, memory, memory_mask), gloss_logits, memory, memory_mask
        )

    def loss(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        target: torch.Tensor,
        glosses: torch.Tensor | None = None,
        gloss_weight: float = 1.0,
    ) -> SLTLoss:
        """Joint loss on a batch.

        Args:
            x, mask: frames (B, T, F) and mask (B, T).
            target: (B, L) target ids + ``<eos>``, ``<pad>``-padded.
            glosses: (B, G_max) gloss ids, ``<pad>``-padded, no ``<eos>``; None =
                translation loss only.
            gloss_weight: weight of the CTC term in ``total``.
        """
        bos = torch.full_like(target[:, :1], BOS_ID)
        tokens = torch.cat([bos, target[:, :-1]], 1)  # teacher forcing, (B, L)
        tokens = tokens.masked_fill(tokens == EOS_ID, PAD_ID)  # nothing follows <eos>
        out = self(x, mask, tokens)
        translation = nnf.cross_entropy(
            out.logits.flatten(0, 1),
            target.flatten(),
            ignore_index=PAD_ID,
            label_smoothing=LABEL_SMOOTHING,
        )
        if glosses is None or out.gloss_logits is None:
            return SLTLoss(translation, translation, None)
        log_probs = out.gloss_logits.log_softmax(-1).transpose(0, 1)  # (T', B, G)
        recognition = nnf.ctc_loss(
            log_probs,
            glosses,
            out.memory_mask.sum(1),
            (glosses != PAD_ID).sum(1),
            blank=BLANK_ID,
            zero_infinity=True,  # a sentence too short for its glosses adds nothing
        )
        return SLTLoss(
            translation + gloss_weight * recognition, translation, recognition
        )

    @torch.no_grad()
    def recognise(self, x: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Best-path CTC gloss ids per sequence (repeats merged, blanks removed)."""
        if self.gloss_head is None:
            raise ValueError("this SLT model has no gloss head")
        memory, memory_mask = self.encode(x, mask)
        best = self.gloss_head(memory).argmax(-1)  # (B, T')
        out = []
        for row, m in zip(best.tolist(), memory_mask.tolist(), strict=True):
            ids, prev = [], BLANK_ID
            for i, real in zip(row, m, strict=True):
                if real and i != prev and i != BLANK_ID:
                    ids.append(i)
                prev = i if real else prev
            out.append(ids)
        return out


def build_slt(
    slt: SLTConfig,
    vocab: Vocabulary,
    gloss_vocab: Vocabulary | None = None,
    *,
    max_output_len: int = 64,
    target: str | None = None,
    n_values: int = FRAME_SIZE,
) -> SLTModel:
    """An untrained SLT model with the hyper-parameters of ``cfg.slt`` (``d_model``,
    ``n_layers``, ``n_heads``, ``dropout``, ``subsample``; ``target`` None =
    ``slt.target``); the one place an SLT model is built from a config."""
    return SLTModel(
        vocab,
        gloss_vocab,
        d_model=slt.d_model,
        n_layers=slt.n_layers,
        n_heads=slt.n_heads,
        dropout=slt.dropout,
        subsample=slt.subsample,
        max_output_len=max_output_len,
        target=target or slt.target,
        n_values=n_values,
    )
