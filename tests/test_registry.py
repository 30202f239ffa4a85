"""The registry of systems: every table system declared once, one loader, one
``generate`` whose ``lengths`` / ``refs`` follow each family's timing rule."""

from __future__ import annotations

import numpy as np
import pytest

from nar_slp.checkpoints import save_checkpoint
from nar_slp.config import VAEConfig, get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.nslp_g import generate_nslpg
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.models.progressive_transformer import generate_pt
from nar_slp.registry import (
    NSLPG,
    PT,
    STUDENT,
    SYSTEMS,
    generate,
    load_system,
    system,
)
from nar_slp.skeleton import FRAME_SIZE, NUM_COORDS, NUM_JOINTS
from nar_slp.students import STUDENT_VARIANTS
from nar_slp.systems import BASELINE_SYSTEMS, ORACLE_SYSTEMS
from nar_slp.training.baseline_trainer import train_nslpg, train_pt

TEXTS = ["rain in the north", "sunny", "wind from the west tomorrow"]


def test_every_system_of_the_tables_is_declared_once():
    assert list(SYSTEMS) == [*STUDENT_VARIANTS, *BASELINE_SYSTEMS]
    for key, v in STUDENT_VARIANTS.items():
        assert SYSTEMS[key].row == v.row and SYSTEMS[key].family == STUDENT
    for key, row in BASELINE_SYSTEMS.items():
        s = SYSTEMS[key]
        assert s.row == row and s.oracle_row in ORACLE_SYSTEMS.values()
        assert s.family == (PT if key.startswith("pt_") else NSLPG)
        assert s.group == ("Autoregressive" if s.family == PT else "Non-autoregressive")
    assert len({s.row for s in SYSTEMS.values()}) == len(SYSTEMS)
    with pytest.raises(KeyError, match="the systems are kd, no_kd"):
        system("pt")


def _seqs(n: int = 6) -> list[SignSequence]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = int(rng.integers(5, 14))
        poses = rng.normal(0, 0.2, (t, NUM_JOINTS, NUM_COORDS)).astype(np.float32)
        out.append(SignSequence(f"s{i}", TEXTS[i % 3], "G", poses))
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder with a normaliser, a VAE and one-epoch PT (Base) and NSLP-G."""
    run = tmp_path_factory.mktemp("run")
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    norm.save(run / "normaliser.json")
    cfg = get_config(
        "smoke",
        **{"data.max_frames": 24, "pt.train.epochs": 1, "nslpg.train.epochs": 2},
        **{"nslpg.ft_epochs": 1},
    )
    vae = PoseVAE(VAEConfig(hidden=(16, 16), latent_dim=4))
    save_checkpoint(
        run / "vae",
        vae,
        {"vae": {"hidden": [16, 16], "latent_dim": 4}, "n_values": FRAME_SIZE},
    )
    train_pt(cfg, "base", seqs, norm, run / "baselines" / "pt_base")
    b = run / "baselines"
    train_nslpg(cfg, False, seqs, norm, run / "vae", b / "nslpg_base", b / "x")
    return run, seqs


def test_pt_through_the_registry_is_generate_pt(run):
    run, seqs = run
    pt = load_system("pt_base", run)
    assert pt.source == run / "baselines" / "pt_base" and pt.vae is None
    gen = generate(pt, TEXTS, batch_size=2)
    poses, stopped = generate_pt(pt.model, TEXTS, pt.normaliser, batch_size=2)
    assert all(np.array_equal(a, b) for a, b in zip(gen.poses, poses, strict=True))
    assert np.array_equal(gen.stopped, stopped)
    assert gen.lengths.tolist() == [len(p) for p in poses]
    oracle = generate(pt, TEXTS, refs=seqs[:3])  # oracle timing: GT lengths
    assert oracle.lengths.tolist() == [s.n_frames for s in seqs[:3]]
    with pytest.raises(ValueError, match="counter"):
        generate(pt, TEXTS, lengths=[5, 5, 5])
    with pytest.raises(ValueError, match="refs has 2 entries for 3"):
        generate(pt, TEXTS, refs=seqs[:2])


def test_nslpg_through_the_registry_is_generate_nslpg(run):
    run, seqs = run
    ns = load_system("nslpg_base", run)
    gen = generate(ns, TEXTS)
    want = generate_nslpg(ns.model, TEXTS, ns.normaliser)
    assert all(np.array_equal(a, b) for a, b in zip(gen.poses, want, strict=True))
    assert gen.stopped is None
    assert set(gen.lengths.tolist()) == {ns.model.mean_length}  # the main rows' rule
    forced = generate(ns, TEXTS, lengths=[4, 6, 2])  # the oracle row's rule
    assert forced.lengths.tolist() == [4, 6, 2]
    with pytest.raises(ValueError, match="refs"):
        generate(ns, TEXTS, refs=seqs[:3])
    with pytest.raises(ValueError, match="lengths has 2 entries"):
        generate(ns, TEXTS, lengths=[4, 6])
    with pytest.raises(TypeError, match="single string"):
        generate(ns, "rain")


def test_missing_checkpoints_name_the_folder_and_what_writes_it(run, tmp_path):
    run, _ = run
    with pytest.raises(FileNotFoundError, match="chapter 04 or `nar-slp train pt`"):
        load_system("pt_fpgn", run)
    with pytest.raises(FileNotFoundError, match=r"students/kd/seed3 holds no"):
        load_system("kd", run, seed=3)
    empty = tmp_path / "empty"
    (empty / "baselines" / "pt_base").mkdir(parents=True)
    for f in (run / "baselines" / "pt_base").iterdir():
        (empty / "baselines" / "pt_base" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(FileNotFoundError, match="normaliser.json does not exist"):
        load_system("pt_base", empty)
