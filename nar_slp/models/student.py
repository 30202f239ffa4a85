"""The student: the paper's Latent Learning Module (LLM, §3.3) and its losses (§3.4).

The LLM models the latent pose sequence Z = z_1..z_T of a text X = x_1..x_U as

    Eq. 3:  p_NA(Z | X) = p_L(T | x_1:U) · Π_t p(z_t | x_1:U)

with three parts:

* a spoken-language encoder (BERT in the paper; :mod:`nar_slp.models.text_encoder`),
* a :class:`LengthRegulator` — FC layers + a final sigmoid on the ``[CLS]`` vector,
  predicting the ratio T / T_max (the first factor of Eq. 3),
* a :class:`~nar_slp.models.nar_decoder.NARDecoder` — a Transformer decoder with
  the autoregressive connection removed (no causal mask, no previous-frame input):
  its queries are positional encodings of frames 0..T-1, its keys/values the encoder
  output (Eq. 4-6, Q = PE, K = V = encoder output), so every frame is produced in
  parallel.

The decoder output is Z_lang (B, T, Z), which the frozen VAE decoder (the PGM) turns
into poses. Training (:func:`student_losses`) combines

    Eq. 8:  L_pose   = MSE(PGM(Z_lang), Y)
    Eq. 9:  L_distil = MSE(Z_lang, Z_pose),   Z_pose = LGM(Y), the teacher's mean
    Eq. 10: L_length = BCE(L̂, L),              L = T / T_max
    Eq. 11: L = L_pose + L_distil + L_length   (equal weights)

During training the true lengths are given to the decoder (teacher-forced lengths);
at inference the regulator's prediction T = round(L̂ · T_max), clamped to [1, T_max],
is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nar_slp.checkpoints import check_compatible, checkpoint_exists, load_checkpoint
from nar_slp.config import Config, StudentConfig, config_from_dict
from nar_slp.models.nar_decoder import NARDecoder
from nar_slp.models.text_encoder import (
    PretrainedTextEncoder,
    TextEncoder,
    build_text_encoder,
)
from nar_slp.utils import pick_device, round_up


@dataclass
class StudentOutput:
    """What :meth:`TextToLatentStudent.forward` returns.

    z_lang: (B, T, Z) predicted latent sequence; T = max(lengths); values at
        padded frames (``frame_mask`` False) are meaningless.
    frame_mask: (B, T) bool, True = a real frame of that item.
    length_ratio: (B,) predicted T / T_max in (0, 1) (sigmoid of ``length_logit``).
    lengths: (B,) int64 the lengths used (given, or predicted by the regulator).
    length_logit: (B,) the regulator's pre-sigmoid output (for a stable BCE).
    """

    z_lang: Tensor
    frame_mask: Tensor
    length_ratio: Tensor
    lengths: Tensor
    length_logit: Tensor


@dataclass
class StudentLosses:
    """Scalar losses of one batch (Eq. 8-11); ``distil`` is reported even when it is
    left out of ``total`` (KD off) as the latent-mismatch diagnostic."""

    total: Tensor
    pose: Tensor
    distil: Tensor
    length: Tensor


class LengthRegulator(nn.Module):
    """FC layers with ReLU, then Linear -> 1 and a sigmoid: p_L(T | X) of Eq. 3.

    Input: the pooled ``[CLS]`` vector (B, D_enc). Output: the logit (B,) of the
    length ratio T / T_max.
    """

    def __init__(self, d_in: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = d_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.net(pooled).squeeze(-1)  # (B,)


class TextToLatentStudent(nn.Module):
    """The LLM (§3.3): text -> (length, Z_lang), Eq. 3-6.

    Args:
        cfg: the student configuration.
        latent_dim: Z, the VAE's latent size (the decoder's output width).
        max_frames: T_max (frames); the regulator predicts T / T_max.
        encoder: a ready :class:`TextEncoder` (tests); default built from ``cfg``.
    """

    def __init__(
        self,
        cfg: StudentConfig,
        latent_dim: int,
        max_frames: int,
        encoder: TextEncoder | None = None,
    ) -> None:
        super().__init__()
        if max_frames < 1:
            raise ValueError(f"max_frames={max_frames} must be >= 1")
        self.cfg = cfg
        self.latent_dim = int(latent_dim)
        self.max_frames = int(max_frames)
        self.input_kind = "text"  # set by the trainer / load_student ("text" | "gloss")
        self.encoder = encoder if encoder is not None else build_text_encoder(cfg)
        self.pad_to_multiple = int(cfg.pad_to_multiple)
        self.encoder.pad_to_multiple = self.pad_to_multiple
        self.input_proj = nn.Linear(self.encoder.dim, cfg.d_model)
        self.length_regulator = LengthRegulator(self.encoder.dim, cfg.length_hidden)
        self.decoder = NARDecoder(
            cfg.d_model,
            cfg.n_layers,
            cfg.n_heads,
            cfg.d_ff,
            cfg.dropout,
            latent_dim,
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """Xavier-uniform for every matrix the student owns, zero biases; a Hugging
        Face encoder keeps its weights (pretrained ones, or for ``"scratch"`` the
        architecture's own random init)."""
        pretrained = isinstance(self.encoder, PretrainedTextEncoder)
        for name, p in self.named_parameters():
            if pretrained and name.startswith("encoder."):
                continue
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def lengths_from_ratio(self, ratio: Tensor) -> Tensor:
        """T = round(ratio · T_max) clamped to [1, T_max]; (B,) float -> (B,) int64."""
        return (
            torch.round(ratio.float() * self.max_frames)
            .clamp(1, self.max_frames)
            .long()
        )

    def forward(self, texts: list[str], lengths: Tensor | None = None) -> StudentOutput:
        """Encode ``texts`` and decode a latent sequence per text.

        Args:
            texts: B input strings (spoken text, or glosses in G2P mode).
            lengths: (B,) int lengths to decode (training: the true lengths); None ->
                the regulator's prediction.
        """
        device = self.device
        enc = self.encoder.encode(texts, device)
        length_logit = self.length_regulator(enc.pooled)  # (B,)
        ratio = torch.sigmoid(length_logit.float())  # (B,)
        if lengths is None:
            lengths = self.lengths_from_ratio(ratio.detach())
        else:
            lengths = torch.as_tensor(lengths, device=device).long()
            if lengths.shape != (len(texts),):
                raise ValueError(
                    f"lengths has shape {tuple(lengths.shape)}; expected "
                    f"({len(texts)},), one length per text"
                )
            if (lengths < 1).any():
                raise ValueError(f"lengths must be >= 1, got {lengths.tolist()}")
        # padded to a multiple (StudentConfig.pad_to_multiple): bounded shapes
        t = round_up(int(lengths.max()), self.pad_to_multiple)
        frame_mask = torch.arange(t, device=device)[None] < lengths[:, None]  # (B, T)
        memory = self.input_proj(enc.hidden)  # (B, L, D)
        z_lang = self.decoder(memory, enc.mask, frame_mask)  # (B, T, Z)
        return StudentOutput(
            z_lang=z_lang,
            frame_mask=frame_mask,
            length_ratio=ratio,
            lengths=lengths,
            length_logit=length_logit,
        )


def build_student(cfg: Config) -> TextToLatentStudent:
    """The student of ``cfg``: Z = ``cfg.vae.latent_dim``, T_max =
    ``cfg.data.max_frames``."""
    encoder = build_text_encoder(cfg.student)
    return TextToLatentStudent(
        cfg.student, cfg.vae.latent_dim, cfg.data.max_frames, encoder=encoder
    )


# --------------------------------------------------------------------------- losses


def _masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean of (pred - target)^2 over real frames x values; (B, T, C), mask (B, T).

    ``torch.where`` (not a multiplication) keeps padding out even if it holds inf/nan.
    """
    sq = (pred.float() - target.float()) ** 2  # (B, T, C)
    sq = torch.where(mask[..., None], sq, torch.zeros_like(sq))
    n = mask.sum() * pred.shape[-1]
    return sq.sum() / n.clamp(min=1)


def student_losses(
    out: StudentOutput,
    batch: Any,
    vae: nn.Module,
    max_frames: int,
    use_kd: bool = True,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> StudentLosses:
    """Eq. 8-11 for one batch decoded with the true lengths.

    Args:
        out: the student's output for ``batch`` (``lengths = batch.lengths``).
        batch: a ``PoseBatch``: ``poses`` (B, T, J, K) in [0, 1], ``mask`` (B, T) bool,
            ``lengths`` (B,).
        vae: the frozen pose VAE; ``vae.decode`` is the PGM, ``vae.lgm`` (the encoder
            mean) the LGM teacher. Gradients flow through the PGM into Z_lang; the
            teacher runs under ``no_grad``.
        max_frames: T_max for the length target T / T_max.
        use_kd: add L_distil to the total (False = "w/o KD"; it is still reported).
        weights: (pose, distil, length) weights; the paper uses equal weights.

    All frame terms average over real frames only (padding never enters a mean).
    """
    poses, mask, lengths = batch.poses, batch.mask, batch.lengths
    b, t = mask.shape
    if out.z_lang.shape[:2] != (b, t):
        raise ValueError(
            f"student output has (B, T) = {tuple(out.z_lang.shape[:2])} but the "
            f"batch has ({b}, {t}); decode with lengths=batch.lengths"
        )
    mask = mask.bool() & out.frame_mask
    y = poses.reshape(b, t, -1)  # (B, T, F)
    y_hat = vae.decode(out.z_lang)  # (B, T, F)
    pose = _masked_mse(y_hat, y, mask)
    with torch.no_grad():
        z_pose = vae.lgm(y)  # (B, T, Z)
    distil = _masked_mse(out.z_lang, z_pose, mask)
    target = (lengths.float() / max_frames).clamp(0.0, 1.0).to(out.length_logit.device)
    # BCE on the logit == BCE(sigmoid(logit), target) of Eq. 10, without log(0).
    length = F.binary_cross_entropy_with_logits(out.length_logit.float(), target)
    w_pose, w_distil, w_length = weights
    total = w_pose * pose + w_length * length
    if use_kd:
        total = total + w_distil * distil
    return StudentLosses(total=total, pose=pose, distil=distil, length=length)


# ------------------------------------------------------------- checkpoint and loading

BEST = "best"  # sub-folder of a student checkpoint holding the dev-selected epoch

# Settings that change the student's architecture (or its output space): a checkpoint
# trained with different values cannot be loaded.
ARCH_KEYS = [
    "vae.latent_dim",
    "data.max_frames",
    "student.text_encoder",
    "student.scratch_like",
    "student.scratch_vocab",
    "student.pooling",
    "student.d_model",
    "student.n_layers",
    "student.n_heads",
    "student.d_ff",
    "student.length_hidden",
]


def check_student_extra(
    extra: dict[str, Any],
    where: Path,
    n_values: int | None = None,
    input_kind: str | None = None,
) -> None:
    """Check a checkpoint's bookkeeping: it holds a student, trained on a VAE with
    ``n_values`` values per frame and on ``input_kind`` inputs (None: not checked)."""
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
    which: str = BEST,
) -> TextToLatentStudent:
    """Rebuild a trained student from a ``train_student`` folder (eval mode).

    Args:
        directory: the checkpoint folder (``<run>/students/<key>/seed<s>``).
        device: where to put the model.
        cfg: if given, it must agree with the checkpoint on :data:`ARCH_KEYS`
            (else ``ValueError``); the architecture always comes from the
            checkpoint's own config.
        which: ``"best"`` (default): the epoch selected on dev, from
            ``directory/best`` (falls back to the last epoch when the run had no dev
            set, or predates best-epoch selection); ``"last"``: the last epoch.

    ``model.input_kind`` says whether it reads texts or glosses;
    ``model.trained_epoch`` which epoch the weights are from (None if unknown).
    """
    if which not in (BEST, "last"):
        raise ValueError(f"which={which!r}; valid: 'best', 'last'")
    directory = Path(directory)
    source = directory
    if which == BEST and checkpoint_exists(directory / BEST):
        source = directory / BEST
    ckpt = load_checkpoint(source, device="cpu", with_optimizer=False)
    check_student_extra(ckpt.extra, source)
    if cfg is not None:
        check_compatible(ckpt.config, cfg.to_dict(), ARCH_KEYS, source)
    saved_cfg = config_from_dict(ckpt.config)
    model = build_student(saved_cfg)
    missing, unexpected = model.load_state_dict(ckpt.state_dict, strict=False)
    if ckpt.extra.get("encoder_weights") == "package":  # shipped weights: the frozen
        missing = [k for k in missing if not k.startswith("encoder.")]  # encoder's own
    if missing or unexpected:
        raise ValueError(
            f"checkpoint {source} does not match the student its config describes: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
        )
    model.input_kind = ckpt.extra.get("input_kind", "text")
    model.trained_epoch = ckpt.extra.get("epoch")
    return model.to(pick_device(device)).eval()
