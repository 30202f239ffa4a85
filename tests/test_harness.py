"""The evaluation harness: claims are judged from the numbers, outputs round-trip."""

import math

import numpy as np
import pytest

from nar_slp.data.pt_format import SignSequence
from nar_slp.evaluation.claims import paper_claims
from nar_slp.evaluation.harness import (
    read_outputs,
    write_outputs,
)
from nar_slp.inference import Generation
from nar_slp.systems import (
    GT,
    MEAN,
    OURS_KD,
    OURS_NO_BERT,
    OURS_NO_KD,
    PGM_FLOOR,
    PT_BASE,
    RANDOM,
)


def _bins(values, n=50, se=0.1):
    keys = ("0-50", "50-100", "100-150", "150-200")
    return {
        k: {"fgd": v, "fgd_se": se, "n_generated": n, "n_reference": n}
        for k, v in zip(keys, values, strict=True)
    }


def _results(
    kd_fgd=0.1,
    nokd_fgd=0.3,
    kd_dur=80.0,
    nokd_dur=60.0,
    intervals=(1, 1, 1, 1),
    se=0.01,
):
    def row(fgd, dur, bleu=5.0, p20=0.2, bins=intervals):
        return {
            "test": {
                "FGD": fgd,
                "DurACC": dur,
                "BLEU-4": bleu,
                "se": {"FGD": se, "DurACC": se, "BLEU-4": se},
                "prefixes": {"~20": {"fgd": p20, "fgd_se": se}},
                "intervals": _bins(bins, se=se),
            }
        }

    return {
        GT: row(0.0, 100.0, bleu=12.0),
        MEAN: row(2.0, 100.0, bleu=1.0),
        RANDOM: row(1.0, 20.0),
        PGM_FLOOR: row(0.05, 100.0),
        OURS_KD: row(kd_fgd, kd_dur, 8.0, 0.1),
        OURS_NO_KD: row(nokd_fgd, nokd_dur, 4.0, 0.5),
        OURS_NO_BERT: row(0.5, 50.0),
        PT_BASE: row(0.8, 40.0, 3.0, 0.3, bins=(1, 2, 3, 4)),
    }


def _verdicts(results):
    return {c.name: c.verdict for c in paper_claims(results)}


def test_claims_follow_the_numbers():
    v = _verdicts(_results())
    assert v["sanity: FGD(GT, GT) = 0"] == "yes"
    assert v["every model beats Mean on FGD"] == "yes"
    assert v["every model beats Random on FGD"] == "yes"
    assert v["KD beats no-KD on FGD"] == "yes"
    assert v["KD beats no-KD on DurACC"] == "yes"
    assert v["BERT beats no-BERT on FGD"] == "yes"
    assert v["ours beats Progressive Transformers on FGD"] == "yes"
    assert v["error propagation in PT"] == "yes"
    assert v["ours beats NSLP-G on FGD"] == "not tested"
    assert (
        v["instrument: back-translation reads signing (GT BLEU-4 >= 2.5 x Mean)"]
        == "yes"
    )


def test_claims_fail_when_the_numbers_say_so():
    v = _verdicts(
        _results(kd_fgd=0.4, nokd_fgd=0.3, kd_dur=50.0, intervals=(1, 2, 3, 4))
    )
    assert v["KD beats no-KD on FGD"] == "no"
    assert v["KD beats no-KD on DurACC"] == "no"
    # PT and ours rise alike: no evidence of stronger error propagation in PT
    assert v["error propagation in PT"] == "inconclusive"
    assert _verdicts(_results(kd_fgd=2.5))["every model beats Mean on FGD"] == "no"


def test_differences_within_noise_are_inconclusive():
    v = _verdicts(_results(kd_fgd=0.29, nokd_fgd=0.3, se=1.0))
    assert v["KD beats no-KD on FGD"] == "inconclusive"


def test_beating_random_is_not_tested_when_the_pgm_floor_is_above_it():
    r = _results()
    r[PGM_FLOOR]["test"]["FGD"] = 1.5  # above Random (1.0): no decoded model can win
    v = _verdicts(r)
    (calibration,) = [k for k in v if k.startswith("calibration")]
    assert v[calibration] == "no"
    assert v["every model beats Random on FGD"] == "not tested"


def test_missing_systems_are_not_tested_rather_than_failed():
    r = _results()
    del r[OURS_NO_KD]
    v = _verdicts(r)
    assert v["KD beats no-KD on FGD"] == "not tested"
    assert v["sanity: FGD(GT, GT) = 0"] == "yes"


def test_insufficient_bins_are_not_scored():
    r = _results()
    r[PT_BASE]["test"]["intervals"]["150-200"]["fgd"] = math.nan  # too few windows
    r[PT_BASE]["test"]["intervals"]["100-150"]["fgd"] = math.nan
    r[PT_BASE]["test"]["intervals"]["50-100"]["fgd"] = math.nan
    assert _verdicts(r)["error propagation in PT"] == "not tested"


def test_outputs_round_trip_through_pt_format(tmp_path):
    rng = np.random.default_rng(0)
    refs = [
        SignSequence(
            f"test/{i}",
            f"text {i}",
            "GLOSS",
            rng.random((5 + i, 50, 3), dtype=np.float32),
        )
        for i in range(3)
    ]
    gen = [rng.random((4 + 2 * i, 50, 3)).astype(np.float32) for i in range(3)]
    out = Generation(gen, np.array([len(g) for g in gen]), system=OURS_KD)
    folder = write_outputs(tmp_path, out, "test", refs)
    assert folder.name == "kd"
    back = read_outputs(folder, "test", OURS_KD)
    assert back.lengths.tolist() == out.lengths.tolist()
    for a, b in zip(back.poses, gen, strict=True):
        assert np.abs(a - b).max() <= 5e-6 + 1e-7
    assert not math.isnan(float(back.poses[0].sum()))


def test_seed_labels_and_their_output_folders(tmp_path):
    from nar_slp.evaluation.harness import row_of, seed_label

    label = seed_label(OURS_KD, 2)
    assert label == "Ours (w/ KD) #seed2" and row_of(label) == OURS_KD
    assert row_of(PT_BASE) == PT_BASE
    refs = [SignSequence("test/0", "a b", "A B", np.zeros((4, 50, 3), np.float32))]
    out = Generation([np.ones((3, 50, 3), np.float32)], np.array([3]), system=label)
    assert write_outputs(tmp_path, out, "test", refs).name == "kd-seed2"
    out = Generation([np.ones((3, 50, 3), np.float32)], np.array([3]), system=PT_BASE)
    assert write_outputs(tmp_path, out, "test", refs).name == "pt_base"


def test_an_unlabelled_generation_is_not_written(tmp_path):
    gen = Generation([np.ones((3, 50, 3), np.float32)], np.array([3]))
    with pytest.raises(ValueError, match="label the generation"):
        write_outputs(tmp_path, gen, "test", [])
    assert not (tmp_path / "outputs").exists()
