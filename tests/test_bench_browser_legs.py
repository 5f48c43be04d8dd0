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
