import numpy as np
import pytest
import torch

from nar_slp.models.layers import (
    FeatureStandardiser,
    SinusoidalPositionalEncoding,
    causal_mask,
    decoder_stack,
    encoder_stack,
    sinusoidal_positions,
)


def test_positions_formula():
    pe = sinusoidal_positions(5, 6)
    assert pe.shape == (5, 6)
    t, i = 3, 1
    assert pe[t, 2 * i].item() == pytest.approx(
        np.sin(t / 10000 ** (2 * i / 6)), abs=1e-6
    )
    assert pe[t, 2 * i + 1].item() == pytest.approx(
        np.cos(t / 10000 ** (2 * i / 6)), abs=1e-6
    )
    odd = sinusoidal_positions(4, 5)
    assert odd.shape == (4, 5)


def test_positional_encoding_adds_and_checks_length():
    enc = SinusoidalPositionalEncoding(8, max_len=10)
    x = torch.zeros(2, 4, 8)
    assert torch.allclose(enc(x)[0], sinusoidal_positions(4, 8))
    with pytest.raises(ValueError, match="max_len"):
        enc(torch.zeros(1, 11, 8))


def test_stacks_shapes_and_head_check():
    enc = encoder_stack(16, 2, 4, dropout=0.0)
    dec = decoder_stack(16, 1, 4, d_ff=32, dropout=0.0)
    x = torch.randn(2, 5, 16)
    assert enc(x).shape == (2, 5, 16)
    assert dec(torch.randn(2, 3, 16), x, tgt_mask=causal_mask(3)).shape == (2, 3, 16)
    with pytest.raises(ValueError, match="divisible"):
        encoder_stack(10, 1, 4)


def test_causal_mask():
    m = causal_mask(3)
    assert m.tolist() == [
        [False, True, True],
        [False, False, True],
        [False, False, False],
    ]


def test_standardiser_drops_constant_channels():
    rng = np.random.default_rng(0)
    frames = rng.normal(0.5, 0.05, size=(200, 4)).astype(np.float32)
    frames[:, 1] = 0.25  # constant, like the neck at the origin
    st = FeatureStandardiser(4).fit(frames)
    assert st.keep.tolist() == [1.0, 0.0, 1.0, 1.0]
    assert st.n_dropped == 1
    out = st(torch.from_numpy(frames))
    assert torch.allclose(out[:, [0, 2, 3]].mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(
        out[:, [0, 2, 3]].std(0, unbiased=False), torch.ones(3), atol=1e-4
    )
    # an offset of a constant channel does not move the standardised input at all
    shifted = torch.from_numpy(frames).clone()
    shifted[:, 1] += 0.003
    assert torch.equal(st(shifted), out)
    with pytest.raises(ValueError, match="frames"):
        st.fit(frames[:, :3])
