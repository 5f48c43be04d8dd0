"""The browser benchmark's leg split: kernel trace lines (``PRUNINGLAB_UI_TRACE``) matched to a move."""
from benchmarks.bench_browser_sliders import read_trace, split_legs


def test_slider_callbacks_are_traced_only_when_the_variable_is_set(tmp_path, monkeypatch):
    from pruninglab.ui import TRACE_ENV, slider_ui, sparsity_slider
    path = tmp_path / "trace.txt"
    monkeypatch.delenv(TRACE_ENV, raising=False)
    ui = slider_ui(lambda sparsity: {"s": sparsity}, lambda r: None, sparsity=sparsity_slider(0.5))
    ui.children[0].value = 0.6
    assert not path.exists()
    monkeypatch.setenv(TRACE_ENV, str(path))
    ui.children[0].value = 0.7
    ui.children[0].value = 0.8
    events = read_trace(path)
    assert [k for k, _, _ in events] == ["callback", "callback"]
    assert events[0][1] <= events[1][1] and all(d >= 0 for _, _, d in events)


def test_split_legs_sums_callbacks_inside_the_move_and_ignores_others(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1 callback 99.000 0.010\n"       # before the move: not counted
                    "1 callback 100.004 0.020\n"      # 4 ms after the input, 20 ms long
                    "1 gc2 100.010 0.003\n"
                    "1 callback 100.030 0.005\n"      # a second one (a drag), ends at 35 ms
                    "1 callback 100.500 0.010\n"      # after the last change: not counted
                    "garbage line\n")
    events = read_trace(path)
    assert len(events) == 5
    legs = split_legs({"t0_epoch_s": 100.0, "ms": 50.0, "first_ms": 45.0, "long_task_ms": 0.0,
                       "ws_sent_ms": 1.0, "ws_received_ms": 40.0}, events)
    assert legs["in_ms"] == 4.0 and legs["callback_ms"] == 25.0 and legs["out_ms"] == 15.0
    assert legs["gc_ms"] == 3.0 and legs["ws_received_ms"] == 40.0
    none = split_legs({"t0_epoch_s": 200.0, "ms": 30.0, "first_ms": 30.0, "long_task_ms": 0.0}, events)
    assert none["in_ms"] is None and none["callback_ms"] is None and none["ws_sent_ms"] is None


def _run(samples, floor=()):
    return {"notebooks": [{"notebook": "nb", "rows": [
        {"ui": 0, "control": "x", "samples_ms": list(samples), "legs": [{"ms": v} for v in samples],
         "moves": len(samples), "changed": len(samples), "disabled": False, "enabled_by": None}]}],
        "floor": {"samples_ms": list(floor)}, "moves_per_control": len(samples)}


def test_report_pools_runs_and_names_the_controls_over_the_goal():
    import pytest

    from benchmarks.browser_report import pool, report
    a, b = _run([20.0] * 19 + [150.0], floor=[10.0]), _run([30.0] * 18 + [120.0, 130.0])
    assert "Controls missing the goal (median ≥ 60 or p95 ≥ 100 ms): none." in report(a)  # 1 of 20
    assert "nb UI 0 x: median 30.0, p95 120.0 ms" in report(b)                          # 2 of 20
    pooled = pool([a, b])
    assert pooled["notebooks"][0]["rows"][0]["samples_ms"] == a["notebooks"][0]["rows"][0]["samples_ms"] \
        + b["notebooks"][0]["rows"][0]["samples_ms"]
    assert pooled["overall"]["moves"] == 40 and pooled["moves_per_control"] == 40
    assert "Samples over 100 ms: 3 of 40" in report(pooled)
    assert a["notebooks"][0]["rows"][0]["moves"] == 20                                  # inputs untouched
    other = _run([1.0])
    other["notebooks"][0]["rows"][0]["control"] = "y"
    with pytest.raises(ValueError, match="control"):
        pool([a, other])
