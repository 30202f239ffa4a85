"""The per-frame pose VAE (LGM + PGM, §3.2) and its trainer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.models.pose_vae import (
    PoseVAE,
    VAEOutput,
    freeze,
    kl_divergence,
    load_vae,
    vae_loss,
)
from nar_slp.skeleton import FRAME_SIZE, GROUPS, NUM_COORDS, NUM_JOINTS
from nar_slp.training.vae_trainer import (
    mean_pose_error,
    reconstruction_error_by_group,
    train_vae,
)


def _cfg(**overrides):
    base = {
        "vae__train__batch_size": 32,
        "vae__train__epochs": 2,
        "vae__train__lr": 3e-3,
    }
    return get_config("smoke", **{**base, **overrides})


def _vae(**overrides) -> PoseVAE:
    torch.manual_seed(0)
    return PoseVAE(_cfg(**overrides).vae)


def _poses(n_seq: int = 4, t: int = 12, seed: int = 0) -> list[np.ndarray]:
    """Random sequences (T, J, K) in [0, 1] with some structure to learn."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.8, size=(NUM_JOINTS, NUM_COORDS))
    return [
        np.clip(
            base + 0.1 * rng.standard_normal((t, NUM_JOINTS, NUM_COORDS)), 0, 1
        ).astype(np.float32)
        for _ in range(n_seq)
    ]


class _AffineNormaliser:
    """Stand-in for nar_slp.data.normaliser.Normaliser: only .inverse is used."""

    def __init__(self, scale: float, offset: float) -> None:
        self.scale, self.offset = scale, offset

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.offset


# ------------------------------------------------------------------------ model


def test_shapes_flat_and_per_joint():
    vae = _vae()
    z_dim = vae.latent_dim
    x = torch.rand(3, 5, NUM_JOINTS, NUM_COORDS)  # (B, T, J, K)
    out = vae(x)
    assert isinstance(out, VAEOutput)
    assert out.recon.shape == x.shape and out.logits.shape == x.shape
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 5, z_dim)
    flat = x.flatten(-2)  # (B, T, F)
    assert vae(flat).recon.shape == (3, 5, FRAME_SIZE)
    mu, logvar = vae.encode(x)
    assert torch.equal(mu, vae.encode(flat)[0]) and torch.equal(vae.lgm(x), mu)
    assert vae.decode(torch.randn(7, z_dim)).shape == (7, FRAME_SIZE)
    with pytest.raises(ValueError, match="expects poses of shape"):
        vae(torch.rand(4, 149))
    with pytest.raises(ValueError, match="latent_dim"):
        vae.decode(torch.rand(4, z_dim + 1))


def test_layers_are_three_linear_per_side_with_xavier_init():
    vae = _vae()
    enc = [m for m in vae.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m for m in vae.decoder if isinstance(m, torch.nn.Linear)]
    h0, h1 = vae.hidden
    assert [(m.in_features, m.out_features) for m in enc] == [
        (FRAME_SIZE, h0),
        (h0, h1),
        (h1, 2 * vae.latent_dim),
    ]
    assert [(m.in_features, m.out_features) for m in dec] == [
        (vae.latent_dim, h1),
        (h1, h0),
        (h0, FRAME_SIZE),
    ]
    for m in enc + dec:
        bound = math.sqrt(6.0 / (m.in_features + m.out_features))
        assert m.weight.abs().max() <= bound and torch.all(m.bias == 0)


def test_decode_is_in_open_unit_interval():
    vae = _vae()
    z = 3 * torch.randn(64, vae.latent_dim)
    y = vae.decode(z)
    assert torch.all(y > 0) and torch.all(y < 1) and y.std() > 0.1
    assert torch.equal(y, torch.sigmoid(vae.decode_logits(z)))


def test_eval_mode_is_deterministic_and_train_mode_samples():
    vae = _vae()
    x = torch.rand(6, FRAME_SIZE)
    vae.eval()
    a, b = vae(x), vae(x)
    assert torch.equal(a.z, a.mu) and torch.equal(a.recon, b.recon)
    vae.train()
    c = vae(x)
    assert not torch.equal(c.z, c.mu)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(vae(x, generator=g1).z, vae(x, generator=g2).z)


def test_kl_is_zero_for_the_prior_and_positive_otherwise():
    zeros = torch.zeros(4, 8)
    assert kl_divergence(zeros, zeros).item() == 0.0
    # KL(N(1, 1) || N(0, 1)) = 0.5 per latent dim, summed over Z, mean over frames
    assert kl_divergence(torch.ones(4, 8), zeros).item() == pytest.approx(4.0)


def test_bce_loss_matches_hand_computation():
    logits = torch.tensor([[0.0, 2.0], [-1.0, 0.5]])
    target = torch.tensor([[0.5, 1.0], [0.0, 0.25]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.zeros(2, 2)
    out = VAEOutput(torch.sigmoid(logits), logits, mu, logvar, mu)
    p = torch.sigmoid(logits)
    # Eq. 7 by hand: -1/N Σ y log p + (1 - y) log(1 - p), N = 4 values
    bce = -(target * p.log() + (1 - target) * (1 - p).log()).mean().item()
    kl = (0.5 * 1.0**2 + 0.0) / 2  # one frame has mu=1 in one dim; mean over 2
    loss = vae_loss(out, target, recon_loss="bce", kl_weight=0.1)
    assert loss.recon.item() == pytest.approx(bce, rel=1e-6)
    assert loss.kl.item() == pytest.approx(kl)
    assert loss.total.item() == pytest.approx(bce + 0.1 * kl, rel=1e-6)
    mse = vae_loss(out, target, recon_loss="mse", kl_weight=0.0)
    assert mse.recon.item() == pytest.approx(((p - target) ** 2).mean().item())
    with pytest.raises(ValueError, match="recon_loss"):
        vae_loss(out, target, recon_loss="l1")


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    vae = _vae()
    x = torch.from_numpy(np.concatenate(_poses(2, 16))).flatten(-2)  # (32, F)
    opt = torch.optim.AdamW(vae.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(30):
        loss = vae_loss(vae(x, generator=g), x, "bce", 1e-4)
        opt.zero_grad()
        loss.total.backward()
        opt.step()
        losses.append(loss.total.item())
    assert losses[-1] < losses[0] - 0.01


def test_freeze_stops_gradients_and_sets_eval():
    vae = freeze(_vae())
    assert not vae.training
    assert not any(p.requires_grad for p in vae.parameters())
    z = torch.randn(2, vae.latent_dim, requires_grad=True)
    vae.decode(z).sum().backward()  # gradients still flow *through* the PGM
    assert z.grad is not None and all(p.grad is None for p in vae.parameters())


# ---------------------------------------------------------------------- trainer


def test_train_vae_writes_checkpoint_and_history(tmp_path):
    cfg = _cfg()
    res = train_vae(cfg, _poses(), _poses(2, seed=1), tmp_path / "vae", "cpu", log=None)
    assert [h["epoch"] for h in res.history] == [1, 2]
    keys = {"epoch", "train_total", "train_recon", "train_kl"}
    assert keys | {"dev_recon_bce", "dev_mse", "seconds"} == set(res.history[0])
    assert res.history[-1]["train_total"] < res.history[0]["train_total"]
    assert json.loads((tmp_path / "vae" / "history.json").read_text()) == res.history
    loaded = load_vae(tmp_path / "vae")
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for name, t in res.model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], t)
    x = torch.rand(3, FRAME_SIZE)
    assert torch.equal(loaded.lgm(x), res.model.lgm(x))


def test_resume_equals_uninterrupted(tmp_path):
    train, dev = _poses(), _poses(2, seed=1)
    full = train_vae(_cfg(), train, dev, tmp_path / "full", "cpu", log=None)
    # "interrupted" after epoch 1, then resumed for the second epoch
    train_vae(
        _cfg(vae__train__epochs=1), train, dev, tmp_path / "part", "cpu", log=None
    )
    resumed = train_vae(_cfg(), train, dev, tmp_path / "part", "cpu", log=None)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    for name, t in full.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], t), name
    a = load_checkpoint(tmp_path / "full").optimizer_state
    b = load_checkpoint(tmp_path / "part").optimizer_state
    for pid, st in a["state"].items():
        for k, v in st.items():
            assert torch.equal(v, b["state"][pid][k])


def test_resume_with_other_latent_dim_is_a_clear_error(tmp_path):
    train_vae(
        _cfg(vae__train__epochs=1), _poses(), None, tmp_path / "vae", "cpu", log=None
    )
    with pytest.raises(
        ValueError,
        match=r"checkpoint .*vae was trained with latent_dim=8 but the config asks "
        r"for 16",
    ):
        train_vae(
            _cfg(vae__latent_dim=16), _poses(), None, tmp_path / "vae", "cpu", log=None
        )
    # resume=False retrains from scratch instead
    res = train_vae(
        _cfg(vae__latent_dim=16, vae__train__epochs=1),
        _poses(),
        None,
        tmp_path / "vae",
        "cpu",
        resume=False,
        log=None,
    )
    assert res.model.latent_dim == 16 and res.history[0]["dev_mse"] is None


def test_train_vae_rejects_unnormalised_poses(tmp_path):
    bad = _poses()
    bad[1] = bad[1] * 3.0
    with pytest.raises(ValueError, match=r"train_poses\[1\].*\[0, 1\]"):
        train_vae(_cfg(), bad, None, tmp_path, "cpu", log=None)


def test_reconstruction_error_by_group_and_mean_baseline(tmp_path):
    res = train_vae(
        _cfg(vae__train__epochs=1), _poses(), None, tmp_path, "cpu", log=None
    )
    dev = _poses(2, seed=1)
    errs = reconstruction_error_by_group(res.model, dev)
    assert set(errs) == set(GROUPS) == {"body", "left_hand", "right_hand"}
    assert all(set(e) == {"normalised"} and e["normalised"] > 0 for e in errs.values())

    norm = _AffineNormaliser(scale=200.0, offset=-3.0)
    errs2 = reconstruction_error_by_group(res.model, np.stack(dev), norm)
    for g in GROUPS:
        assert errs2[g]["normalised"] == pytest.approx(errs[g]["normalised"], rel=1e-5)
        assert errs2[g]["original"] == pytest.approx(
            200.0 * errs[g]["normalised"], rel=1e-4
        )

    # the mean-pose baseline by hand for one group
    base = mean_pose_error(_poses(), dev, norm)
    mean = np.concatenate(_poses()).mean(0)
    target = np.concatenate(dev)
    joints = list(GROUPS["left_hand"])
    by_hand = np.linalg.norm(target[:, joints] - mean[joints], axis=-1).mean()
    assert base["left_hand"]["normalised"] == pytest.approx(by_hand, rel=1e-5)
    assert set(base) == set(GROUPS)


def test_errors_per_body_part():
    from nar_slp.skeleton import BODY_PARTS, NECK
    from nar_slp.training.vae_trainer import mean_pose_error

    covered = sorted(j for joints in BODY_PARTS.values() for j in joints)
    assert covered == [j for j in range(NUM_JOINTS) if j != NECK]  # the neck is 0
    rng = np.random.default_rng(0)
    train = rng.uniform(0, 1, (40, NUM_JOINTS, NUM_COORDS)).astype(np.float32)
    target = train.mean(0, keepdims=True).repeat(5, 0)
    target[:, 0, 0] += 0.3  # only the head is off the mean pose
    err = mean_pose_error(train, target, groups=BODY_PARTS)
    assert err["head"]["normalised"] == pytest.approx(0.3, abs=1e-5)
    assert all(err[g]["normalised"] < 1e-6 for g in BODY_PARTS if g != "head")
    assert set(mean_pose_error(train, target)) == set(GROUPS)  # default grouping


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_the_train_config_reaches_the_vae_trainer(tmp_path):
    """vae.train: weight decay and clipping change the weights; explicit defaults
    do not; a schedule or patience the VAE cannot honour is refused by name."""
    train = _poses()

    def fit(name, **kw):
        return _weights(
            train_vae(_cfg(**kw), train, None, tmp_path / name, "cpu", log=None).model
        )

    base = fit("base")
    same = fit("same", vae__train__weight_decay=0.01, vae__train__grad_clip=0.0)
    assert all(torch.equal(a, b) for a, b in zip(base, same, strict=True))
    for name, kw in (
        ("wd", {"vae__train__weight_decay": 0.5}),
        ("clip", {"vae__train__grad_clip": 1e-3}),
    ):
        other = fit(name, **kw)
        assert not all(torch.equal(a, b) for a, b in zip(base, other, strict=True))
    for kw, key in (
        ({"vae__train__schedule": "warmup_cosine"}, "vae.train.schedule"),
        ({"vae__train__patience": 2}, "vae.train.patience"),
    ):
        with pytest.raises(ValueError, match=key):
            train_vae(_cfg(**kw), train, None, tmp_path / "x", "cpu", log=None)
    assert not (tmp_path / "x").exists()
