"""The grading child: runs ONE exercise's answer code on given inputs, in a sandbox.

Forked by the fork server (:mod:`_zygote`, which has numpy and the preamble's modules imported
already) or, without one, started as ``python -I -B <stage>/_child.py WORK``; either way with
rlimits already set (CPU, address space, file size, no core files, few open files, no new
processes), a scrubbed environment and ``WORK/cwd`` (empty) as working directory. It

1. reads ``WORK/in/job.json`` (entry name, preamble, per-case CPU limit, inputs as data),
2. imports numpy (and what the preamble names), then confines itself (:mod:`_jail`),
3. executes the preamble and the answer code (``WORK/in/answer.py``) in a fresh namespace,
4. calls the entry function on each input (CPU-time limit per call, output captured and
   truncated) and writes each case's result as data to ``WORK/out/<i>.json`` + ``.npy``.

Nothing here decides a score: the grader decodes the data and judges it in its own process.
This file is copied next to ``_protocol.py``, ``_sandbox.py`` and ``_jail.py`` (imported as
top-level modules) and never imported by the grader.
"""
import os
import signal
import sys


def setup():
    """sys.path for the staged modules; returns the stage folder. Idempotent (the fork server
    calls it once, then every forked child calls :func:`main`)."""
    stage = os.path.dirname(os.path.abspath(__file__))
    if stage not in sys.path:
        sys.path.insert(0, stage)  # -I drops the script's folder from sys.path
    # the staged copy of pruninglab, not an editable install of the repository
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                        and "editable" not in getattr(f, "__name__", "").lower()]
    import numpy as np  # noqa: F401 - before confinement (reads its shared libraries)
    return stage


def main(work):
    import json
    stage = setup()
    inp, out = os.path.join(work, "in"), os.path.join(work, "out")
    with open(os.path.join(inp, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    import _protocol
    import _sandbox
    import _jail
    for line in job.get("preload", []):
        try:
            __import__(line)
        except Exception:  # noqa: BLE001
            pass
    args = [_protocol.decode(c, inp, trusted_code=True) for c in job["cases"]]
    reads = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, stage, inp, "/usr", "/lib",
                    "/lib64", "/dev/null", "/dev/urandom", os.path.dirname(sys.executable)})
    measures = _jail.confine(reads, [os.path.join(work, "cwd"), out])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def report(name, obj):
        _protocol.dump(obj, os.path.join(out, name))

    source = open(os.path.join(inp, "answer.py"), encoding="utf-8").read()
    g = {"__name__": "__answer__", "__builtins__": __builtins__}
    loaded = {"measures": measures}
    try:
        code = compile(job.get("preamble", "") + "\n", "<preamble>", "exec")
        exec(code, g)
    except BaseException as e:  # noqa: BLE001
        loaded["preamble_error"] = f"{type(e).__name__}: {e}"[:500]

    def _load():
        exec(compile(source, os.path.join(inp, "answer.py"), "exec"), g)
    res = _sandbox.call(_load, (), time_limit=job["time_limit"])
    if not res.ok:
        loaded["error"] = _err(res)
    fn = g.get(job["entry"])
    if not loaded.get("error") and not callable(fn):
        loaded["missing"] = f"the answer cell does not define a function {job['entry']}()"
    loaded["stdout"], loaded["stderr"] = res.stdout[-4000:], res.stderr[-4000:]
    report("load.json", loaded)
    if "error" in loaded or "missing" in loaded:
        return
    for i, a in enumerate(args):
        r = _sandbox.call(fn, tuple(a), time_limit=job["time_limit"])
        d = {"ok": r.ok, "timed_out": r.timed_out, "stdout": r.stdout[:4000],
             "stdout_len": len(r.stdout), "stderr": r.stderr[:4000], "warnings": r.warnings[:20]}
        if r.error is not None:
            d["error"] = _err(r)
        else:
            d["value"] = _protocol.encode(r.value, out, f"c{i}v")
        d["args_after"] = _protocol.encode(list(a), out, f"c{i}a")
        report(f"{i}.json", d)
        if r.timed_out:
            break
        if i == 0 and job.get("stop_if_not_implemented") and isinstance(r.error, NotImplementedError):
            break


def _err(r):
    e = r.error
    mro = [c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins"]
    return {"type": type(e).__name__, "builtin_bases": mro, "text": r.error_text[:2000],
            "where": r.where[:500], "timed_out": r.timed_out}


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except SystemExit:
        pass
    sys.stdout.flush()
    os._exit(0)
