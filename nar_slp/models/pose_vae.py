"""The per-frame pose VAE of §3.2: its encoder is the teacher LGM, its decoder the PGM.

Eq. 1: ``enc(y) = q(z|y)``, ``dec(z) = p(y|z)`` for a single pose frame y (F = J·K = 150
values normalised to [0, 1]). The encoder outputs the mean μ and log-variance log σ² of
a diagonal Gaussian; training samples ``z = μ + σ·ε`` (reparameterisation).

Eq. 2: ``L_vae(y) = -E_q[log p(y|z)] + λ·KL(q(z|y) || N(0, I))`` with λ = 1e-4 (§4.2).

Eq. 7: the reconstruction term is the binary cross-entropy between the target values
and the decoder's element-wise sigmoid (a multivariate Bernoulli reading of [0, 1]
joint coordinates), averaged over the N values.

§4.2: "LGM and PGM have 3 linear layers with ReLU and PGM has Sigmoid at the end";
Xavier initialisation. The widths are ours (``VAEConfig.hidden``, ``latent_dim``)::

    encoder (LGM): F -> hidden[0] -> hidden[1] -> 2Z   (μ, log σ²)
    decoder (PGM): Z -> hidden[1] -> hidden[0] -> F    -> sigmoid

After pre-training both halves are frozen (:func:`freeze`): the student is distilled
towards ``lgm(y) = μ`` (Eq. 9) and decodes its latents through ``decode`` (the PGM).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F_
from torch import nn

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import VAEConfig
from nar_slp.skeleton import FRAME_SIZE
from nar_slp.utils import pick_device

RECON_LOSSES = ("bce", "mse")


@dataclass
class VAEOutput:
    """What :meth:`PoseVAE.forward` returns; poses keep the input's layout.

    recon:  (..., F) or (..., J, K) decoded pose in (0, 1) (the PGM's output)
    logits: same shape, pre-sigmoid values (for a numerically stable BCE)
    mu:     (..., Z) posterior mean (the LGM's output, the distillation target)
    logvar: (..., Z) posterior log-variance
    z:      (..., Z) sampled latent in training mode, ``mu`` in eval mode
    """

    recon: torch.Tensor
    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


@dataclass
class VAELoss:
    """Scalar terms of Eq. 2: ``total = recon + kl_weight * kl``."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` with ReLU between them."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class PoseVAE(nn.Module):
    """Per-frame VAE over flattened poses (Eq. 1-2); see the module docstring.

    Poses may be given flat, ``(..., F)``, or per joint, ``(..., J, K)`` with
    ``J * K == n_values``: a trailing dimension equal to ``n_values`` is read as flat,
    otherwise the last two dimensions are flattened. Latents are ``(..., Z)``.
    """

    def __init__(self, cfg: VAEConfig, n_values: int = FRAME_SIZE) -> None:
        super().__init__()
        if len(cfg.hidden) != 2:
            raise ValueError(
                f"VAEConfig.hidden must have 2 widths (3 linear layers per side, "
                f"§4.2), got {cfg.hidden!r}"
            )
        if n_values <= 0 or cfg.latent_dim <= 0 or min(cfg.hidden) <= 0:
            raise ValueError(
                f"PoseVAE sizes must be positive: n_values={n_values}, "
                f"hidden={cfg.hidden}, latent_dim={cfg.latent_dim}"
            )
        self.n_values = int(n_values)
        self.latent_dim = int(cfg.latent_dim)
        self.hidden = tuple(int(h) for h in cfg.hidden)
        h0, h1 = self.hidden
        self.encoder = _mlp([self.n_values, h0, h1, 2 * self.latent_dim])
        self.decoder = _mlp([self.latent_dim, h1, h0, self.n_values])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform weights, zero biases (§4.2)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    # ------------------------------------------------------------------ shapes

    def _flatten(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == self.n_values:
            return x  # (..., F)
        if x.dim() >= 2 and x.shape[-2] * x.shape[-1] == self.n_values:
            return x.flatten(-2)  # (..., J, K) -> (..., F)
        raise ValueError(
            f"PoseVAE expects poses of shape (..., {self.n_values}) or (..., J, K) "
            f"with J*K={self.n_values}, got {tuple(x.shape)}"
        )

    def _check_latent(self, z: torch.Tensor) -> None:
        if z.shape[-1] != self.latent_dim:
            raise ValueError(
                f"PoseVAE latents must have last dimension latent_dim="
                f"{self.latent_dim}, got shape {tuple(z.shape)}"
            )

    # ------------------------------------------------------------- LGM / PGM

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|y) of Eq. 1: poses (..., F) or (..., J, K) -> mu, logvar (..., Z)."""
        h = self.encoder(self._flatten(x))  # (..., 2Z)
        mu, logvar = h.chunk(2, dim=-1)  # (..., Z) each
        return mu, logvar

    def lgm(self, x: torch.Tensor) -> torch.Tensor:
        """The teacher LGM: the deterministic latent ``mu`` (..., Z) of each frame.

        This is ``Z_pose`` of the distillation loss (Eq. 9).
        """
        return self.encode(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid decoder output: latents (..., Z) -> (..., F)."""
        self._check_latent(z)
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The PGM, p(y|z) of Eq. 1: latents (..., Z) -> poses (..., F) in (0, 1)."""
        return torch.sigmoid(self.decode_logits(z))

    def reparameterise(
        self,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I); ``generator`` makes eps
        reproducible independently of the global RNG (used for exact resumption)."""
        eps = torch.randn(
            mu.shape, generator=generator, device=mu.device, dtype=mu.dtype
        )
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode, sample (training) or take the mean (eval), decode.

        x: (..., F) or (..., J, K) poses in [0, 1]; recon/logits come back in the
        same layout.
        """
        flat = self._flatten(x)  # (..., F)
        mu, logvar = self.encode(flat)  # (..., Z)
        z = self.reparameterise(mu, logvar, generator) if self.training else mu
        logits = self.decode_logits(z)  # (..., F)
        if flat is not x:
            logits = logits.unflatten(-1, x.shape[-2:])  # (..., J, K)
        return VAEOutput(
            recon=torch.sigmoid(logits), logits=logits, mu=mu, logvar=logvar, z=z
        )


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma²) || N(0, I)), summed over the latent dims, mean over frames.

    mu, logvar: (..., Z) -> scalar.
    """
    per_frame = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(-1)  # (...)
    return per_frame.mean()


def vae_loss(
    out: VAEOutput,
    target: torch.Tensor,
    recon_loss: str = "bce",
    kl_weight: float = 1e-4,
) -> VAELoss:
    """Eq. 2 with the reconstruction of Eq. 7 ("bce") or plain MSE ("mse", NSLP-G).

    target: poses in [0, 1], same number of values as ``out.recon`` (any layout).

    Reductions: the reconstruction is a *mean over all values* (frames × F), exactly
    the 1/N of Eq. 7; the KL is *summed over the Z latent dims and averaged over
    frames*. Per frame the objective is therefore (1/F)·Σ_F BCE + λ·KL, which equals
    the textbook ELBO (reconstruction summed over values) scaled by 1/F with a
    β = F·λ = 150 · 1e-4 = 0.015 on the KL: λ = 1e-4 weighs the prior lightly, the
    latents stay informative (hands are reconstructed, not averaged away).
    """
    if recon_loss not in RECON_LOSSES:
        raise ValueError(
            f"recon_loss={recon_loss!r} is not one of {', '.join(RECON_LOSSES)}"
        )
    logits = out.logits.reshape(-1)  # (N,)
    target = target.reshape(-1).to(logits.dtype)  # (N,)
    if target.numel() != logits.numel():
        raise ValueError(
            f"vae_loss: target has {target.numel()} values but the reconstruction "
            f"has {logits.numel()}"
        )
    if recon_loss == "bce":
        # BCE on logits: log-sigmoid is computed stably, no clamping of recon needed.
        recon = F_.binary_cross_entropy_with_logits(logits, target)
    else:
        recon = F_.mse_loss(torch.sigmoid(logits), target)
    kl = kl_divergence(out.mu, out.logvar)
    return VAELoss(total=recon + kl_weight * kl, recon=recon, kl=kl)


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients into ``module`` and put it in eval mode; returns it.

    Used for the pre-trained LGM/PGM while the student trains. A parent's later
    ``.train()`` call would switch it back to training mode; for the VAE that only
    matters to ``forward`` (sampling), never to ``lgm``/``decode``.
    """
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


def load_vae(directory: str | Path, device: str | torch.device = "cpu") -> PoseVAE:
    """The pre-trained VAE from ``directory``, frozen and in eval mode (LGM + PGM)."""
    device = pick_device(device)
    ckpt = load_checkpoint(directory, device="cpu", with_optimizer=False)
    vae_dict = ckpt.config.get("vae")
    if not isinstance(vae_dict, dict) or "n_values" not in ckpt.config:
        raise ValueError(
            f"checkpoint {directory} is not a pose VAE checkpoint "
            "(its config.json has no 'vae' section or 'n_values')"
        )
    fields_ = set(VAEConfig.__dataclass_fields__)
    # the architecture only: ``train`` (and the flat lr/epochs of older checkpoints)
    # does not shape the model
    kwargs = {k: v for k, v in vae_dict.items() if k in fields_ and k != "train"}
    if "hidden" in kwargs:
        kwargs["hidden"] = tuple(kwargs["hidden"])
    model = PoseVAE(VAEConfig(**kwargs), n_values=int(ckpt.config["n_values"]))
    try:
        model.load_state_dict(ckpt.state_dict)
    except RuntimeError as err:
        raise ValueError(
            f"checkpoint {directory}: weights do not match its config ({err})"
        ) from err
    return freeze(model.to(device))
