"""Tests for pruninglab.labs.fundamentals (notebook 01)."""
import copy

import numpy as np

import ipywidgets as w
import pytest
import torch
from torch import nn

from pruninglab.grading._fundamentals_ex import REFERENCE
from pruninglab.labs import fundamentals as F
from pruninglab.ui import dropdown, float_slider, slider_ui, sparsity_slider

MM, GM, ITP = (REFERENCE[k] for k in ("magnitude_mask", "global_threshold_masks", "iterative_threshold_prune"))
FNS = dict(mask_fn=MM, global_fn=GM)


def _tiny():
    """Linear(3 -> 2) followed by Linear(2 -> 2) with hand-picked weights."""
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[0.1, -0.5, 0.2], [1.0, -0.05, 0.3]]))
        m[2].weight.copy_(torch.tensor([[0.4, -0.01], [0.0, 2.0]]))
    return m


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def _small_train(digits, n=320):
    """The first ``n`` training samples (5 Adam steps per epoch): enough for tests that check
    the algorithm (masks, step counts, equality with a reference loop), not accuracy."""
    from pruninglab.data import Split
    tr = digits["train"]
    return Split("train", tr.x[:n], tr.y[:n])


@pytest.fixture(scope="module")
def design_sw():
    """One small S4-E1 design sweep shared by the two design-slider tests."""
    from pruninglab.data import load_digits
    from pruninglab.models import load_reference
    tr = load_digits("train")
    small = type(tr)("train", tr.x[:480], tr.y[:480])          # 8 Adam steps per epoch
    return F.design_sweep(load_reference("mlp"), small, load_digits("val"), qs=(0.5, 2.0),
                          rounds=2, epochs=1, prune_fn=ITP, seeds=(0, 1))


def test_threshold_masks_exact_values_all_modes():
    m = _tiny()
    before = _state(m)
    a = F.threshold_masks(m, 0.2, "absolute")
    assert a["0"].tolist() == [[False, True, True], [True, False, True]]
    assert a["2"].tolist() == [[True, False], [False, True]]
    # 0.3 * max|W|: layer 0 -> 0.3, layer 2 -> 0.6
    r = F.threshold_masks(m, 0.3, "fraction_of_max")
    assert r["0"].tolist() == [[False, True, False], [True, False, True]]
    assert r["2"].tolist() == [[False, False], [False, True]]
    s = F.threshold_masks(m, 1.0, "times_std")
    std0 = float(m[0].weight.detach().std())
    assert s["0"].tolist() == (m[0].weight.abs() >= std0).tolist()
    assert _same(before, _state(m))                       # pure


def test_threshold_masks_reference_scale():
    m = _tiny()
    ref = copy.deepcopy(m)
    with torch.no_grad():
        ref[0].weight.mul_(10)                            # max 10 -> threshold 0.5*10 = 5
    out = F.threshold_masks(m, 0.5, "fraction_of_max", reference=ref)
    assert int(out["0"].sum()) == 0


def test_hardware_cost_exact_counts(mlp):
    hc = F.hardware_cost(mlp)
    assert hc["params"] == 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert hc["macs"] == 64 * 256 + 256 * 128 + 128 * 10
    assert hc["dense_bytes"] == 4 * hc["params"]
    assert hc["nonzero_macs"] == hc["macs"]               # the reference has no exact zeros


def test_bad_inputs_name_the_argument(mlp, digits):
    with pytest.raises(ValueError, match="value"):
        F.threshold_masks(mlp, -0.1)
    with pytest.raises(ValueError, match="mode"):
        F.threshold_masks(mlp, 0.1, "percentile")
    with pytest.raises(TypeError, match="model"):
        F.threshold_masks("mlp", 0.1)
    with pytest.raises(TypeError, match="split"):
        F.compute_threshold(0.1, mlp, "val")
    with pytest.raises(ValueError, match="norm"):
        F.compute_structured(0.5, "l3", mlp, digits["val"])
    with pytest.raises(ValueError, match="ratio"):
        F.compute_structured(1.0, "l1", mlp, digits["val"])
    with pytest.raises(ValueError, match="sparsity"):
        F.compute_criteria(1.2, mlp, digits["val"], **FNS)
    with pytest.raises(ValueError, match="sparsities"):
        F.criteria_sweep(mlp, digits["val"], sparsities=(), **FNS)
    with pytest.raises(TypeError, match="mask_fn"):
        F.criteria_sweep(mlp, digits["val"], mask_fn=None, global_fn=GM)
    with pytest.raises(ValueError, match="q"):
        F.run_design(mlp, -1.0, digits["train"], prune_fn=ITP)
    with pytest.raises(TypeError, match="prune_fn"):
        F.run_design(mlp, 1.0, digits["train"], prune_fn="x")
    with pytest.raises(TypeError, match="sweep"):
        F.compute_design(1.0, mlp, digits["val"], sweep=None, prune_fn=ITP)


def test_compute_threshold_counts_and_purity(mlp, digits):
    before = _state(mlp)
    r = F.compute_threshold(0.05, mlp, digits["val"])
    kept = sum(int((m.weight.abs() >= 0.05).sum()) for m in (mlp.fc1, mlp.fc2, mlp.fc3))
    biases = 256 + 128 + 10
    assert r["nonzeros"] == kept + biases
    assert r["nonzero_macs"] == kept
    assert r["layer_sparsity"]["fc1"] == pytest.approx(float((mlp.fc1.weight.abs() < 0.05).float().mean()))
    assert _same(before, _state(mlp))
    r0 = F.compute_threshold(0.0, mlp, digits["val"])
    assert r0["sparsity"] == 0.0 and r0["csr_bytes"] > r0["dense_bytes"]


def test_compute_structured_shrinks(mlp, digits):
    before = _state(mlp)
    r = F.compute_structured(0.5, "l1", mlp, digits["val"])
    assert r["widths"] == {"fc1": 128, "fc2": 64, "fc3": 10}
    assert r["params"] == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert r["macs"] == 64 * 128 + 128 * 64 + 64 * 10
    assert r["dense_bytes"] == 4 * r["params"]
    assert _same(before, _state(mlp))


def test_criteria_sweep_magnitude_beats_random(mlp, digits):
    sw = F.criteria_sweep(mlp, digits["val"], sparsities=(0.0, 0.7), **FNS)
    assert sw["layer_magnitude"][0] == sw["random"][0]        # nothing pruned
    assert sw["layer_magnitude"][1] > sw["random"][1] + 0.2
    assert sw["structured_params"][0] == sw["dense_params"]
    assert sw["structured_sparsity"][1] > 0.7                 # 70 % of neurons removes > 70 % of weights


def test_run_design_enforces_masks_and_counts_steps(mlp, digits):
    before = _state(mlp)
    calls = []

    def spy(weights, q, rounds, step, steps_per_round):
        out = ITP(weights, q, rounds, step, steps_per_round)
        calls.append((rounds, steps_per_round, step.calls))
        return out
    tr = _small_train(digits)
    new, masks = F.run_design(mlp, 1.5, tr, prune_fn=spy, rounds=2, epochs=1)
    spe = -(-len(tr) // 64)
    assert calls == [(2, spe, 2 * spe)]
    for name, m in masks.items():
        assert torch.all(getattr(new, name).weight[~m] == 0)
        assert 0 < int((~m).sum()) < m.numel()
    assert _same(before, _state(mlp))


def test_train_step_is_deterministic_and_moves_pruned_weights(mlp, digits):
    w = F._layer_arrays(mlp)
    w0 = {n: v * (abs(v) > 0.05) for n, v in w.items()}
    a = F.TrainStep(mlp, digits["train"], seed=3)(w0)
    b = F.TrainStep(mlp, digits["train"], seed=3)(w0)
    assert all((a[n] == b[n]).all() for n in a)
    assert any(((w0[n] == 0) & (a[n] != 0)).any() for n in a)   # why the mask must be re-applied


def test_oneshot_control_matches_the_iterative_sparsity(mlp, digits):
    target = 0.6
    q = F.match_q(mlp, target, prune_fn=ITP)
    assert abs(F.oneshot_sparsity(mlp, q, prune_fn=ITP) - target) < 1e-3


def test_threshold_slider_changes_result(mlp, digits):
    ui = slider_ui(F.compute_threshold, None,
                   threshold=float_slider(0.0, 0.0, 0.3, 0.01, "threshold"),
                   model=w.fixed(mlp), split=w.fixed(digits["val"]),
                   mode=dropdown(F.THRESHOLD_MODES))
    assert ui.result["sparsity"] == 0.0
    ui.children[0].value = 0.1
    r = ui.result
    assert r["threshold"] == pytest.approx(0.1)
    assert r["sparsity"] == pytest.approx(
        sum(int((m.weight.abs() < 0.1).sum()) for m in (mlp.fc1, mlp.fc2, mlp.fc3))
        / (64 * 256 + 256 * 128 + 128 * 10))
    ui.children[1].value = "fraction_of_max"
    assert ui.result["mode"] == "fraction_of_max"
    assert ui.result["sparsity"] < r["sparsity"]              # 0.1·max|W| ≈ 0.03-0.05 < 0.1


def test_structured_slider_and_norm_dropdown(mlp, digits):
    ui = slider_ui(F.compute_structured, None, ratio=sparsity_slider(0.25),
                   norm=dropdown(["l1", "l2"]), model=w.fixed(mlp), split=w.fixed(digits["val"]))
    assert ui.result["widths"]["fc1"] == 192
    ui.children[0].value = 0.75
    assert ui.result["widths"] == {"fc1": 64, "fc2": 32, "fc3": 10}
    a1 = ui.result["accuracy"]
    ui.children[1].value = "l2"
    assert ui.result["norm"] == "l2"
    assert ui.result["params"] == 64 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10
    assert 0.0 <= a1 <= 1.0


def test_design_slider(mlp, digits, design_sw):
    sw = design_sw
    assert len(sw["iter_acc"][0]) == 2 and len(sw["ft_acc"][1]) == 2
    assert abs(sw["ft_sparsity"][1][0] - sorted(sw["iter_sparsity"][1])[0]) < 0.01   # same sparsity
    ui = slider_ui(F.compute_design, None, q=float_slider(0.5, 0.0, 3.0, 0.05, "q"),
                   model=w.fixed(mlp), split=w.fixed(digits["val"]), sweep=w.fixed(sw),
                   prune_fn=w.fixed(ITP))
    assert ui.result["q_used"] == 0.5
    ui.children[0].value = 1.9
    r = ui.result
    assert r["q_used"] == 2.0 and r["q"] == pytest.approx(1.9)
    assert r["oneshot_sparsity"] > 0.9
    assert r["iter_acc"] > r["oneshot_acc"]                 # fine-tuning recovers at high q


def _drive(live, compute, moves, **controls):
    """Build the slider UI with ``live``; apply ``moves`` [(child index, value)]; check that each
    move changes both the result and the PNG of the same (in place updated) figure."""
    ui = slider_ui(compute, live, **controls)
    fig = live.fig
    assert live.png.startswith(b"\x89PNG")
    for i, v in moves:
        before_r, before_png = ui.result, live.png
        ui.children[i].value = v
        assert ui.result is not before_r
        assert live.png != before_png, (i, v)
        assert live.fig is fig
    return ui


def test_live_criteria_slider(mlp, digits, capsys):
    sw = F.criteria_sweep(mlp, digits["val"], sparsities=(0.0, 0.5, 0.9), **FNS)
    ui = _drive(F.live_criteria(), F.compute_criteria, [(0, 0.5), (0, 0.95)],
                sparsity=sparsity_slider(0.9, hi=0.98), model=w.fixed(mlp),
                split=w.fixed(digits["val"]), sweep=w.fixed(sw), mask_fn=w.fixed(MM),
                global_fn=w.fixed(GM))
    assert ui.result["sparsity"] == 0.95
    assert "sparsity 0.95: val acc layer-magnitude" in capsys.readouterr().out


def test_live_threshold_slider(mlp, digits):
    ui = _drive(F.live_threshold(), F.compute_threshold, [(0, 0.1), (1, "times_std")],
                threshold=float_slider(0.05, 0.0, 0.3, 0.005, "threshold"),
                model=w.fixed(mlp), split=w.fixed(digits["val"]),
                mode=dropdown(F.THRESHOLD_MODES, "absolute"))
    assert ui.result["mode"] == "times_std" and ui.result["threshold"] == pytest.approx(0.1)


def test_live_structured_slider(mlp, digits):
    ui = _drive(F.live_structured(), F.compute_structured, [(0, 0.75), (1, "l2")],
                ratio=sparsity_slider(0.5, hi=0.95), norm=dropdown(["l1", "l2"]),
                model=w.fixed(mlp), split=w.fixed(digits["val"]))
    assert ui.result["widths"] == {"fc1": 64, "fc2": 32, "fc3": 10} and ui.result["norm"] == "l2"


def test_live_design_slider(mlp, digits, design_sw):
    sw = design_sw
    ui = _drive(F.live_design(), F.compute_design, [(0, 1.0), (0, 2.5)],
                q=float_slider(1.5, 0.0, 2.5, 0.05, "q"), model=w.fixed(mlp),
                split=w.fixed(digits["val"]), sweep=w.fixed(sw), prune_fn=w.fixed(ITP))
    assert ui.result["q_used"] == 2.0


def test_render_text_is_unchanged(mlp, digits, capsys):
    r = F.compute_structured(0.5, "l1", mlp, digits["val"])
    F.render_structured(r)
    assert capsys.readouterr().out.splitlines()[:2] == [   # then the image
        f"L1 neuron pruning, ratio 0.50: widths {{'fc1': 128, 'fc2': 64, 'fc3': 10}}, "
        f"val acc {r['accuracy']:.4f}",
        f"params 17226 (dense 50826), MACs 17024 (dense 50432), "
        f"kept neurons differing L1 vs L2: {r['l1_l2_differ']}"]


# ------------------------------------------------------------------ the learner's functions
def _notebook_solution(exercise_id):
    from pruninglab.grading import EXERCISES
    from pruninglab.grading.solutions import solution_source
    ns = {"np": np}
    exec(solution_source(exercise_id), ns)
    return ns[EXERCISES[exercise_id].function_name]


def test_reference_solutions_give_the_library_figures(mlp, digits):
    """The notebook's answer-cell solutions, swapped in, give exactly the figures of the library
    implementation (pruninglab.pruning masks; a torch loop with threshold_mask for S4-E1)."""
    from pruninglab.pruning import compute_masks, apply_masks_, threshold_mask
    from pruninglab.train import accuracy
    mm, gm, itp = (_notebook_solution(k) for k in
                   ("magnitude_mask", "global_threshold_masks", "iterative_threshold_prune"))
    sw = F.criteria_sweep(mlp, digits["val"], sparsities=(0.5, 0.9), mask_fn=mm, global_fn=gm)
    for i, s in enumerate((0.5, 0.9)):
        for key, scope in (("layer_magnitude", "layer"), ("global_magnitude", "global")):
            m = copy.deepcopy(mlp)
            apply_masks_(m, compute_masks(mlp, s, scope=scope))
            assert sw[key][i] == accuracy(m, digits["val"])
    # S4-E1: the same TrainStep, the pruning done with library masks in torch
    tr = _small_train(digits)
    got, got_masks = F.run_design(mlp, 1.5, tr, prune_fn=itp, rounds=2, epochs=1, seed=4)
    step = F.TrainStep(mlp, tr, seed=4)
    layers = F.prunable_layers(mlp)
    std = {n: float(np.std(layers[n].weight.detach().numpy())) for n in layers}
    cur = {n: layers[n].weight.detach().clone() for n in layers}
    masks = {n: torch.ones_like(cur[n], dtype=torch.bool) for n in layers}
    for k in (1, 2):
        for n in cur:
            masks[n] &= threshold_mask(cur[n], 1.5 * k / 2 * std[n])
            cur[n] = cur[n] * masks[n]
        for _ in range(step.steps_per_epoch):
            cur = {n: torch.from_numpy(v) * masks[n] for n, v in step({n: c.numpy() for n, c in cur.items()}).items()}
    for n in layers:
        assert torch.equal(got_masks[n], masks[n])
        assert torch.allclose(getattr(got, n).weight, cur[n], atol=1e-7)



def test_reference_mask_gives_the_library_figures_in_s2q2_s4q2_taylor(mlp, cnn, digits):
    """S2-Q2 / S4-Q2 test 2 / Taylor cells of notebook 01 run the learner's magnitude_mask
    (F.layer_masks / F.score_masks + F.masked_copy); with the reference swapped in they give the
    library's figures (prune_model per layer; P.magnitude_mask on the Taylor scores)."""
    from pruninglab import pruning as P
    from pruninglab.data import load_digits
    from pruninglab.train import accuracy
    mm = _notebook_solution("magnitude_mask")
    val_images = load_digits("val", images=True)
    for model, split in ((mlp, digits["val"]), (cnn, val_images)):
        mine = F.masked_copy(model, F.layer_masks(model, 0.5, mm))
        lib, _ = P.prune_model(model, 0.5, scope="layer")
        for n, m in P.model_weights(lib).items():
            assert torch.equal(P.model_weights(mine)[n], m)
        assert accuracy(mine, split) == accuracy(lib, split)
        assert F.hardware_cost(mine) == F.hardware_cost(lib)
    g = copy.deepcopy(mlp)
    torch.nn.functional.cross_entropy(g(digits["train"].x), digits["train"].y).backward()
    scores = {n: (getattr(g, n).weight * getattr(g, n).weight.grad).abs().detach() for n in ("fc1", "fc2", "fc3")}
    mine = F.score_masks(scores, 0.8, mm)
    for n, sc in scores.items():
        assert torch.equal(mine[n], P.magnitude_mask(sc, 0.8).bool())
    with pytest.raises(TypeError, match="scores"):
        F.score_masks([], 0.8, mm)


def test_three_exercises_end_to_end_as_a_learner(mlp, digits, capsys):
    """Exec the answer cells (reference bodies) into a namespace like a kernel, run check, then
    the notebook's experiments with the learner's functions; a stub is refused politely."""
    from pruninglab.grading import check
    from pruninglab.grading.solutions import solution_source
    from pruninglab.labs.learner import ready
    ns = {"np": np, "check": check}
    stubs = {}
    for ex in ("magnitude_mask", "global_threshold_masks", "iterative_threshold_prune"):
        src = solution_source(ex)
        exec(src, ns)
        exec(f"check({ex!r}, {ex})", ns)
        stub_src = src.split("### BEGIN SOLUTION")[0] + "raise NotImplementedError()\n"
        sns = {"np": np}
        exec(stub_src, sns)
        stubs[ex] = sns[ex]
    out = capsys.readouterr().out
    assert out.count("PASSED") >= 3 and "FAILED" not in out, out
    assert not ready("magnitude_mask", stubs["magnitude_mask"])
    assert "write it in the exercise cell" in capsys.readouterr().out
    assert all(ready(ex, ns[ex]) for ex in stubs)
    sw = F.criteria_sweep(mlp, digits["val"], sparsities=(0.0, 0.7), mask_fn=ns["magnitude_mask"],
                          global_fn=ns["global_threshold_masks"])
    assert sw["global_magnitude"][1] > sw["random"][1] + 0.3
    ui = slider_ui(F.compute_criteria, None, sparsity=sparsity_slider(0.5), model=w.fixed(mlp),
                   split=w.fixed(digits["val"]), sweep=w.fixed(sw), mask_fn=w.fixed(ns["magnitude_mask"]),
                   global_fn=w.fixed(ns["global_threshold_masks"]))
    ui.children[0].value = 0.9
    assert ui.result["nonzeros"] < 0.15 * ui.result["params"]
    new, masks = F.run_design(mlp, 2.0, _small_train(digits), prune_fn=ns["iterative_threshold_prune"],
                              rounds=2, epochs=1)
    assert all(torch.all(getattr(new, n).weight[~m] == 0) for n, m in masks.items())
    with pytest.raises(NotImplementedError):
        F.run_design(mlp, 2.0, digits["train"], prune_fn=stubs["iterative_threshold_prune"])
