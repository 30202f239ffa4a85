"""Calibration of the evaluation: motion amplitude, the PGM floor, Table 1 rows."""

import numpy as np
import pytest
import torch
from helpers import random_walk

from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.evaluation.claims import paper_claims
from nar_slp.evaluation.harness import pgm_reconstruction
from nar_slp.evaluation.metrics import motion_amplitude
from nar_slp.evaluation.tables import build_motion_table, build_table1
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.systems import GT, PGM_FLOOR, RANDOM


def test_motion_amplitude_scales_with_the_motion():
    seqs = [random_walk(40 + i, i, base=None) for i in range(5)]
    amp = motion_amplitude(seqs)
    assert amp.shape == (5, 2) and (amp > 0).all()
    # halving every excursion around the sequence mean halves speed and spread
    shrunk = [s.mean(0) + 0.5 * (s - s.mean(0)) for s in seqs]
    np.testing.assert_allclose(motion_amplitude(shrunk), 0.5 * amp, rtol=1e-5)
    still = [np.repeat(s[:1], len(s), axis=0) for s in seqs]  # a frozen pose
    assert np.abs(motion_amplitude(still)).max() < 1e-7
    # a constant offset moves nothing
    np.testing.assert_allclose(
        motion_amplitude([s + 3.0 for s in seqs]), amp, rtol=1e-4
    )
    with pytest.raises(ValueError, match="not \\(T, J, K\\)"):
        motion_amplitude([np.zeros((4, 50))])


def test_pgm_reconstruction_keeps_lengths_and_round_trips_an_identity_like_vae():
    seqs = [random_walk(10 + i, i, base=None) for i in range(3)]
    norm = Normaliser.fit(seqs)
    torch.manual_seed(0)
    vae = PoseVAE(get_config("smoke").vae).eval()
    out = pgm_reconstruction(vae, norm, seqs)
    assert [o.shape for o in out] == [s.shape for s in seqs]
    # the output is what the PGM decodes from the teacher's latents, frame by frame
    x = torch.from_numpy(norm.transform(seqs[0], warn=False)).reshape(len(seqs[0]), -1)
    with torch.no_grad():
        want = vae.decode(vae.lgm(x)).numpy().reshape(seqs[0].shape)
    np.testing.assert_allclose(out[0], norm.inverse(want), rtol=1e-5, atol=1e-6)


def test_floor_row_dtw_column_and_motion_table():
    per = {
        "dev": {"FGD": 1.0, "DTW-MJE": 0.05, "speed ratio": 0.7, "spread ratio": 0.8},
        "test": {"FGD": 2.0, "DTW-MJE": 0.06, "speed ratio": 0.6, "spread ratio": 0.9},
    }
    t1 = build_table1({PGM_FLOOR: per})
    assert t1.group_of(PGM_FLOOR) == "Bounds"
    assert t1.get(PGM_FLOOR, "test DTW-MJE") == 0.06
    assert "0.0600" in t1.markdown()
    motion = build_motion_table({PGM_FLOOR: per})
    assert motion.get(PGM_FLOOR, "test speed ratio") == 0.6


def test_calibration_claim_and_intervals_in_evidence():
    def row(fgd, se=1.0):
        return {"test": {"FGD": fgd, "se": {"FGD": se}}}

    claims = {
        c.name: c
        for c in paper_claims({GT: row(0.0), RANDOM: row(3.0), PGM_FLOOR: row(9.0)})
    }
    (name,) = [n for n in claims if n.startswith("calibration")]
    assert claims[name].verdict == "no"  # the floor is above Random: unbeatable
    assert "95 % interval" in claims[name].evidence
    claims = {c.name: c for c in paper_claims({RANDOM: row(9.0), PGM_FLOOR: row(1.0)})}
    assert claims[name].verdict == "yes"
