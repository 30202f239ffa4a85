"""The three presets: what each one changes in the configuration's defaults.

``smoke``    CI-fast: tiny corpus, tiny models, the whole pipeline in minutes.
``default``  the bundled corpus at a CPU-sized scale: the committed run, trained once
             (``make retrain``) and shipped in ``nar_slp/shipped/default``.
``paper``    the paper's hyper-parameters (§4.2) for PHOENIX-2014T on a GPU: d 768,
             8 layers, 8 heads, ff 2048, dropout 0.1, AdamW lr 2e-4, batch 40,
             500 epochs, VAE λ = 1e-4.

A data table, importing nothing: ``PRESET_CHANGES[preset][section]`` holds keyword
arguments of that section's dataclass in :mod:`nar_slp.config` (a dict for a nested
one: ``train=dict(epochs=2)`` changes those fields of the section's ``train``); a
section that a preset does not name keeps its defaults.
:func:`nar_slp.config.get_config` builds
the presets from it.
"""

from __future__ import annotations

from typing import Any

PRESET_CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "corpus": dict(n_train=64, n_dev=12, n_test=12, n_signers=6),
        "data": dict(max_frames=300),
        "vae": dict(
            hidden=(64, 32), latent_dim=8, train=dict(epochs=2, batch_size=256)
        ),
        "student": dict(
            d_model=32,
            n_layers=1,
            n_heads=2,
            d_ff=64,
            length_hidden=(32,),
            train=dict(batch_size=16, epochs=2),
        ),
        "pt": dict(
            d_model=32,
            n_layers=1,
            n_heads=2,
            d_ff=64,
            future_frames=3,
            train=dict(epochs=2),
        ),
        "nslpg": dict(
            d_model=32,
            n_layers=1,
            n_heads=2,
            d_ff=64,
            ft_epochs=1,
            train=dict(epochs=3),
        ),
        "tae": dict(d_model=32, n_layers=1, n_heads=2, latent=16, train=dict(epochs=2)),
        "slt": dict(d_model=32, n_layers=1, n_heads=2, train=dict(epochs=2)),
        "eval": dict(beam_size=1, batch_size=16),
    },
    "default": {},
    "paper": {
        # PHOENIX-2014T sized splits when the bundled corpus stands in for PHOENIX.
        "corpus": dict(n_train=7096, n_dev=519, n_test=642),
        "data": dict(max_frames=512),
        "vae": dict(
            hidden=(1024, 512), latent_dim=128, train=dict(epochs=100, batch_size=1024)
        ),
        "student": dict(
            text_encoder="bert-base-german-cased",
            scratch_like="bert-base-german-cased",
            finetune_encoder=True,
            d_model=768,
            n_layers=8,
            n_heads=8,
            d_ff=2048,
            dropout=0.1,
            length_hidden=(768, 256),
            encoder_lr=0.0,  # §4.2 gives one learning rate
            train=dict(lr=2e-4, batch_size=40, epochs=500),
        ),
        "pt": dict(
            d_model=512,
            n_layers=2,
            n_heads=8,
            d_ff=2048,
            dropout=0.1,
            train=dict(epochs=100),
        ),
        "nslpg": dict(
            d_model=768,
            n_layers=8,
            n_heads=8,
            d_ff=2048,
            dropout=0.1,
            ft_epochs=20,
            ft_lr=5e-5,
            train=dict(lr=2e-4, epochs=100, batch_size=40),
        ),
        "tae": dict(
            d_model=256, n_layers=4, n_heads=8, latent=128, train=dict(epochs=100)
        ),
        "slt": dict(d_model=512, n_layers=3, n_heads=8, train=dict(epochs=100)),
    },
}
