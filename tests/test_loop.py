"""The shared training loop: weighted epoch means, clipping, the schedule, the NaN
guard and dev selection with patience."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nar_slp.loop import Selection, Step, train_epochs


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(3, 1)


def _data(n: int = 12) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 3, generator=g)
    return [(x[i : i + 4], x[i : i + 4].sum(1, keepdim=True)) for i in range(0, n, 4)]


def _step(model):
    def step(batch) -> Step:
        x, y = batch
        loss = ((model(x) - y) ** 2).mean()
        return Step(loss, len(x), {"twice": 2 * loss.item()})

    return step


def test_an_epoch_is_the_plain_loop_and_its_means_are_weighted():
    data = _data()
    ref = _model()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    losses, weights = [], []
    for x, y in data:  # what the loop must do, written out
        loss = ((ref(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
        opt.step()
        losses.append(loss.item())
        weights.append(len(x))
    model = _model()
    seen = []
    result = train_epochs(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        [1],
        lambda epoch: data,
        _step(model),
        clip=0.5,
        end_epoch=seen.append,
    )
    for a, b in zip(ref.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    mean = sum(v * w for v, w in zip(losses, weights, strict=True)) / sum(weights)
    stats = result.epochs[0]
    assert seen == [stats] and stats.epoch == 1 and stats.weight == 12
    assert stats.means["loss"] == pytest.approx(mean)
    assert stats.means["twice"] == pytest.approx(2 * mean)
    assert result.best_epoch is None and stats.dev is None


def test_the_scheduler_steps_once_per_optimiser_step_and_epochs_are_numbered():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / (k + 1))
    numbers = []

    def batches(epoch):
        numbers.append(epoch)
        return _data()

    train_epochs(model, opt, range(3, 5), batches, _step(model), scheduler=sched)
    assert numbers == [3, 4]  # a resumed run passes the epochs left
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 7)  # 6 steps


def test_a_diverging_epoch_stops_with_the_models_name_and_a_hint():
    model = _model()

    def step(batch) -> Step:
        return Step(model(batch[0]).sum() * math.nan)

    with pytest.raises(FloatingPointError, match="VAE training diverged at epoch 2"):
        train_epochs(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            [2],
            lambda e: _data(),
            step,
            name="VAE",
            hint="lower vae.train.lr",
        )
    with pytest.raises(ValueError, match="epoch 1 had no batches"):
        train_epochs(
            model, torch.optim.SGD(model.parameters(), lr=0.1), [1], lambda e: [], step
        )


@pytest.mark.parametrize("higher", [False, True])
def test_selection_keeps_the_best_epochs_weights_and_patience_stops(higher):
    scores = {1: 5.0, 2: 3.0, 3: 3.05, 4: 9.0, 5: 1.0}
    if higher:
        scores = {k: -v for k, v in scores.items()}
    model = _model()
    states = {}

    def end(stats):
        states[stats.epoch] = {k: v.clone() for k, v in model.state_dict().items()}

    result = train_epochs(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        range(1, 6),
        lambda e: _data(),
        _step(model),
        dev_score=scores.get,
        selection=Selection(higher_is_better=higher, min_delta=0.1, patience=2),
        end_epoch=end,
    )
    # epoch 3 is not better by more than min_delta; epochs 3 and 4 exhaust patience
    assert result.stopped_early and [s.epoch for s in result.epochs] == [1, 2, 3, 4]
    assert result.best_epoch == 2 and result.best_score == scores[2]
    assert [s.improved for s in result.epochs] == [True, True, False, False]
    for k, v in result.best_state.items():
        assert torch.equal(v, states[2][k]) and not torch.equal(v, states[4][k])


def test_epochs_without_a_dev_score_do_not_use_up_patience():
    model = _model()
    result = train_epochs(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        range(1, 10),
        lambda e: _data(),
        _step(model),
        dev_score=lambda e: 1.0 if e == 1 else (2.0 if e % 3 == 0 else None),
        selection=Selection(patience=2),
    )
    # scored worse at epochs 3 and 6 only: patience runs out at 6, not at 3
    assert result.stopped_early and len(result.epochs) == 6
    assert result.best_epoch == 1


def test_a_tie_keeps_the_earlier_epoch_and_a_nan_dev_score_stops():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scores = {1: 0.5, 2: 0.5, 3: 0.9}
    result = train_epochs(
        model, opt, range(1, 4), lambda e: _data(), _step(model), dev_score=scores.get
    )
    assert result.best_epoch == 1 and result.best_score == 0.5
    with pytest.raises(FloatingPointError, match="PT: the dev score of epoch 4 is nan"):
        train_epochs(
            model,
            opt,
            [4],
            lambda e: _data(),
            _step(model),
            dev_score=lambda e: math.nan,
            name="PT",
        )


def test_a_second_phase_continues_the_selection_of_the_first():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = train_epochs(
        model,
        opt,
        [1, 2],
        lambda e: _data(),
        _step(model),
        dev_score={1: 2.0, 2: 1.0}.get,
    )
    second = train_epochs(
        model,
        opt,
        [3, 4],
        lambda e: _data(),
        _step(model),
        dev_score={3: 1.5, 4: 1.2}.get,
        selection=Selection(patience=2),
        previous=first,
    )
    # epochs 3 and 4 are worse than epoch 2: it stays selected, and patience counts
    assert second.best_epoch == 2 and second.best_state is first.best_state
    assert second.stopped_early and [s.epoch for s in second.epochs] == [3, 4]
