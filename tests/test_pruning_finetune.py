"""Mask-enforced fine-tuning, iterative pruning, AGP schedule."""
import pytest
import torch

from pruninglab.data import load_digits
from pruninglab.models import load_reference
from pruninglab.pruning import (agp_schedule, agp_sparsity, check_masks_hold, fine_tune_,
                                iterative_prune, linear_sparsity, prune_model, sparsity_of)
from pruninglab.train import accuracy, train
from pruninglab.utils import seed_everything


def test_agp_formula_and_steps():
    # s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3 at t0 + k dt
    assert agp_sparsity(0, 0.0, 0.8, 10, 4, 5) == 0.0                 # before start: initial
    assert agp_sparsity(10, 0.1, 0.8, 10, 4, 5) == pytest.approx(0.1)
    assert agp_sparsity(15, 0.0, 0.8, 10, 4, 5) == pytest.approx(0.8 * (1 - 0.75 ** 3))
    assert agp_sparsity(19, 0.0, 0.8, 10, 4, 5) == agp_sparsity(15, 0.0, 0.8, 10, 4, 5)  # holds between
    assert agp_sparsity(30, 0.0, 0.8, 10, 4, 5) == pytest.approx(0.8)
    assert agp_sparsity(1000, 0.0, 0.8, 10, 4, 5) == pytest.approx(0.8)
    sched = agp_schedule(0.0, 0.9, 0, 5, 10)
    assert len(sched) == 6 and sched[0] == 0.0 and sched[-1] == pytest.approx(0.9)
    assert all(b >= a for a, b in zip(sched, sched[1:]))
    assert linear_sparsity(2, 0.8, 4) == pytest.approx(0.4)


def test_agp_bad_input():
    with pytest.raises(ValueError, match="final"):
        agp_sparsity(0, 0.5, 0.2, 0, 4, 1)
    with pytest.raises(ValueError, match="n_steps"):
        agp_schedule(0.0, 0.5, 0, 0, 1)
    with pytest.raises(ValueError, match="final"):
        agp_schedule(0.0, 1.0, 0, 3, 1)
    with pytest.raises(TypeError, match="interval"):
        agp_schedule(0.0, 0.5, 0, 3, 1.5)


def test_unenforced_adam_revives_weights_enforced_does_not():
    tr = load_digits("train")
    model = load_reference("mlp")
    pruned, masks = prune_model(model, 0.9)
    naive = prune_model(model, 0.9)[0]
    train(naive, tr, epochs=1, lr=1e-3)                    # ordinary training: weights regrow
    assert not check_masks_hold(naive, masks)
    fine_tune_(pruned, masks, tr, epochs=1, lr=1e-3, weight_decay=1e-2)
    assert check_masks_hold(pruned, masks)


def test_reference_mlp_90pct_global_finetune_within_one_point():
    seed_everything(0)
    tr, va = load_digits("train"), load_digits("val")
    model = load_reference("mlp")
    base = accuracy(model, va)
    pruned, masks = prune_model(model, 0.9, scope="global")
    one_shot = accuracy(pruned, va)
    hist = fine_tune_(pruned, masks, tr, epochs=5, lr=1e-3, seed=0, val=va)
    after = accuracy(pruned, va)
    print(f"MLP val acc: dense {base:.4f}, 90% global one-shot {one_shot:.4f}, "
          f"after 5 epochs mask-enforced fine-tune {after:.4f}")
    assert after >= base - 0.01
    assert one_shot < after                                 # fine-tuning recovered something
    assert check_masks_hold(pruned, masks)
    w = {n: getattr(pruned, n).weight for n in masks}
    assert all(bool((w[n][~masks[n]] == 0).all()) for n in masks)
    assert sparsity_of(w) >= 0.9 - 1e-4
    assert hist[-1]["val_accuracy"] == pytest.approx(after)


def test_iterative_prune_agp():
    tr, va = load_digits("train"), load_digits("val")
    model = load_reference("mlp")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new, masks, hist = iterative_prune(model, 0.8, steps=3, split=tr, epochs_per_step=1, lr=1e-3, val=va)
    assert [h["step"] for h in hist] == [1, 2, 3]
    assert hist[-1]["sparsity"] == pytest.approx(0.8)
    assert hist[-1]["achieved"] == pytest.approx(0.8, abs=1e-4)
    assert hist[0]["sparsity"] == pytest.approx(0.8 * (1 - (2 / 3) ** 3))
    assert check_masks_hold(new, masks)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert hist[-1]["val_accuracy"] > 0.9
