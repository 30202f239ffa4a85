import pytest

from nar_slp.config import PRESETS, config_from_dict, get_config, valid_keys


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_build_and_round_trip(preset):
    cfg = get_config(preset)
    assert cfg.preset == preset
    assert config_from_dict(cfg.to_dict()) == cfg


def test_paper_preset_has_the_papers_hyper_parameters():
    s = get_config("paper").student
    assert (s.d_model, s.n_layers, s.n_heads, s.d_ff) == (768, 8, 8, 2048)
    assert (s.dropout, s.train.lr, s.train.batch_size, s.train.epochs) == (
        0.1,
        2e-4,
        40,
        500,
    )
    assert get_config("paper").vae.kl_weight == 1e-4
    assert get_config("paper").eval.fgd_window == 34


def test_overrides_in_both_spellings():
    cfg = get_config(
        "smoke", student__train__epochs=3, **{"vae.latent_dim": 4, "seed": 7}
    )
    assert (cfg.student.train.epochs, cfg.vae.latent_dim, cfg.seed) == (3, 4, 7)
    assert get_config("smoke", vae__hidden=[8, 4]).vae.hidden == (8, 4)
    assert get_config("smoke", vae__train__lr=1).vae.train.lr == 1.0
    assert get_config("smoke", **{"pt.train.epochs": 5}).pt.train.epochs == 5


def test_configs_are_frozen():
    cfg = get_config("smoke")
    with pytest.raises(AttributeError):
        cfg.student.train.epochs = 5  # type: ignore[misc]


def test_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match="smoke, default, paper"):
        get_config("huge")


@pytest.mark.parametrize(
    "key",
    [
        "student__nope",
        "nope",
        "model.d_model",
        "pt.train",
        "pt.train.nope",
        "pt.d_model.x",
        "student",
    ],
)
def test_unknown_key_lists_valid_keys(key):
    with pytest.raises(KeyError, match="valid keys"):
        get_config("default", **{key: 1})


@pytest.mark.parametrize(
    "key,value",
    [
        ("student__train__epochs", "3"),
        ("student__train__epochs", 2.5),
        ("student__use_kd", 1),
        ("vae__hidden", (1, 2, 3)),
        ("data__data_dir", 3),
    ],
)
def test_wrong_types_are_rejected_with_the_expected_type(key, value):
    with pytest.raises(TypeError, match="expects"):
        get_config("default", **{key: value})


def test_valid_keys_cover_every_section():
    keys = valid_keys()
    for section in (
        "corpus",
        "data",
        "vae",
        "student",
        "pt",
        "nslpg",
        "tae",
        "slt",
        "eval",
    ):
        assert any(k.startswith(section + ".") for k in keys)
    for model in ("vae", "student", "pt", "nslpg", "tae", "slt"):
        # one nested training config, the same fields for every model
        assert {k.split(".")[-1] for k in keys if k.startswith(f"{model}.train.")} == {
            "lr",
            "epochs",
            "batch_size",
            "weight_decay",
            "grad_clip",
            "schedule",
            "warmup",
            "patience",
        }
    assert not any(
        k.split(".")[1].startswith(("pt_", "nslpg_", "tae_", "slt_"))
        for k in keys
        if "." in k
    )


def test_presets_change_nested_training_fields_only_where_named():
    smoke = get_config("smoke")
    assert smoke.pt.train.epochs == 2 and smoke.pt.train.lr == 1e-3
    assert smoke.vae.train.batch_size == 256 and smoke.vae.train.grad_clip == 0.0
    assert get_config("paper").nslpg.train == get_config(
        "default"
    ).nslpg.train.__class__(lr=2e-4, epochs=100, batch_size=40)


def test_bootstrap_se():
    import numpy as np

    from nar_slp.bootstrap import bootstrap_se

    x = np.random.default_rng(0).normal(0, 1, 400)
    se = bootstrap_se(lambda i: x[i].mean(), len(x), 500, seed=1)
    assert se == pytest.approx(x.std(ddof=1) / np.sqrt(len(x)), rel=0.15)
    assert se == bootstrap_se(lambda i: x[i].mean(), len(x), 500, seed=1)
    assert bootstrap_se(lambda i: 3.0, 10, 50) == 0.0  # a constant has no spread
    assert np.isnan(bootstrap_se(lambda i: x[i].mean(), len(x), 0))
    big = np.tile(x, 4)  # four times the data: half the standard error
    se4 = bootstrap_se(lambda i: big[i].mean(), len(big), 500, seed=1)
    assert se4 == pytest.approx(se / 2, rel=0.2)
    with pytest.raises(ValueError, match="n_items"):
        bootstrap_se(lambda i: 0.0, 0)


def test_reproduce_param_parsing():
    import argparse

    from nar_slp.reproduce import parse_param

    assert parse_param("SEED=1") == ("SEED", 1)
    assert parse_param("KD_WEIGHT=0.0") == ("KD_WEIGHT", 0.0)
    assert parse_param("BERT=False") == ("BERT", False)
    assert parse_param("TEXT_ENCODER=bert-base") == ("TEXT_ENCODER", "bert-base")
    for bad in ("SEED", "=1", "not a name=1"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
            parse_param(bad)
