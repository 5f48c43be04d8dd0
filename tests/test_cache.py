import numpy as np
import pytest

from pruninglab.cache import cached


def test_cached_roundtrip_and_second_call_hits(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    calls = []

    def compute(n):
        calls.append(n)
        return {"a": np.arange(n, dtype=np.float32), "t": (1, 2.5), "s": "x", "l": [None, True]}

    first = cached("demo", 1, compute, n=3)
    second = cached("demo", 1, compute, n=3)
    assert calls == [3]
    assert second["t"] == (1, 2.5) and second["s"] == "x" and second["l"] == [None, True]
    np.testing.assert_array_equal(second["a"], first["a"])
    assert second["a"].dtype == np.float32
    cached("demo", 2, compute, n=3)          # new version -> recomputed
    cached("demo", 2, compute, n=4)          # new params -> recomputed
    assert calls == [3, 3, 4]


def test_cache_off_and_corrupt_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    cached("c", 1, lambda: 1)
    for p in tmp_path.iterdir():
        p.write_bytes(b"garbage")
    assert cached("c", 1, lambda: 2) == 2
    monkeypatch.setenv("PRUNINGLAB_CACHE", "off")
    assert cached("c", 1, lambda: 3) == 3
    assert not list(tmp_path.glob("*.tmp*"))


def test_cached_bad_arguments():
    with pytest.raises(TypeError, match="name"):
        cached("", 1, lambda: 1)
    with pytest.raises(TypeError, match="version"):
        cached("a", "1", lambda: 1)
    with pytest.raises(TypeError, match="compute"):
        cached("a", 1, 5)
