"""pruninglab.labs.retrain: masks, AGP, allocation, and the notebook-04 slider UIs."""
import ipywidgets as w
import numpy as np
import pytest
import torch

from pruninglab.labs import retrain as R
from pruninglab.ui import int_slider, slider_ui, sparsity_slider


def test_magnitude_masks_exact_count_and_pure(mlp):
    before = {k: v.clone() for k, v in mlp.state_dict().items()}
    masks = R.magnitude_masks(mlp, {"fc1": 0.5, "fc3": 0.25})
    assert set(masks) == {"fc1", "fc2", "fc3"}
    assert int((~masks["fc1"]).sum()) == 8192 and int((~masks["fc2"]).sum()) == 0
    assert int((~masks["fc3"]).sum()) == 320
    assert all(torch.equal(before[k], v) for k, v in mlp.state_dict().items())  # not mutated
    kept = mlp.fc1.weight.detach().abs()[masks["fc1"]].min()
    dropped = mlp.fc1.weight.detach().abs()[~masks["fc1"]].max()
    assert kept >= dropped


def test_tiny_mask_exact_values():
    lin = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.3, -0.1, 0.0, -2.0]]))
    m = R.magnitude_masks(torch.nn.Sequential(lin), 0.5)
    assert m["0"].tolist() == [[True, False, False, True]]


def test_bad_inputs_name_the_argument(mlp):
    with pytest.raises(ValueError, match="sparsity"):
        R.magnitude_masks(mlp, 1.0)
    with pytest.raises(ValueError, match="sparsity"):
        R.magnitude_masks(mlp, float("nan"))
    with pytest.raises(ValueError, match="layer"):
        R.magnitude_masks(mlp, 0.5, layers=["nope"])
    with pytest.raises(ValueError, match="unknown layers"):
        R.magnitude_masks(mlp, {"fc9": 0.5})
    with pytest.raises(TypeError, match="model"):
        R.prunable_layers("mlp")
    with pytest.raises(ValueError, match="final"):
        R.agp_sparsity(3, initial=0.5, final=0.2, start=0, n_steps=2, interval=1)
    with pytest.raises(ValueError, match="interval"):
        R.agp_sparsity(3, initial=0.0, final=0.5, start=0, n_steps=2, interval=0)
    with pytest.raises(ValueError, match="target"):
        R.allocate_sparsity({"acc": {}, "sizes": {}, "sparsities": np.zeros(1)}, 1.5)


def test_agp_formula_exact():
    kw = dict(initial=0.0, final=0.8, start=10, n_steps=4, interval=5)
    assert R.agp_sparsity(9, **kw) == 0.0
    assert R.agp_sparsity(10, **kw) == 0.0
    assert R.agp_sparsity(15, **kw) == pytest.approx(0.8 * (1 - 0.75 ** 3))
    assert R.agp_sparsity(17, **kw) == R.agp_sparsity(15, **kw)          # held between updates
    assert R.agp_sparsity(30, **kw) == pytest.approx(0.8)
    assert R.agp_sparsity(1000, **kw) == pytest.approx(0.8)


def test_mask_enforcement_keeps_zeros(mlp, digits):
    masks = R.magnitude_masks(mlp, 0.9)
    R.finetune_masked_(mlp, masks, digits["train"], epochs=1, lr=1e-3)
    assert R.mask_sparsity(mlp)["total"] == pytest.approx(0.9, abs=1e-4)


def test_model_bytes_counts(mlp):
    b = R.model_bytes(mlp)
    assert b["params"] == 50826 and b["dense_bytes"] == 50826 * 4
    # dense CSR: every weight stored with a 16-bit index + row pointers
    assert b["csr_bytes"] == (50432 * 6 + 4 * (257 + 129 + 11) + 394 * 4)


def test_allocation_hits_target_exactly():
    scan = {"sparsities": np.array([0.0, 0.5, 0.9]), "base": 1.0,
            "acc": {"a": np.array([1.0, 0.99, 0.5]), "b": np.array([1.0, 0.3, 0.1])},
            "sizes": {"a": 100, "b": 100}}
    alloc = R.allocate_sparsity(scan, 0.5)
    assert alloc["a"] == pytest.approx(0.9) and alloc["b"] == pytest.approx(0.1)
    assert (alloc["a"] * 100 + alloc["b"] * 100) / 200 == pytest.approx(0.5)


@pytest.fixture(scope="module")
def sweep():
    return R.prune_retrain_sweep("mlp", sparsities=(0.0, 0.5, 0.9), epochs=1, lr=1e-3)


def test_prune_retrain_slider(sweep):
    ui = slider_ui(R.compute_prune_retrain, None, sparsity=sparsity_slider(0.5),
                   sweep=w.fixed(sweep))
    assert ui.result["sparsity"] == 0.5
    ui.children[0].value = 0.88
    r = ui.result
    assert r["sparsity"] == 0.9 and r["requested"] == pytest.approx(0.88)
    assert r["test_finetuned"] > r["test_pruned"]           # fine-tuning recovers at 90 %
    assert r["csr_bytes"] < r["dense_bytes"]
    assert r["measured_sparsity"] == pytest.approx(0.9, abs=1e-4)


def test_agp_slider():
    ui = slider_ui(R.compute_agp, None, initial=sparsity_slider(0.0), final=sparsity_slider(0.9),
                   start=int_slider(0, 0, 100), n_steps=int_slider(4, 1, 20),
                   interval=int_slider(10, 1, 50))
    assert ui.result["sparsity"][-1] == pytest.approx(0.9)
    ui.children[3].value = 2
    r = ui.result
    assert r["update_steps"].tolist() == [0, 10, 20]
    assert r["update_sparsity"][1] == pytest.approx(0.9 * (1 - 0.5 ** 3))
    assert np.all(np.diff(r["sparsity"]) >= 0)


def test_allocation_slider(mlp, digits):
    scan = R.sensitivity_scan(mlp, digits["val"], sparsities=(0.0, 0.5, 0.8, 0.9, 0.95))
    ui = slider_ui(R.compute_allocation, None, target=sparsity_slider(0.5), scan=w.fixed(scan))
    ui.children[0].value = 0.8
    r = ui.result
    assert r["auto"]["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["uniform"]["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["auto"]["nonzeros"] == pytest.approx(r["uniform"]["nonzeros"], abs=5)
    assert r["auto"]["val"] >= r["uniform"]["val"]


def test_sensitivity_scan_rejects_test_misuse(mlp):
    with pytest.raises(TypeError, match="split"):
        R.sensitivity_scan(mlp, "val")
    with pytest.raises(ValueError, match="sparsities"):
        R.sensitivity_scan(mlp, __import__("pruninglab.data", fromlist=["x"]).load_digits("val"),
                           sparsities=(0.5, 0.9))
