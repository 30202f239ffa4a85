"""Checkpoint folders of the baselines of Table 1 (§4.4): what they record, and the
loaders that rebuild a trained model from them.

A PT or NSLP-G folder (``<run>/baselines/<key>/``, written by
:mod:`nar_slp.training.baseline_trainer`) holds the weights and, as its config, the
architecture (:func:`baseline_arch`: the model kind, the model's own section of the
configuration, ``cfg.pt`` or ``cfg.nslpg``, under the key ``"pt"`` / ``"nslpg"``,
T_max and the vocabularies; for NSLP-G also its GS / +ft flags, the pose VAE's shape
and the mean training length, the main rows' output length), with the training
history and the selected epoch as extras. :func:`load_pt` and :func:`load_nslpg`
need nothing else: no run config, no VAE folder. Checkpoints written before each
model had its own section record a ``"baseline"`` section of flat ``pt_*`` /
``nslpg_*`` fields instead; the loaders read them through
:data:`nar_slp.config.LEGACY_KEYS`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from nar_slp.checkpoints import load_checkpoint, save_checkpoint
from nar_slp.config import Config, VAEConfig, config_from_dict
from nar_slp.models.nslp_g import NSLPG, build_nslpg
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.models.progressive_transformer import ProgressiveTransformer, build_pt
from nar_slp.models.word_encoder import WordVocab

_SECTIONS = ("pt", "nslpg")  # the baseline kinds, each its own config section


def baseline_arch(model_kind: str, cfg: Config, **more: Any) -> dict[str, Any]:
    """The architecture record of a baseline checkpoint (its config); ``model_kind``
    ("pt" | "nslpg") is also the section of ``cfg`` it records."""
    if model_kind not in _SECTIONS:
        raise ValueError(
            f"baseline kind must be one of {_SECTIONS}, got {model_kind!r}"
        )
    return {
        "kind": model_kind,
        model_kind: dataclasses.asdict(getattr(cfg, model_kind)),
        "max_frames": cfg.data.max_frames,
        **more,
    }


def save_pt(
    directory: str | Path,
    model: ProgressiveTransformer,
    cfg: Config,
    variant: str,
    vocab: WordVocab,
    history: list[dict[str, float]],
    selected: int,
) -> None:
    """Write a trained PT of ``variant`` with its history and selected epoch."""
    save_checkpoint(
        directory,
        model,
        baseline_arch("pt", cfg, variant=variant, vocab=vocab.to_list()),
        extra={"history": history, "selected_epoch": selected},
    )


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


def _saved_config(c: dict) -> Config:
    """The configuration a baseline checkpoint's ``config.json`` describes: its
    model's section (``"pt"`` / ``"nslpg"``, or the ``"baseline"`` section of flat
    ``pt_*`` / ``nslpg_*`` fields of older checkpoints, translated by
    :func:`nar_slp.config.config_from_dict`) and sequence length over the
    ``default`` preset."""
    d: dict[str, Any] = {"preset": "default", "data": {"max_frames": c["max_frames"]}}
    for section in (*_SECTIONS, "baseline"):
        if section in c:
            d[section] = c[section]
    return config_from_dict(d)


def load_pt(directory: str | Path, device: str = "cpu") -> ProgressiveTransformer:
    """The PT saved in ``directory`` (by :func:`save_pt`), in eval mode."""
    ckpt = load_checkpoint(directory, with_optimizer=False)
    c = ckpt.config
    if c.get("kind") != "pt":
        raise ValueError(f"{directory} is not a Progressive Transformers checkpoint")
    cfg = _saved_config(c)
    model = build_pt(
        cfg.pt, c["variant"], WordVocab(c["vocab"]), max_frames=cfg.data.max_frames
    )
    model.load_state_dict(ckpt.state_dict)
    return model.to(device).eval()


def load_nslpg(directory: str | Path, device: str = "cpu") -> NSLPG:
    """The NSLP-G saved in ``directory`` (by :func:`save_nslpg`), its VAE inside,
    in eval mode."""
    ckpt = load_checkpoint(directory, with_optimizer=False)
    c = ckpt.config
    if c.get("kind") != "nslpg":
        raise ValueError(f"{directory} is not an NSLP-G checkpoint")
    cfg = _saved_config(c)
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
