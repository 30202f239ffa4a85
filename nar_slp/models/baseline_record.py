"""The checkpoint record of the baselines of Table 1 (§4.4), shared by PT
(:mod:`nar_slp.models.progressive_transformer`) and NSLP-G
(:mod:`nar_slp.models.nslp_g`), whose savers and loaders sit beside their models.

A PT or NSLP-G folder (``<run>/baselines/<key>/``) holds the weights and, as its
config, the architecture (:func:`baseline_arch`: the model kind, the model's own
section of the configuration, ``cfg.pt`` or ``cfg.nslpg``, under the key ``"pt"`` /
``"nslpg"``, T_max and the vocabularies; for NSLP-G also its GS / +ft flags, the pose
VAE's shape and the mean training length, the main rows' output length), with the
training history and the selected epoch as extras. The loaders need nothing else: no
run config, no VAE folder.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nar_slp.config import Config, config_from_dict

SECTIONS = ("pt", "nslpg")  # the baseline kinds, each its own config section


def baseline_arch(model_kind: str, cfg: Config, **more: Any) -> dict[str, Any]:
    """The architecture record of a baseline checkpoint (its config); ``model_kind``
    ("pt" | "nslpg") is also the section of ``cfg`` it records."""
    if model_kind not in SECTIONS:
        raise ValueError(f"baseline kind must be one of {SECTIONS}, got {model_kind!r}")
    return {
        "kind": model_kind,
        model_kind: dataclasses.asdict(getattr(cfg, model_kind)),
        "max_frames": cfg.data.max_frames,
        **more,
    }


def saved_config(c: dict) -> Config:
    """The configuration a baseline checkpoint's ``config.json`` describes: its
    model's section (``"pt"`` / ``"nslpg"``) and sequence length over the
    ``default`` preset."""
    d: dict[str, Any] = {"preset": "default", "data": {"max_frames": c["max_frames"]}}
    for section in SECTIONS:
        if section in c:
            d[section] = c[section]
    return config_from_dict(d)
