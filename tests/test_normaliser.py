"""Normaliser: range, margin, degenerate values, exact inverse, clipping, JSON io."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from nar_slp.data.normaliser import Normaliser, NormaliserFileError
from nar_slp.data.pt_format import SignSequence


def _train_seqs(n: int = 5, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        p = rng.normal(0.0, 0.2, (int(rng.integers(3, 12)), 50, 3)).astype(np.float32)
        p[:, 1] = 0.0  # the neck is the origin of PT data
        seqs.append(p)
    return seqs


@pytest.fixture
def seqs() -> list[np.ndarray]:
    return _train_seqs()


@pytest.fixture
def norm(seqs) -> Normaliser:
    return Normaliser.fit(seqs)


def test_training_data_maps_inside_unit_interval_with_margin(seqs, norm):
    allf = np.concatenate(seqs)  # (N, J, K)
    y = norm.transform(allf)
    assert y.dtype == np.float32 and y.shape == allf.shape
    assert norm.last_clip_count == 0
    m = 0.05 / 1.1  # where min and max land with a 5 % margin on each side
    non_neck = np.ones((50, 3), bool)
    non_neck[1] = False
    np.testing.assert_allclose(y.min(axis=0)[non_neck], m, atol=1e-6)
    np.testing.assert_allclose(y.max(axis=0)[non_neck], 1 - m, atol=1e-6)
    assert norm.n_frames == len(allf)


def test_constant_values_map_to_half(seqs, norm):
    assert norm.degenerate[1].all() and norm.degenerate.sum() == 3
    y = norm.transform(seqs[0])
    np.testing.assert_allclose(y[:, 1], 0.5)
    # unit-free fixed scale: a small offset from the constant stays small, unclipped
    x = seqs[0].copy()
    x[:, 1] = 0.1
    np.testing.assert_allclose(norm.transform(x)[:, 1], 0.6, atol=1e-6)


def test_custom_margin():
    data = [np.stack([np.zeros((50, 3)), np.ones((50, 3))]).astype(np.float32)]
    n = Normaliser.fit(data, margin=0.25)
    y = n.transform(data[0])
    np.testing.assert_allclose(y[0], 0.25 / 1.5, atol=1e-7)
    np.testing.assert_allclose(y[1], 1 - 0.25 / 1.5, atol=1e-7)


def test_inverse_is_exact_numpy_and_torch(seqs, norm):
    rng = np.random.default_rng(1)
    lo, hi = norm.data_min, norm.data_max
    x = (lo + rng.random((20, 50, 3)) * (hi - lo)).astype(np.float32)
    np.testing.assert_allclose(norm.inverse(norm.transform(x)), x, atol=1e-6, rtol=0)
    xt = torch.from_numpy(x)
    yt = norm.transform(xt)
    assert isinstance(yt, torch.Tensor) and yt.dtype == torch.float32
    torch.testing.assert_close(norm.inverse(yt), xt, atol=1e-6, rtol=0)
    np.testing.assert_allclose(yt.numpy(), norm.transform(x), atol=1e-6)


def test_flattened_frames_accepted(seqs, norm):
    x = seqs[0]  # (T, J, K)
    flat = x.reshape(len(x), 150)  # (T, F)
    np.testing.assert_allclose(
        norm.transform(flat), norm.transform(x).reshape(len(x), 150)
    )
    yt = norm.transform(torch.from_numpy(flat))
    assert yt.shape == (len(x), 150)
    np.testing.assert_allclose(norm.inverse(norm.transform(flat)), flat, atol=1e-6)


def test_leading_batch_dims(seqs, norm):
    x = np.stack([seqs[0][:3], seqs[1][:3]])  # (B, T, J, K)
    y = norm.transform(x)
    np.testing.assert_allclose(y[1], norm.transform(seqs[1][:3]))


def test_wrong_shape_is_rejected(norm):
    with pytest.raises(ValueError, match=r"fitted frame shape \(50, 3\)"):
        norm.transform(np.zeros((4, 49, 3)))


def test_out_of_range_is_clipped_counted_and_warned(seqs, norm):
    x = seqs[0].copy()
    x[0, 4, 0] = norm.data_max[4, 0] + 100.0  # far above: would wrap if mishandled
    x[1, 5, 2] = norm.data_min[5, 2] - 100.0
    with pytest.warns(UserWarning, match="clipped 2 of"):
        y, n = norm.transform(x, return_count=True)
    assert n == 2 and norm.last_clip_count == 2 and norm.clip_count == 2
    assert y[0, 4, 0] == 1.0 and y[1, 5, 2] == 0.0
    assert 0.0 <= y.min() and y.max() <= 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yt = norm.transform(torch.from_numpy(x), warn=False)
    assert norm.clip_count == 4 and float(yt[0, 4, 0]) == 1.0
    norm.transform(seqs[0])
    assert norm.last_clip_count == 0 and norm.clip_count == 4


def test_non_finite_input_rejected(seqs, norm):
    x = seqs[0].copy()
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        norm.transform(x)
    with pytest.raises(ValueError, match="NaN"):
        norm.transform(torch.from_numpy(x))


def test_fit_accepts_sign_sequences(seqs):
    objs = [SignSequence(f"n{i}", "t", "", p) for i, p in enumerate(seqs)]
    a, b = Normaliser.fit(objs), Normaliser.fit(seqs)
    np.testing.assert_array_equal(a.lo, b.lo)
    np.testing.assert_array_equal(a.scale, b.scale)


def test_fit_errors():
    with pytest.raises(ValueError, match="no sequences"):
        Normaliser.fit([])
    with pytest.raises(ValueError, match="sequence 1 has frame shape"):
        Normaliser.fit([np.zeros((2, 50, 3)), np.zeros((2, 49, 3))])
    with pytest.raises(ValueError, match="sequence 0 contains NaN"):
        Normaliser.fit([np.full((2, 50, 3), np.nan)])


def test_save_load_round_trip(tmp_path, seqs, norm):
    path = norm.save(tmp_path / "sub" / "normaliser.json")
    d = json.loads(path.read_text())
    assert d["version"] == 1 and d["shape"] == [50, 3] and d["margin"] == 0.05
    assert len(d["data_min"]) == 50  # nested lists: readable per joint
    loaded = Normaliser.load(path)
    np.testing.assert_array_equal(loaded.lo, norm.lo)
    np.testing.assert_array_equal(loaded.scale, norm.scale)
    np.testing.assert_array_equal(loaded.transform(seqs[2]), norm.transform(seqs[2]))
    assert [p.name for p in path.parent.iterdir()] == ["normaliser.json"]


def test_load_malformed_json_names_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "nar_slp.normaliser", "version": 1,')
    with pytest.raises(NormaliserFileError, match=r"broken\.json: not valid JSON"):
        Normaliser.load(path)


def test_load_wrong_content_names_file(tmp_path, norm):
    d = norm.to_dict()
    cases = {
        "other.json": ({"hello": 1}, "not a normaliser file"),
        "version.json": ({**d, "version": 99}, "unsupported version 99"),
        "keys.json": ({k: v for k, v in d.items() if k != "data_max"}, "data_max"),
        "shape.json": ({**d, "shape": [49, 3]}, "do not match shape"),
        "order.json": (
            {**d, "data_min": d["data_max"], "data_max": d["data_min"]},
            "data_max must be >= data_min",
        ),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_text(json.dumps(content))
        with pytest.raises(NormaliserFileError, match=expected) as e:
            Normaliser.load(tmp_path / name)
        assert name in str(e.value)
    with pytest.raises(NormaliserFileError, match="missing.json: .*not found"):
        Normaliser.load(tmp_path / "missing.json")
