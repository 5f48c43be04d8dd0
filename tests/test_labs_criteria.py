"""pruninglab.labs.criteria: criterion scores, rank correlation, comparison sweep, slider UI."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.labs import criteria as C
from pruninglab.ui import dropdown, slider_ui, sparsity_slider


def _tiny():
    """2 → 4 ReLU → 2 with hand-set weights (scores known exactly, see notebook 03)."""
    return C.tiny_relu_network()


def test_criterion_scores_exact_on_tiny_network():
    m, data = _tiny()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    sc = C.criterion_scores(m, data)
    assert set(sc) == set(C.CRITERIA)
    assert sc["apoz"]["0"].tolist() == [0.5, 0.0, 0.75, 1.0]          # 1 − APoZ
    assert sc["mean"]["0"].tolist() == [0.5, 0.0, 1.0, 0.125]
    assert sc["l1"]["0"].tolist() == [1.0, 1.0, 2.0, 0.0]
    sig = 1 / (1 + math.exp(2))
    expected = torch.tensor([math.tanh(1) / 4, 0.0, (1 - 6 * sig) / 4, 0.0])
    assert torch.allclose(sc["taylor"]["0"], expected, atol=1e-6)
    assert sc["taylor"]["0"][1] == 0                  # dead unit: no gradient at all
    assert abs(float(sc["taylor"]["0"][3])) < 1e-7    # cancels in the softmax (up to rounding)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())   # not mutated
    again = C.criterion_scores(m, data)
    assert torch.equal(again["random"]["0"], sc["random"]["0"])                # seeded
    assert not torch.equal(C.criterion_scores(m, data, seed=1)["random"]["0"], sc["random"]["0"])


def test_spearman_exact_values_and_ties():
    assert C.spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 30.0, 40.0])) == pytest.approx(1.0)
    assert C.spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    # monotone but non-linear: Spearman is 1 where Pearson is not
    assert C.spearman(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 10.0, 1000.0])) == pytest.approx(1.0)
    # ties get average ranks: ranks a = [1.5, 1.5, 3], b = [1, 2, 3] → ρ = 0.8660…
    assert C.spearman(np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(math.sqrt(3) / 2)
    assert math.isnan(C.spearman(np.ones(3), np.arange(3.0)))


@pytest.fixture(scope="module")
def mlp_scores():
    """criterion_scores of the reference MLP on train, computed once for this module."""
    from pruninglab.data import load_digits
    from pruninglab.models import load_reference
    return C.criterion_scores(load_reference("mlp"), load_digits("train"))


def test_rank_correlations_matrix(mlp_scores):
    sc = mlp_scores
    r = C.rank_correlations(sc, "fc1")
    m = r["matrix"]
    k = len(C.CRITERIA)
    assert m.shape == (k, k) and np.allclose(np.diag(m), 1.0) and np.allclose(m, m.T)
    i, j = r["criteria"].index("apoz"), r["criteria"].index("mean")
    assert m[i, j] > 0.5                      # both measure how much a unit fires
    assert abs(m[r["criteria"].index("random"), i]) < 0.3


def test_bad_inputs_name_the_argument(mlp, digits):
    with pytest.raises(TypeError, match="model"):
        C.criterion_scores("mlp", digits["train"])
    with pytest.raises(TypeError, match="split"):
        C.criterion_scores(mlp, digits["train"].x)
    with pytest.raises(ValueError, match="split"):
        C.criterion_scores(mlp, digits["test"])                   # never decide on test
    with pytest.raises(ValueError, match="layers"):
        C.criterion_scores(mlp, digits["train"], layers=["fc3"])  # the classifier
    with pytest.raises(ValueError, match="same length"):
        C.spearman(np.arange(3.0), np.arange(4.0))
    with pytest.raises(TypeError, match="a must"):
        C.spearman([1, 2, 3], np.arange(3.0))
    with pytest.raises(ValueError, match="ratios"):
        C.compare_criteria(mlp, {}, digits["train"], digits["val"], ratios=[1.0], input_shape=(64,))
    with pytest.raises(ValueError, match="criteria"):
        C.rank_correlations({"l1": {}}, "fc1", criteria=["apoz"])


@pytest.fixture(scope="module")
def explorer(mlp_scores):
    from pruninglab.data import load_digits
    from pruninglab.models import load_reference
    return C.CriteriaExplorer(load_reference("mlp"), load_digits("train"), load_digits("val"), (64,),
                              scores=mlp_scores)


def test_compute_criteria_exact_costs(explorer):
    before = {k: v.clone() for k, v in explorer.model.state_dict().items()}
    r = C.compute_criteria(0.5, "l1", "fc1", explorer=explorer)
    # fc1 keeps 128 of 256 units: fc1 64·128 + 128, fc2 128·128 + 128, fc3 128·10 + 10
    assert r["removed"] == {"fc1": 128}
    assert r["params"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert r["macs"] == 64 * 128 + 128 * 128 + 128 * 10
    assert r["bytes"] == 4 * r["params"]
    assert r["dense"]["params"] == 50826 and r["dense"]["macs"] == 50432
    assert int(r["kept"].sum()) == 128 and r["kept"].shape == (256,)
    # kept units are exactly the 128 with the largest scores
    assert r["scores"][r["kept"]].min() >= r["scores"][~r["kept"]].max()
    assert 0.0 <= r["accuracy"] <= 1.0
    assert all(torch.equal(before[k], v) for k, v in explorer.model.state_dict().items())
    z = C.compute_criteria(0.0, "apoz", "all", explorer=explorer)
    assert z["accuracy"] == pytest.approx(r["dense"]["accuracy"]) and z["rel"]["params"] == 1.0


def test_compute_criteria_dead_units_are_free(explorer):
    dead = int((explorer.scores["apoz"]["fc1"] == 0).sum())
    assert dead > 0
    r = C.compute_criteria(dead / 256, "apoz", "fc1", explorer=explorer)
    assert r["removed"] == {"fc1": dead}
    assert r["accuracy"] == pytest.approx(r["dense"]["accuracy"])


def test_compute_criteria_bad_inputs(explorer):
    with pytest.raises(ValueError, match="ratio"):
        C.compute_criteria(1.0, "l1", "fc1", explorer=explorer)
    with pytest.raises(ValueError, match="criterion"):
        C.compute_criteria(0.5, "apoz2", "fc1", explorer=explorer)
    with pytest.raises(ValueError, match="layer"):
        C.compute_criteria(0.5, "l1", "fc3", explorer=explorer)
    with pytest.raises(TypeError, match="explorer"):
        C.compute_criteria(0.5, "l1", "fc1", explorer=None)


def test_compare_criteria_small_sweep(mlp, digits, mlp_scores):
    sc = mlp_scores
    before = {k: v.clone() for k, v in mlp.state_dict().items()}
    res = C.compare_criteria(mlp, sc, digits["train"], digits["val"], ratios=[0.0, 0.5],
                             input_shape=(64,), epochs=0, seeds=(0,), progress=True)
    assert res["criteria"] == list(C.CRITERIA) and res["seeds"] == [0] and res["n_val"] == 359
    for c in C.CRITERIA:           # ratio 0: nothing removed, no training → dense accuracy
        assert res["before"][c][0] == pytest.approx(res["dense"])
        assert res["after"][c][0] == pytest.approx(res["before"][c][0])
    assert res["params"].tolist() == [50826, 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10]
    assert all(torch.equal(before[k], v) for k, v in mlp.state_dict().items())


def test_compare_criteria_runs_every_criterion_over_the_seeds(mlp, digits, mlp_scores):
    """Every criterion is fine-tuned once per seed; only random / taylor2019 change their
    selection with the seed; the verdicts come from the min–max ranges."""
    from pruninglab.claims import spread_verdict
    sc = {c: mlp_scores[c] for c in ("l1", "taylor2019", "random")}
    res = C.compare_criteria(mlp, sc, digits["train"], digits["val"], ratios=[0.5, 0.75],
                             input_shape=(64,), epochs=1, seeds=(0, 1, 2))
    assert res["criteria"] == ["taylor2019", "l1", "random"]
    for c in res["criteria"]:
        for key in ("before", "after"):
            runs = res[key + "_runs"][c]
            assert runs.shape == (2, 3)
            assert np.allclose(res[key][c], runs.mean(1))
            assert np.array_equal(res[key + "_min"][c], runs.min(1))
            assert np.array_equal(res[key + "_max"][c], runs.max(1))
        # the fine-tuning order changes with the seed: after fine-tuning there is a spread
        assert np.ptp(res["after_runs"][c], axis=1).max() > 0
    assert np.ptp(res["before_runs"]["l1"], axis=1).max() == 0           # fixed selection
    assert np.ptp(res["before_runs"]["random"], axis=1).max() > 0        # new draw per seed
    assert np.array_equal(res["random_after_min"], res["after_min"]["random"])
    # one seed of l1 by hand: shrink, evaluate, train with seed 1, evaluate
    from pruninglab.pruning import shrink_model
    from pruninglab.train import accuracy, train
    p = shrink_model(mlp, {"fc1": 0.5, "fc2": 0.5}, criterion=mlp_scores["l1"])
    assert res["before_runs"]["l1"][0, 1] == accuracy(p, digits["val"])
    train(p, digits["train"], epochs=1, lr=1e-3, seed=1)
    assert res["after_runs"]["l1"][0, 1] == accuracy(p, digits["val"])
    v = C.comparison_verdicts(res, "l1", "random", "after")
    assert v == [spread_verdict(res["after_runs"]["l1"][i], res["after_runs"]["random"][i]) for i in range(2)]
    table = C.verdict_table(res)
    assert table.splitlines()[0].startswith("vs random, after") and len(table.splitlines()) == 4
    assert C.best_verdict(res, "l1", "before", 0) in ("best", "tied best", "not best")
    with pytest.raises(ValueError, match="seeds"):
        C.compare_criteria(mlp, sc, digits["train"], digits["val"], ratios=[0.5], input_shape=(64,),
                           seeds=(1, 1))
    with pytest.raises(TypeError, match="seeds"):
        C.compare_criteria(mlp, sc, digits["train"], digits["val"], ratios=[0.5], input_shape=(64,),
                           seeds=3)
    with pytest.raises(ValueError, match="key"):
        C.comparison_verdicts(res, "l1", "random", "during")


def test_best_verdict_from_ranges():
    res = {"criteria": ["a", "b", "c"], "ratios": np.array([0.5]),
           "after_runs": {"a": np.array([[0.9, 0.92]]), "b": np.array([[0.8, 0.85]]),
                          "c": np.array([[0.91, 0.95]])}}
    assert C.best_verdict(res, "c", "after", 0) == "tied best"        # overlaps a
    assert C.best_verdict(res, "b", "after", 0) == "not best"
    res["after_runs"]["a"] = np.array([[0.7, 0.75]])
    assert C.best_verdict(res, "c", "after", 0) == "best"


def test_taylor_vs_removal_tiny():
    m, data = _tiny()
    r = C.taylor_vs_removal(m, data, "0")
    # units 1 (dead) and 3 (shifts both logits equally) change nothing when removed
    assert r["delta_loss"][1] == pytest.approx(0.0, abs=1e-7)
    assert r["delta_loss"][3] == pytest.approx(0.0, abs=1e-7)
    assert r["delta_loss"][0] > 0 and r["delta_loss"][2] > 0
    assert (r["n_lower"], r["n_higher"]) == (0, 2)


def test_slider_ui_drives_compute(explorer):
    import matplotlib
    matplotlib.use("Agg")
    ui = slider_ui(lambda ratio, criterion, layer: C.compute_criteria(ratio, criterion, layer, explorer=explorer),
                   None,
                   ratio=sparsity_slider(0.25, hi=0.9, step=0.05),
                   criterion=dropdown(C.CRITERIA, "l1"),
                   layer=dropdown(["fc1", "fc2", "all"], "fc1"))
    assert ui.result["removed"] == {"fc1": 64}
    ui.children[0].value = 0.5
    assert ui.result["removed"] == {"fc1": 128} and ui.result["ratio"] == 0.5
    ui.children[2].value = "all"
    assert ui.result["removed"] == {"fc1": 128, "fc2": 64}
    p_l1 = ui.result["accuracy"]
    ui.children[1].value = "random"
    assert ui.result["criterion"] == "random" and ui.result["params"] == C.compute_criteria(
        0.5, "l1", "all", explorer=explorer)["params"]
    assert ui.result["accuracy"] != p_l1


def test_live_criteria_slider_redraws(explorer):
    import matplotlib
    matplotlib.use("Agg")
    live = C.live_criteria()
    ui = slider_ui(lambda ratio, criterion, layer: C.compute_criteria(ratio, criterion, layer, explorer=explorer),
                   live,
                   ratio=sparsity_slider(0.25, hi=0.9, step=0.05),
                   criterion=dropdown(C.CRITERIA, "l1"),
                   layer=dropdown(["fc1", "fc2", "all"], "fc1"))
    png0 = live.png
    assert png0 is not None and png0[:4] == b"\x89PNG"
    ui.children[0].value = 0.5
    assert ui.result["removed"] == {"fc1": 128} and live.png != png0
    png1 = live.png
    ui.children[1].value = "apoz"
    assert ui.result["criterion"] == "apoz" and live.png != png1
    png2 = live.png
    ui.children[2].value = "fc2"
    assert ui.result["removed"] == {"fc2": 64} and live.png != png2
    # back to an earlier setting: same picture (the cached background is reused exactly)
    ui.children[2].value = "fc1"
    ui.children[1].value = "l1"
    assert live.png == png1


def test_live_criteria_backgrounds_per_layer_not_per_criterion(explorer):
    """Issue 15: a criterion change must be a blit (scores drawn divided by their largest, so the
    axes depend on the layer only), and with the explorer every layer's background is rendered at
    build time. Frames equal those of a plot built without prewarming, and blit == full redraw."""
    import matplotlib
    matplotlib.use("Agg")
    warm = C.live_criteria(explorer)
    assert len(warm._bg) == len(explorer.layers) == 2
    for crit in C.CRITERIA:
        for layer in ("fc1", "fc2", "all"):
            r = C.compute_criteria(0.4, crit, layer, explorer=explorer)
            assert warm.draw(r) == C.live_criteria().draw(r), (crit, layer)
            assert warm.blit_matches_full_redraw(r), (crit, layer)
    assert len(warm._bg) == 2                       # no new background for any criterion or layer
    top = float(np.max(np.abs(r["scores"])))
    assert f"largest {top:.3g}" in warm.state["title"].get_text()
    with pytest.raises(TypeError, match="explorer"):
        C.live_criteria("mlp")


def test_compute_criteria_cached_results_are_copies(explorer):
    a = C.compute_criteria(0.35, "mean", "fc2", explorer=explorer)
    a["removed"]["fc2"] = -1
    a["dense"]["params"] = 0
    b = C.compute_criteria(0.35, "mean", "fc2", explorer=explorer)
    assert b["removed"] == {"fc2": 45} and b["dense"]["params"] == 50826


def test_render_criteria_prints_summary(explorer, capsys):
    import matplotlib
    matplotlib.use("Agg")
    C.render_criteria(C.compute_criteria(0.5, "l1", "fc1", explorer=explorer))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "l1, ratio 0.50 on fc1: removed fc1 128"
    assert out[1].startswith("val accuracy ") and "| params 26122 / 50826 |" in out[1]


def test_taylor_variants_are_criteria_and_labelled(mlp, digits, mlp_scores):
    from pruninglab.pruning import taylor_scores
    sc = mlp_scores
    t19 = taylor_scores(mlp, digits["train"], layers=["fc1"], batch_size=C.TAYLOR2019_BATCH,
                        variant="molchanov2019")["fc1"]
    t17 = taylor_scores(mlp, digits["train"], layers=["fc1"], variant="molchanov2017")["fc1"]
    assert torch.equal(sc["taylor2019"]["fc1"], t19.float()) and torch.equal(sc["taylor2017"]["fc1"], t17.float())
    assert not torch.allclose(sc["taylor2019"]["fc1"], sc["taylor"]["fc1"])
    assert set(C.LABELS) == set(C.CRITERIA)
    assert "2019" in C.LABELS["taylor2019"] and "2017" in C.LABELS["taylor2017"]
    assert "simplified" in C.LABELS["taylor"]


def test_cached_compare_and_scores_match_direct(tmp_path, monkeypatch, digits, mlp_scores):
    from pruninglab.models import load_reference
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    sc = C.reference_scores("mlp")
    mlp = load_reference("mlp")
    assert all(torch.equal(sc[c][n], mlp_scores[c][n]) for c in C.CRITERIA for n in sc[c])
    a = C.cached_compare("mlp", (0.5,), epochs=0, seeds=(0,))
    b = C.cached_compare("mlp", (0.5,), epochs=0, seeds=(0,))         # from disk
    d = C.compare_criteria(mlp, sc, digits["train"], digits["val"], ratios=(0.5,),
                           input_shape=(64,), epochs=0, seeds=(0,))
    assert len(list(tmp_path.glob("compare_criteria-*.pt"))) == 1
    for c in C.CRITERIA:
        assert a["before"][c][0] == b["before"][c][0] == d["before"][c][0]
    assert a["criteria"] == d["criteria"] and a["params"].tolist() == d["params"].tolist()
    ex = C.CriteriaExplorer(mlp, digits["train"], digits["val"], (64,), scores=sc)
    assert ex.scores is sc
    with pytest.raises(TypeError, match="scores"):
        C.CriteriaExplorer(mlp, digits["train"], digits["val"], (64,), scores={"l1": {}})
    with pytest.raises(ValueError, match="model_name"):
        C.reference_scores("resnet")


def test_cached_taylor_vs_removal_caches_the_direct_result(tmp_path, monkeypatch):
    """The cache returns exactly what taylor_vs_removal computed, computes once, and passes the
    reference model and the named split (the measurement itself: test_taylor_vs_removal_tiny)."""
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    calls = []

    def fake(model, split, layer):
        calls.append((type(model).__name__, split.name, len(split), layer))
        return {"layer": layer, "taylor": np.arange(3.0), "delta_loss": np.array([-1.0, 0.0, 2.0]),
                "spearman": 0.5, "n_lower": 1, "n_higher": 1}

    monkeypatch.setattr(C, "taylor_vs_removal", fake)
    a = C.cached_taylor_vs_removal("mlp", "val", "fc2")
    b = C.cached_taylor_vs_removal("mlp", "val", "fc2")         # from disk
    assert calls == [("DigitsMLP", "val", 359, "fc2")]
    for r in (a, b):
        assert np.array_equal(r["delta_loss"], [-1.0, 0.0, 2.0]) and (r["n_lower"], r["n_higher"]) == (1, 1)
    with pytest.raises(ValueError, match="split_name"):
        C.cached_taylor_vs_removal("mlp", "test", "fc2")
