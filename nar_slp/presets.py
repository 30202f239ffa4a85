"""The three presets: what each one changes in the configuration's defaults.

``smoke``    CI-fast: tiny corpus, tiny models, the whole pipeline in minutes.
``default``  the bundled corpus at a CPU-sized scale; its chapters took 56-58 min in
             fresh-clone runs on CI's 2-core CPU kind (2026-12-03; where the time
             goes: benchmarks/budget_projection.py).
``paper``    the paper's hyper-parameters (§4.2) for PHOENIX-2014T on a GPU: d 768,
             8 layers, 8 heads, ff 2048, dropout 0.1, AdamW lr 2e-4, batch 40,
             500 epochs, VAE λ = 1e-4.

A data table, importing nothing: ``PRESET_CHANGES[preset][section]`` holds keyword
arguments of that section's dataclass in :mod:`nar_slp.config`; a section that a
preset does not name keeps its defaults. :func:`nar_slp.config.get_config` builds
the presets from it.
"""

from __future__ import annotations

from typing import Any

PRESET_CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "baseline": dict(
            pt_d_model=32,
            pt_layers=1,
            pt_heads=2,
            pt_d_ff=64,
            pt_epochs=2,
            pt_future_frames=3,
            nslpg_d_model=32,
            nslpg_layers=1,
            nslpg_heads=2,
            nslpg_d_ff=64,
            nslpg_epochs=3,
            nslpg_ft_epochs=1,
        ),
        "corpus": dict(n_train=64, n_dev=12, n_test=12, n_signers=6),
        "data": dict(max_frames=300),
        "vae": dict(hidden=(64, 32), latent_dim=8, epochs=2, batch_size=256),
        "student": dict(
            scratch_layers=1,
            scratch_d_model=32,
            d_model=32,
            n_layers=1,
            n_heads=2,
            d_ff=64,
            length_hidden=(32,),
            batch_size=16,
            epochs=2,
        ),
        "eval": dict(
            tae_d_model=32,
            tae_layers=1,
            tae_heads=2,
            tae_latent=16,
            tae_epochs=2,
            slt_d_model=32,
            slt_layers=1,
            slt_heads=2,
            slt_epochs=2,
            beam_size=1,
            batch_size=16,
        ),
    },
    "default": {},
    "paper": {
        "baseline": dict(
            pt_d_model=512,
            pt_layers=2,
            pt_heads=8,
            pt_d_ff=2048,
            pt_dropout=0.1,
            pt_epochs=100,
            nslpg_d_model=768,
            nslpg_layers=8,
            nslpg_heads=8,
            nslpg_d_ff=2048,
            nslpg_dropout=0.1,
            nslpg_lr=2e-4,
            nslpg_epochs=100,
            nslpg_ft_epochs=20,
            nslpg_ft_lr=5e-5,
            nslpg_batch_size=40,
        ),
        # PHOENIX-2014T sized splits when the bundled corpus stands in for PHOENIX.
        "corpus": dict(n_train=7096, n_dev=519, n_test=642),
        "data": dict(max_frames=512),
        "vae": dict(hidden=(1024, 512), latent_dim=128, epochs=100, batch_size=1024),
        "student": dict(
            text_encoder="bert-base-german-cased",
            scratch_like="bert-base-german-cased",
            finetune_encoder=True,
            scratch_layers=8,
            scratch_d_model=768,
            d_model=768,
            n_layers=8,
            n_heads=8,
            d_ff=2048,
            dropout=0.1,
            length_hidden=(768, 256),
            lr=2e-4,
            encoder_lr=0.0,  # §4.2 gives one learning rate
            batch_size=40,
            epochs=500,
        ),
        "eval": dict(
            tae_d_model=256,
            tae_layers=4,
            tae_heads=8,
            tae_latent=128,
            tae_epochs=100,
            slt_d_model=512,
            slt_layers=3,
            slt_heads=8,
            slt_epochs=100,
        ),
    },
}
