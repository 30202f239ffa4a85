"""NSLP-G (Hwang et al., BMVC 2021): the non-autoregressive baseline of Table 1.

The paper under reproduction (§1, §2, §4.4) describes NSLP-G as: a pose VAE trained
with MSE whose *decoder* maps latents to poses; a Transformer text encoder trained
from scratch; a NAR Transformer decoder whose queries are positional encodings, so
all T frames come out in one pass; no length model ("a masked loss as a partial
solution", §1 limitation (1)) and no distillation (only the decoder of the VAE is
used, which the paper blames for "false decoding initiation", §6.2).

    memory = Enc(words)                                   (B, L, D)
    h      = Dec(PE[0:T], memory)   (no causal mask)      (B, T, D)
    z      = W h                                          (B, T, Z)
    ŷ      = PGM_mse(z)                                   (B, T, F)
    L      = masked MSE(ŷ, y)  [+ w · L_GS]

Variants (§4.4, Table 1):
- **Base**: the above, PGM frozen.
- **GS** (gloss supervision): an auxiliary CTC loss between per-frame gloss logits of
  the decoder states and the gloss sequence (frames align monotonically with glosses,
  and T ≫ number of glosses, as CTC needs). NSLP-G's exact GS head is not specified
  in the paper under reproduction; CTC over decoder frames is our choice.
- **+ft**: :meth:`NSLPG.set_finetune` unfreezes the PGM (and only it) for the last
  epochs.

Output length: NSLP-G used the ground-truth length at test time. Our main rows use a
non-oracle rule, the mean training length (rounded) for every sentence: NSLP-G has no
length component, the mean is the constant that minimises the squared length error on
the training set and needs no learned part, so any length skill in Table 1 belongs to
the student's length regulator. The GT-length variant is a separate oracle row.

:func:`build_nslpg` builds the model from its own section of the configuration,
``cfg.nslpg`` (:class:`nar_slp.config.NSLPGConfig`), over a pose VAE.

Shapes: B batch, T frames, L tokens, D width, Z latent, F = 150 values, G glosses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F_
from torch import Tensor, nn

from nar_slp.checkpoints import load_checkpoint, save_checkpoint
from nar_slp.config import Config, NSLPGConfig, VAEConfig
from nar_slp.models.baseline_record import baseline_arch, saved_config
from nar_slp.models.layers import decoder_stack, sinusoidal_positions
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.word_encoder import WordTextEncoder, WordVocab


@dataclass
class NSLPGOutput:
    """poses: (B, T, F) in (0, 1); latents: (B, T, Z); gloss_logits: (B, T, G+1)
    (index 0 = CTC blank) or None without GS; mask: (B, T) bool real frames."""

    poses: Tensor
    latents: Tensor
    gloss_logits: Tensor | None
    mask: Tensor


@dataclass
class NSLPGLoss:
    """total = pose + gs_weight · gs."""

    total: Tensor
    pose: Tensor
    gs: Tensor


class NSLPG(nn.Module):
    """NSLP-G text-to-pose model over a pre-trained (MSE) pose VAE; see module doc."""

    def __init__(
        self,
        vocab: WordVocab,
        vae: PoseVAE,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        d_ff: int = 128,
        dropout: float = 0.0,
        gloss_vocab: WordVocab | None = None,
        max_frames: int = 300,
    ) -> None:
        super().__init__()
        self.max_frames = max_frames
        self.encoder = WordTextEncoder(vocab, d_model, n_layers, n_heads, d_ff, dropout)
        self.decoder = decoder_stack(d_model, n_layers, n_heads, d_ff, dropout)
        self.register_buffer(
            "queries", sinusoidal_positions(max_frames, d_model), persistent=False
        )
        self.to_latent = nn.Linear(d_model, vae.latent_dim)
        self.vae = freeze(vae)
        self.gloss_vocab = gloss_vocab
        # GS head: glosses + CTC blank (index 0, which is also <pad> in WordVocab).
        self.gloss_head = (
            nn.Linear(d_model, len(gloss_vocab)) if gloss_vocab is not None else None
        )
        self.finetune = False
        # The main rows' output length (mean training length), set by the trainer.
        self.mean_length: int | None = None

    def set_finetune(self, on: bool = True) -> None:
        """+ft: let gradients into the PGM (the VAE decoder) only; the VAE encoder,
        unused by NSLP-G, stays frozen."""
        self.finetune = on
        for p in self.vae.decoder.parameters():
            p.requires_grad_(on)

    def train(self, mode: bool = True) -> NSLPG:
        super().train(mode)
        self.vae.eval()  # deterministic decode; the VAE has no dropout/BN anyway
        return self

    def forward(self, texts: Sequence[str], lengths: Tensor) -> NSLPGOutput:
        """All frames at once for ``lengths`` (B,) frames each."""
        lengths = torch.as_tensor(lengths, device=self.queries.device)
        t = int(lengths.max())
        if t > self.max_frames:
            raise ValueError(f"length {t} exceeds max_frames {self.max_frames}")
        enc = self.encoder(texts)
        mask = torch.arange(t, device=lengths.device)[None] < lengths[:, None]  # (B, T)
        q = self.queries[:t].expand(len(texts), -1, -1)  # (B, T, D)
        h = self.decoder(
            q, enc.hidden, tgt_key_padding_mask=~mask, memory_key_padding_mask=~enc.mask
        )  # (B, T, D)
        z = self.to_latent(h)  # (B, T, Z)
        poses = self.vae.decode(z)  # (B, T, F)
        logits = self.gloss_head(h) if self.gloss_head is not None else None
        return NSLPGOutput(poses, z, logits, mask)

    def loss(
        self,
        out: NSLPGOutput,
        poses: Tensor,
        glosses: Sequence[str] | None = None,
        gs_weight: float = 0.0,
    ) -> NSLPGLoss:
        """Masked MSE on real frames (+ GS CTC when the model has a gloss head)."""
        if poses.dim() == 4:
            poses = poses.flatten(2)  # (B, T, J, K) -> (B, T, F)
        m = out.mask[..., None].float()  # (B, T, 1)
        pose = ((out.poses - poses) ** 2 * m).sum() / (m.sum() * poses.shape[-1])
        gs = pose.new_zeros(())
        if out.gloss_logits is not None:
            if glosses is None:
                raise ValueError("a GS model needs the glosses for its loss")
            gs = gloss_ctc_loss(out.gloss_logits, out.mask, glosses, self.gloss_vocab)
        return NSLPGLoss(pose + gs_weight * gs, pose, gs)


def gloss_ctc_loss(
    logits: Tensor, mask: Tensor, glosses: Sequence[str], vocab: WordVocab
) -> Tensor:
    """CTC between per-frame gloss logits (B, T, G) (blank = 0) and gloss strings."""
    targets = [torch.tensor(vocab.ids(g), dtype=torch.int64) for g in glosses]
    log_probs = logits.log_softmax(-1).transpose(0, 1)  # (T, B, G)
    return F_.ctc_loss(
        log_probs,
        torch.cat(targets).to(logits.device),
        mask.sum(1),
        torch.tensor([len(t) for t in targets], device=logits.device),
        blank=0,
        zero_infinity=True,
    )


def build_nslpg(
    nslpg: NSLPGConfig,
    vocab: WordVocab,
    vae: PoseVAE,
    gloss_vocab: WordVocab | None,
    *,
    max_frames: int,
) -> NSLPG:
    """NSLP-G over ``vae`` from ``nslpg`` (``cfg.nslpg``), for sequences of at most
    ``max_frames`` frames (``cfg.data.max_frames``); GS when ``gloss_vocab`` is
    given."""
    return NSLPG(
        vocab,
        vae,
        d_model=nslpg.d_model,
        n_layers=nslpg.n_layers,
        n_heads=nslpg.n_heads,
        d_ff=nslpg.d_ff,
        dropout=nslpg.dropout,
        gloss_vocab=gloss_vocab,
        max_frames=max_frames,
    )


# ------------------------------------------------ checkpoint and generation


def save_nslpg(
    directory: str | Path,
    model: torch.nn.Module,
    cfg: Config,
    vocab: WordVocab,
    gloss_vocab: WordVocab | None,
    vae: PoseVAE,
    gs: bool,
    ft: bool,
    mean_len: int,
    hist: list[dict[str, float]],
    selected: int,
) -> None:
    """Write a trained NSLP-G (GS when ``gs``, "+ft" when ``ft``) with its history
    and selected epoch."""
    save_checkpoint(
        directory,
        model,
        baseline_arch(
            "nslpg",
            cfg,
            gs=gs,
            ft=ft,
            vocab=vocab.to_list(),
            gloss_vocab=gloss_vocab.to_list() if gloss_vocab else None,
            vae={
                "hidden": list(vae.hidden),
                "latent_dim": vae.latent_dim,
                "n_values": vae.n_values,
            },
            mean_length=mean_len,
        ),
        extra={"history": hist, "selected_epoch": selected},
    )


def load_nslpg(directory: str | Path, device: str = "cpu") -> NSLPG:
    """The NSLP-G saved in ``directory`` (by :func:`save_nslpg`), its VAE inside,
    in eval mode."""
    ckpt = load_checkpoint(directory, with_optimizer=False)
    c = ckpt.config
    if c.get("kind") != "nslpg":
        raise ValueError(f"{directory} is not an NSLP-G checkpoint")
    cfg = saved_config(c)
    v = c["vae"]
    vae = PoseVAE(
        VAEConfig(hidden=tuple(v["hidden"]), latent_dim=v["latent_dim"]),
        n_values=v["n_values"],
    )
    gloss_vocab = WordVocab(c["gloss_vocab"]) if c["gloss_vocab"] is not None else None
    model = build_nslpg(
        cfg.nslpg,
        WordVocab(c["vocab"]),
        vae,
        gloss_vocab,
        max_frames=cfg.data.max_frames,
    )
    model.load_state_dict(ckpt.state_dict)
    model.mean_length = int(c["mean_length"])
    return model.to(device).eval()


@torch.no_grad()
def generate_nslpg(
    model: NSLPG,
    texts: Sequence[str],
    normaliser: Any,
    lengths: Sequence[int] | None = None,
    batch_size: int = 64,
) -> list[np.ndarray]:
    """NSLP-G sequences (T_i, J, K) in PT coordinates. ``lengths=None`` applies the
    main rows' rule (the mean training length for every sentence); passing the
    ground-truth lengths gives the oracle row."""
    model.eval()
    device = model.queries.device
    if lengths is None:
        lengths = [model.mean_length] * len(texts)
    lengths = [min(int(n), model.max_frames) for n in lengths]
    out: list[np.ndarray] = []
    for i in range(0, len(texts), batch_size):
        lens = torch.tensor(lengths[i : i + batch_size], device=device)
        gen = model(list(texts[i : i + batch_size]), lens)
        for p, n in zip(gen.poses, lens.tolist(), strict=True):
            arr = p[:n].cpu().numpy().reshape(n, -1, 3)  # (T, F) -> (T, J, K)
            out.append(np.asarray(normaliser.inverse(arr), dtype=np.float32))
    return out
