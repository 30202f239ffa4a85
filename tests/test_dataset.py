"""PoseTextDataset, collate/PoseBatch, LengthGroupedBatchSampler and make_loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nar_slp.data.dataset import (
    LengthGroupedBatchSampler,
    PoseBatch,
    PoseTextDataset,
    collate,
    make_loader,
)
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence


def _seqs(lengths: list[int], seed: int = 0) -> list[SignSequence]:
    rng = np.random.default_rng(seed)
    return [
        SignSequence(
            name=f"s{i}",
            text=f"text {i}",
            gloss=f"GLOSS{i}",
            poses=rng.normal(0, 0.2, (t, 50, 3)).astype(np.float32),
        )
        for i, t in enumerate(lengths)
    ]


@pytest.fixture
def seqs() -> list[SignSequence]:
    return _seqs([5, 2, 7, 3])


@pytest.fixture
def norm(seqs) -> Normaliser:
    return Normaliser.fit(seqs)


def test_dataset_stores_normalised_float32(seqs, norm):
    ds = PoseTextDataset(seqs, norm)
    assert len(ds) == 4 and ds.lengths == [5, 2, 7, 3]
    item = ds[2]
    assert item.poses.dtype == torch.float32 and item.poses.shape == (7, 50, 3)
    np.testing.assert_allclose(item.poses.numpy(), norm.transform(seqs[2].poses))
    assert (item.text, item.gloss, item.name) == ("text 2", "GLOSS2", "s2")
    assert 0.0 <= float(item.poses.min()) and float(item.poses.max()) <= 1.0


def test_dataset_without_normaliser_keeps_raw_coordinates(seqs):
    ds = PoseTextDataset(seqs, None)
    np.testing.assert_array_equal(ds[0].poses.numpy(), seqs[0].poses)


def test_dataset_counts_clipped_values(seqs, norm):
    far = _seqs([5, 2])  # same draws as the training sequences ...
    far[1].poses[0, 3, 1] = 50.0  # ... but one value far outside their range
    with pytest.warns(UserWarning, match="clipped 1 of"):
        ds = PoseTextDataset(far, norm)
    assert ds.n_clipped == 1


def test_too_long_sequence_raises_naming_it_and_the_parameter(seqs, norm):
    with pytest.raises(
        ValueError, match=r"sequence 2 \('s2'\) has 7 frames.*max_frames=6"
    ):
        PoseTextDataset(seqs, norm, max_frames=6)


def test_truncate_cuts_and_counts(seqs, norm):
    with pytest.warns(UserWarning, match="truncated 2 sequences"):
        ds = PoseTextDataset(seqs, norm, max_frames=4, truncate=True)
    assert ds.lengths == [4, 2, 4, 3] and ds.n_truncated == 2
    np.testing.assert_allclose(ds[2].poses.numpy(), norm.transform(seqs[2].poses[:4]))


def test_bad_max_frames(seqs, norm):
    with pytest.raises(ValueError, match="max_frames must be >= 1"):
        PoseTextDataset(seqs, norm, max_frames=0)


def test_collate_pads_masks_and_keeps_order(seqs, norm):
    ds = PoseTextDataset(seqs, norm)
    batch = collate([ds[i] for i in (0, 1, 2)])
    assert isinstance(batch, PoseBatch) and len(batch) == 3
    assert batch.poses.shape == (3, 7, 50, 3) and batch.poses.dtype == torch.float32
    assert batch.lengths.dtype == torch.int64 and batch.lengths.tolist() == [5, 2, 7]
    assert batch.mask.dtype == torch.bool
    assert batch.mask.sum(1).tolist() == [5, 2, 7]
    assert batch.mask[1].tolist() == [True, True] + [False] * 5
    assert torch.all(batch.poses[1, 2:] == 0)  # zero-padded
    torch.testing.assert_close(batch.poses[0, :5], ds[0].poses)  # real frames intact
    assert batch.texts == ["text 0", "text 1", "text 2"]
    assert batch.glosses == ["GLOSS0", "GLOSS1", "GLOSS2"]
    assert batch.names == ["s0", "s1", "s2"]


def test_batch_to_device_moves_tensors_only(seqs, norm):
    batch = collate(list(PoseTextDataset(seqs, norm)))
    moved = batch.to("meta")
    assert moved.poses.device.type == "meta" and moved.mask.device.type == "meta"
    assert moved.lengths.device.type == "meta" and moved.names == batch.names
    assert batch.poses.device.type == "cpu"  # original untouched
    same = batch.to(torch.device("cpu"))
    torch.testing.assert_close(same.poses, batch.poses)


def _spread(batches: list[list[int]], lengths: np.ndarray) -> float:
    """Mean within-batch length range: small when batches are length-homogeneous."""
    return float(np.mean([np.ptp(lengths[b]) for b in batches]))


def test_sampler_covers_each_index_once_per_epoch():
    lengths = np.random.default_rng(0).integers(10, 200, 103)
    s = LengthGroupedBatchSampler(lengths, batch_size=8, seed=3, chunk_batches=4)
    batches = list(s)
    assert len(batches) == len(s) == 13
    assert sorted(i for b in batches for i in b) == list(range(103))
    assert sorted(len(b) for b in batches)[1:] == [8] * 12  # one short batch


def test_sampler_groups_similar_lengths():
    lengths = np.random.default_rng(0).integers(10, 200, 400)
    grouped = LengthGroupedBatchSampler(lengths, batch_size=8, seed=0).batches(0)
    rng = np.random.default_rng(1)
    random = np.array_split(rng.permutation(400), 50)
    assert _spread(grouped, lengths) < 0.25 * _spread(random, lengths)


def test_sampler_is_deterministic_and_reshuffles_per_epoch():
    lengths = np.random.default_rng(0).integers(10, 200, 64)
    a = LengthGroupedBatchSampler(lengths, batch_size=4, seed=7, chunk_batches=4)
    b = LengthGroupedBatchSampler(lengths, batch_size=4, seed=7, chunk_batches=4)
    epoch0, epoch1 = list(a), list(a)  # iterating advances the epoch
    assert epoch0 != epoch1
    assert list(b) == epoch0 and list(b) == epoch1
    b.set_epoch(1)
    assert list(b) == epoch1
    b.set_epoch(0)
    assert list(b) == epoch0
    other_seed = LengthGroupedBatchSampler(lengths, batch_size=4, seed=8)
    assert list(other_seed) != epoch0


def test_sampler_drop_last_and_no_shuffle():
    s = LengthGroupedBatchSampler([3] * 10, batch_size=4, drop_last=True, seed=0)
    batches = list(s)
    assert len(s) == len(batches) == 2 and all(len(b) == 4 for b in batches)
    plain = LengthGroupedBatchSampler([5, 1, 9, 2, 7], batch_size=2, shuffle=False)
    assert list(plain) == [[0, 1], [2, 3], [4]] == list(plain)


def test_sampler_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        LengthGroupedBatchSampler([1, 2], batch_size=0)


def test_make_loader_yields_pose_batches_over_the_dataset():
    seqs = _seqs([4, 9, 2, 6, 3, 8, 5])
    ds = PoseTextDataset(seqs, Normaliser.fit(seqs))
    loader = make_loader(ds, batch_size=3, shuffle=True, seed=0)
    assert loader.num_workers == 0 and len(loader) == 3
    batches = list(loader)
    assert all(isinstance(b, PoseBatch) for b in batches)
    assert sorted(n for b in batches for n in b.names) == sorted(ds.names)
    for b in batches:
        assert b.poses.shape[1] == int(b.lengths.max())
        for j, name in enumerate(b.names):
            i = ds.names.index(name)
            torch.testing.assert_close(b.poses[j, : ds.lengths[i]], ds[i].poses)
    again = make_loader(ds, batch_size=3, shuffle=True, seed=0)
    assert [b.names for b in again] == [b.names for b in batches]
    eval_loader = make_loader(ds, batch_size=3, shuffle=False, seed=0)
    assert [n for b in eval_loader for n in b.names] == ds.names
