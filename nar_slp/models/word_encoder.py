"""A word-level text encoder trained from scratch, shared by the baselines (§4.4).

Both Progressive Transformers (Saunders et al. 2020, §3.1: "a Transformer encoder
over the source tokens") and NSLP-G (Hwang et al. 2021, a Transformer text encoder
trained from scratch) embed words of a vocabulary built on the training texts; neither
uses a pre-trained language model, which is one of the paper's contrasts (§3, BERT).

- :class:`WordVocab`: lower-cased whitespace words of the training texts, plus
  ``<pad>`` (0) and ``<unk>`` (1). Also used for gloss vocabularies (NSLP-G GS).
- :class:`WordTextEncoder`: embedding × √D + sinusoidal positions, then the shared
  :func:`nar_slp.models.layers.encoder_stack`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nar_slp.models.layers import SinusoidalPositionalEncoding, encoder_stack

PAD, UNK = "<pad>", "<unk>"


class WordVocab:
    """Word <-> id over a list of training texts; unknown words map to ``<unk>``."""

    def __init__(self, words: Sequence[str]) -> None:
        self.itos: list[str] = [PAD, UNK] + [w for w in words if w not in (PAD, UNK)]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @staticmethod
    def split(text: str) -> list[str]:
        return text.lower().split()

    @classmethod
    def build(cls, texts: Sequence[str], min_count: int = 1) -> WordVocab:
        """The vocabulary of ``texts`` (words seen ``min_count`` times), sorted."""
        counts: dict[str, int] = {}
        for t in texts:
            for w in cls.split(t):
                counts[w] = counts.get(w, 0) + 1
        return cls(sorted(w for w, c in counts.items() if c >= min_count))

    def __len__(self) -> int:
        return len(self.itos)

    def ids(self, text: str) -> list[int]:
        """Word ids of ``text`` (at least one id: an empty text gives ``[<unk>]``)."""
        out = [self.stoi.get(w, 1) for w in self.split(text)]
        return out or [1]

    def batch(
        self, texts: Sequence[str], device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """Padded ids (B, L) int64 and mask (B, L) bool (True = real token)."""
        seqs = [self.ids(t) for t in texts]
        width = max(len(s) for s in seqs)
        ids = torch.zeros(len(seqs), width, dtype=torch.int64)
        for b, s in enumerate(seqs):
            ids[b, : len(s)] = torch.tensor(s)
        return ids.to(device), (ids != 0).to(device)

    def to_list(self) -> list[str]:
        return list(self.itos[2:])


@dataclass
class WordEncoderOutput:
    """hidden: (B, L, D) token states; mask: (B, L) bool, True = real token."""

    hidden: Tensor
    mask: Tensor


class WordTextEncoder(nn.Module):
    """Embedding + sinusoidal positions + Transformer encoder over word ids."""

    def __init__(
        self,
        vocab: WordVocab,
        d_model: int,
        n_layers: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        max_tokens: int = 256,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.d_model = d_model
        self.embed = nn.Embedding(len(vocab), d_model, padding_idx=0)
        self.pos = SinusoidalPositionalEncoding(d_model, max_tokens)
        self.stack = encoder_stack(d_model, n_layers, n_heads, d_ff, dropout)

    def forward(self, texts: Sequence[str]) -> WordEncoderOutput:
        device = self.embed.weight.device
        ids, mask = self.vocab.batch(texts, device)  # (B, L)
        x = self.pos(self.embed(ids) * math.sqrt(self.d_model))  # (B, L, D)
        hidden = self.stack(x, src_key_padding_mask=~mask)  # (B, L, D)
        return WordEncoderOutput(hidden, mask)
