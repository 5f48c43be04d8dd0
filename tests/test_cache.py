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


def _slow_compute(log):
    import os
    import time
    with open(log, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(0.5)
    return 42


def _worker(cache, log, out):
    import os
    os.environ["PRUNINGLAB_CACHE"] = cache
    from pruninglab.cache import cached as c
    out.put(c("concurrent", 1, _slow_compute, log=log))


def test_two_processes_asking_at_once_compute_once(tmp_path):
    import multiprocessing as mp
    # fork: the children reuse the imported modules (spawn re-imports torch: ~4 s each)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    out = ctx.Queue()
    log = str(tmp_path / "calls.log")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "c"), log, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert results == [42, 42]
    assert len(open(log).read().split()) == 1      # the second process waited and loaded
