"""pruninglab.labs.retrain: notebook-04 glue over pruninglab.pruning (AGP, sweeps, allocation UIs)."""
import ipywidgets as w
import numpy as np
import pytest
import torch

from pruninglab.labs import retrain as R
from pruninglab.pruning import compute_masks, sensitivity_scan
from pruninglab.ui import int_slider, slider_ui, sparsity_slider


def test_weight_sparsity_and_storage_exact(mlp):
    before = {k: v.clone() for k, v in mlp.state_dict().items()}
    assert R.weight_sparsity(mlp) == 0.0
    b = R.storage_bytes_dense_csr(mlp)
    assert b["params"] == 50826 and b["dense_bytes"] == 50826 * 4
    # dense weights in CSR: every weight with a 16-bit index + 32-bit row pointers; biases fp32
    assert b["csr_bytes"] == 50432 * 6 + 4 * (257 + 129 + 11) + 394 * 4
    assert all(torch.equal(before[k], v) for k, v in mlp.state_dict().items())  # not mutated


def test_weight_sparsity_tiny():
    lin = torch.nn.Linear(4, 1, bias=True)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.3, 0.0, 0.0, -2.0]]))
        lin.bias.zero_()                                   # biases are not counted
    assert R.weight_sparsity(torch.nn.Sequential(lin)) == 0.5


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="final"):
        R.compute_agp(initial=0.5, final=0.2)
    with pytest.raises(ValueError, match="interval"):
        R.compute_agp(interval=0)
    with pytest.raises(TypeError, match="n_steps"):
        R.compute_agp(n_steps=2.5)
    with pytest.raises(ValueError, match="sparsity"):
        R.compute_prune_retrain(1.0, {"sparsity": np.zeros(1)})
    with pytest.raises(TypeError, match="sweep"):
        R.compute_prune_retrain(0.5, [1, 2])
    with pytest.raises(ValueError, match="model_name"):
        R.prune_retrain_sweep("resnet")
    with pytest.raises(ValueError, match="target"):
        R.compute_allocation(1.5, {"fc1": [1.0]})
    with pytest.raises(TypeError, match="scan"):
        R.compute_allocation(0.5, "scan")
    with pytest.raises(ValueError, match="final"):
        R.compare_gradual_oneshot(final=1.0)


def test_agp_exact_values_library_convention():
    r = R.compute_agp(initial=0.2, final=0.8, start=10, n_steps=4, interval=5, total_steps=40)
    assert r["update_steps"].tolist() == [10, 15, 20, 25, 30]
    assert r["update_sparsity"][1] == pytest.approx(0.8 - 0.6 * 0.75 ** 3)
    assert r["sparsity"][0] == pytest.approx(0.2)       # before t0: s_i (library convention)
    assert r["sparsity"][17] == r["sparsity"][15]        # held between updates
    assert r["sparsity"][40] == pytest.approx(0.8)
    assert r["half_point_step"] == 15                     # 0.8 - 0.6*0.42 = 0.547 >= 0.5


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


@pytest.fixture(scope="module")
def sweep():
    """The notebook's sweep (same call as notebook 04, so the on-disk cache is shared with the
    nbval run of the notebook: computed once per cache)."""
    return R.cached_prune_retrain_sweep("mlp", epochs=5, lr=1e-3)



def test_prune_retrain_slider(sweep):
    ui = slider_ui(R.compute_prune_retrain, None, sparsity=sparsity_slider(0.5),
                   sweep=w.fixed(sweep))
    assert ui.result["sparsity"] == 0.5
    ui.children[0].value = 0.88
    r = ui.result
    assert r["sparsity"] == 0.9 and r["requested"] == pytest.approx(0.88)
    assert r["val_finetuned"] > r["val_pruned"]             # fine-tuning recovers at 90 %
    assert r["csr_bytes"] < r["dense_bytes"]
    assert r["measured_sparsity"] == pytest.approx(0.9, abs=1e-4)   # masks held while fine-tuning


def test_sweep_pruned_accuracy_matches_library_masks(sweep, mlp, digits):
    from pruninglab.pruning import apply_masks_
    from pruninglab.train import accuracy
    apply_masks_(mlp, compute_masks(mlp, 0.9, scope="layer"))
    assert sweep["val_pruned"][sweep["sparsity"].tolist().index(0.9)] == pytest.approx(accuracy(mlp, digits["val"]))


GRID5 = (0.0, 0.5, 0.8, 0.9, 0.95)


@pytest.fixture(scope="module")
def scan5():
    """One small library scan shared by the slider tests (the notebook validates the full one)."""
    from pruninglab.data import load_digits
    from pruninglab.models import load_reference
    return sensitivity_scan(load_reference("mlp"), load_digits("val"), GRID5)


def test_allocation_slider(scan5):
    grid = GRID5
    scan = {k: list(v) for k, v in scan5.items()}
    frozen = {k: list(v) for k, v in scan.items()}
    ui = slider_ui(R.compute_allocation, None, target=sparsity_slider(0.5), scan=w.fixed(scan),
                   sparsities=w.fixed(grid))
    first = ui.result["auto"]["nonzeros"]
    ui.children[0].value = 0.8
    r = ui.result
    assert r["target"] == 0.8 and r["auto"]["nonzeros"] < first
    assert r["auto"]["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["uniform"]["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["auto"]["nonzeros"] == pytest.approx(r["uniform"]["nonzeros"], abs=5)
    assert r["auto"]["val"] >= r["uniform"]["val"]
    assert r["allocation"]["fc3"] < r["allocation"]["fc2"]        # small sensitive layer spared
    assert scan == frozen                                          # input not mutated


def test_live_plots_update_in_place(sweep, scan5):
    """The slider figures are LivePlots: a move changes ui.result and the PNG, same figure."""
    for compute, live, controls in (
            (R.compute_prune_retrain, R.live_prune_retrain(),
             {"sparsity": sparsity_slider(0.5), "sweep": w.fixed(sweep)}),
            (R.compute_agp, R.live_agp(),
             {"final": sparsity_slider(0.5), "n_steps": int_slider(4, 1, 20)}),
            (R.compute_allocation, R.live_allocation(),
             {"target": sparsity_slider(0.5),
              "scan": w.fixed(scan5), "sparsities": w.fixed(GRID5)})):
        ui = slider_ui(compute, live, **controls)
        fig, png, before = live.fig, live.png, ui.result
        assert png.startswith(b"\x89PNG")
        ui.children[0].value = 0.9
        assert ui.result is not before and live.fig is fig and live.png != png
    assert ui.result["target"] == 0.9


def test_live_agp_warm_renders_the_nearby_x_ranges_at_build():
    r0 = R.compute_agp(0.0, 0.9, 20, 10, 15)                   # T = 200: x-axis ends at 200
    ends = R._nice_values_near(float(r0["steps"][-1]), 15)
    assert ends[:4] == [200.0, 250.0, 150.0, 300.0] and len(ends) == 15 == len(set(ends))
    cold, warm = R.live_agp(), R.live_agp(warm=r0)
    assert warm.png is None and set(warm._bg) == set(ends)     # nothing shown yet, 15 backgrounds
    assert warm.draw(r0) == cold.draw(r0)
    crossing = R.compute_agp(0.0, 0.9, 20, 10, 31)               # T = 360: x-axis ends at 400
    n = len(warm._bg)
    assert warm.draw(crossing) == cold.draw(crossing) and len(warm._bg) == n   # a blit, no new background
    assert warm.blit_matches_full_redraw(crossing)
    with pytest.raises(TypeError, match="warm"):
        R.live_agp(warm={"final": 0.9})


def test_render_prints_the_summary(sweep, capsys):
    R.render_prune_retrain(R.compute_prune_retrain(0.9, sweep))
    out = capsys.readouterr().out
    assert out.startswith("sparsity 0.90 (precomputed point 7 of 12, marked ◇ in the plot): val acc pruned")
    R.render_prune_retrain(R.compute_prune_retrain(0.88, sweep))
    assert "(the nearest of the 12 precomputed points to 0.88, marked ◇ in the plot)" in capsys.readouterr().out


def test_prune_retrain_grid_slider_marks_the_shown_point(sweep):
    """Every position of the grid slider is a precomputed point; the ◇ marker sits on both curves."""
    from pruninglab.ui import grid_slider
    live = R.live_prune_retrain()
    ui = slider_ui(R.compute_prune_retrain, live, sparsity=grid_slider(sweep["sparsity"].tolist(), 0.9),
                   sweep=w.fixed(sweep))
    pngs = {live.png}
    for v in (0.0, 0.5):
        ui.children[0].value = v
        r = ui.result
        assert r["sparsity"] == v == r["requested"]
        x, y = (np.asarray(a).tolist() for a in live.state["pt"].get_data())
        assert x == [v, v] and y == [r["val_pruned"], r["val_finetuned"]]
        pngs.add(live.png)
    assert len(pngs) == 3                                          # no dead position


# ---------------------------------------------------------------- experiments run the learner's code
def _ref(eid):
    """The notebook's answer cell, executed with its source registered in ``linecache`` (as
    ipykernel does for a cell), so that ``function_key`` (the cache key of the learner-function
    experiments) equals the notebook's and the on-disk results are shared with its nbval run."""
    import linecache
    from pruninglab.grading.solutions import solution_source
    ns = {"np": np, "__name__": "__main__"}
    for e in ("masked_sgd_step", "agp_sparsity", "gradual_prune", "layer_sensitivity", "allocate_budget"):
        src = solution_source(e) + "\n"
        fname = f"<answer:{e}>"
        linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
        exec(compile(src, fname, "exec"), ns)
    return ns[eid]


def test_compare_allocations_reference_matches_library_quality(scan5):
    from pruninglab.labs.retrain import compare_allocations
    r = compare_allocations(_ref("allocate_budget"), scan5, 0.9, GRID5)
    assert r["yours"]["sparsity"] >= 0.9 - 1e-4
    # exhaustive on the grid = the optimum of the additive model among grid allocations
    assert r["yours"]["predicted"] >= r["uniform"]["predicted"] - 1e-12
    assert r["yours"]["val"] >= r["uniform"]["val"]
    assert abs(r["yours"]["val"] - r["library"]["val"]) < 0.06
    # the paired bootstrap interval brackets the measured difference
    assert r["diff_lo"] <= r["diff"] <= r["diff_hi"]
    assert r["diff"] == pytest.approx(r["yours"]["val"] - r["library"]["val"], abs=1e-6)


def test_reference_scan_gives_the_library_scan(scan5):
    """Swap in the notebook's reference layer_sensitivity: exactly the library's sensitivity_scan."""
    from pruninglab.data import load_digits
    from pruninglab.models import load_reference
    mine = R.learner_scan(_ref("layer_sensitivity"), load_reference("mlp"), load_digits("val"), GRID5)
    assert mine == scan5


def test_val_score_refuses_the_test_split(mlp, digits):
    ev = R.ValScore(mlp, digits["val"])
    w0 = ev.dense_weights()
    assert ev(w0) == pytest.approx(R.accuracy(mlp, digits["val"]))
    with pytest.raises(ValueError, match="split"):
        ev(w0, "test")
    with pytest.raises(TypeError, match="weights"):
        ev(w0[:2])
    with pytest.raises(ValueError, match="split"):
        R.learner_scan(_ref("layer_sensitivity"), mlp, digits["test"], GRID5)


def test_regrowth_experiment_with_reference_step():
    """Same call as notebook 04 (cached under the answer's source: shared with its nbval run)."""
    from pruninglab.labs.fundamentals import function_key
    step = _ref("masked_sgd_step")
    assert function_key(step)                                   # source found: cached like the notebook
    r = R.cached_regrowth_experiment(step)
    assert abs(r["yours"]["weight_sparsity"] - 0.9) < 1e-3
    assert r["grad_zeroed_only"]["weight_sparsity"] < 0.8      # carried-over momentum regrows
    assert r["yours"]["val"] > r["grad_zeroed_only"]["val"] - 0.05


def test_gradual_vs_oneshot_same_masks_as_library_schedule():
    """The learner's gradual_prune (reference) yields exactly the final sparsity; one-shot and
    gradual get the same number of steps."""
    r = R.cached_gradual_vs_oneshot(_ref("gradual_prune"), final=0.95, epochs=8, prune_epochs=5,
                                    n_updates=16)           # the notebook's call (shared cache)
    assert abs(r["sparsity"]["oneshot"] - 0.95) < 1e-3 and abs(r["sparsity"]["gradual"] - 0.95) < 1e-3
    assert len(r["oneshot"]) == len(r["gradual"]) == 3
    assert r["gradual_min"] <= r["gradual_mean"] <= r["gradual_max"]
    assert 0.1 < r["oneshot_mean"] <= 1 and 0.1 < r["gradual_mean"] <= 1


def test_function_key_follows_called_functions():
    """A change in a function the learner's function calls (agp_sparsity inside gradual_prune)
    changes the cache key."""
    from pruninglab.labs.fundamentals import function_key
    g = _ref("gradual_prune")
    k = function_key(g)
    import linecache
    src = "def agp_sparsity(step, initial, final, start, n_steps, interval):\n    return 0.5\n"
    linecache.cache["<changed>"] = (len(src), None, src.splitlines(True), "<changed>")
    exec(compile(src, "<changed>", "exec"), g.__globals__)
    assert function_key(g) != k


def test_learner_agp_equals_library_schedule():
    from pruninglab.pruning import agp_schedule
    agp = _ref("agp_sparsity")
    assert [agp(20 + 15 * k, 0.0, 0.9, 20, 10, 15) for k in range(11)] == pytest.approx(
        agp_schedule(0.0, 0.9, 20, 10, 15))


def test_allocation_masks_from_precomputed_orders_equal_compute_masks():
    """The slider's per-layer masks come from |w| orders sorted once per model; they must be
    exactly :func:`compute_masks`'s (ties included), for a float and for a per-layer dict."""
    import torch
    from pruninglab.pruning import compute_masks
    ref, _, orders = R._allocation_base("mlp")
    layers = list(orders)
    for spec in (0.0, 0.37, 0.9, 0.99, {layers[0]: 0.95, layers[-1]: 0.2}):
        want = compute_masks(ref, spec, scope="layer", layers=layers)
        got = R._ranked_masks(ref, orders, spec, layers)
        assert list(got) == list(want)
        for n in want:
            assert got[n].dtype == torch.bool and got[n].shape == want[n].shape
            assert torch.equal(got[n], want[n]), (spec, n)
    w = ref.fc1.weight.detach().clone()
    assert R.compute_allocation(0.9, R.cached_library_scan("mlp"))["target"] == 0.9
    assert torch.equal(ref.fc1.weight, w)          # the shared reference model is never pruned
