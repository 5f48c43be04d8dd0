"""Grade answer *source code* in a separate, confined process; judge the returned data here.

:func:`grade_source` is what the teacher's CLI uses for every exercise of every submission:

* the learner's answer code (the cells the assignment marks as answers) is written to a fresh
  folder with the inputs of every case as data (:mod:`._protocol`: JSON + ``.npy``);
* a child process runs it with **rlimits** (``RLIMIT_CPU`` = CPU seconds of
  all cases + start-up, ``RLIMIT_AS`` memory, ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``,
  ``RLIMIT_CORE`` 0, ``RLIMIT_NPROC`` 0), a **scrubbed environment** (only PATH, LANG, HOME and
  one-thread settings; no ``PRUNINGLAB_*``, no tokens), an empty working directory and,
  where the kernel allows, Landlock + seccomp + no capabilities (:mod:`._jail`);
* every call has a CPU-time limit (``ITIMER_PROF``), so a loaded machine slows a correct
  answer down but never fails it; a generous wall-clock limit only catches sleeping code;
* the child's stdout/stderr go to size-limited files (captured, truncated); the values it
  returns are decoded without pickle and **judged in this process** by the exercise's judge
  (:func:`.core.grade_with`). Whatever the child writes, prints or forges can at most claim a
  return value, which is judged like any other.

The child is forked by a **fork server** (:mod:`._zygote`, one per set of preamble imports,
started once per :class:`Stage`) that has already imported Python, numpy (and torch where the
preamble needs it) but never runs learner code: every confinement step above is applied in the
forked child, before the answer's first line, exactly as for a freshly spawned
``python -I -B _child.py`` (the fallback, ``Stage(zygote=False)``). This removes the import
time from every exercise (0.3 s for numpy, seconds for torch).

The library copy the child imports (``pruninglab`` without ``grading``) is staged once per run
in a temporary folder, so the reference solutions (notebook sources, tests) are not on its
path, and Landlock makes the repository unreadable to it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import _protocol
from ._common import DEFAULT_PREAMBLE, Exercise
from ._sandbox import CallResult
from .report import Report

__all__ = ["Limits", "Stage", "grade_source", "SandboxRunner"]

HERE = Path(__file__).resolve().parent
_CHILD_FILES = ("_child.py", "_protocol.py", "_sandbox.py", "_jail.py", "_zygote.py")


class Limits:
    """Per-exercise limits: ``time_limit`` CPU seconds per call, ``memory_mb`` address space,
    ``output_mb`` per file written (stdout/stderr/results), ``startup_s`` CPU seconds for the
    interpreter start and the answer's top-level code. The wall-clock limit (only for code
    that sleeps or blocks) is ``(startup_s + time_limit * (cases + 2)) * wall_factor +
    wall_extra_s``."""

    def __init__(self, time_limit: float = 2.0, memory_mb: int = 4096, output_mb: int = 64,
                 startup_s: float = 8.0, wall_factor: float = 4.0, wall_extra_s: float = 30.0):
        self.time_limit, self.memory_mb, self.output_mb = time_limit, memory_mb, output_mb
        self.startup_s, self.wall_factor, self.wall_extra_s = startup_s, wall_factor, wall_extra_s


class Stage:
    """A temporary copy of what the child may import: ``pruninglab`` minus ``grading`` and the
    child modules; plus the fork servers (:mod:`._zygote`, one per preamble import set, started
    on first use) that fork the confined children. Use as a context manager or call
    :meth:`close` (stops the fork servers, removes the copy).

    ``zygote=False`` spawns a fresh interpreter per exercise instead (slower: every exercise
    pays the Python + numpy/torch import); the same rlimits, environment and jail apply."""

    def __init__(self, zygote: bool = True):
        self.dir = tempfile.mkdtemp(prefix="pruninglab-stage-")
        self.use_zygote = zygote and os.name == "posix" and hasattr(os, "fork")
        self._zygotes: dict = {}
        self._zlock = threading.Lock()
        pkg = HERE.parent
        shutil.copytree(pkg, os.path.join(self.dir, "pruninglab"),
                        ignore=lambda d, names: [n for n in names if n in ("grading", "__pycache__")
                                                 or n.endswith((".pyc", ".so"))])
        for f in _CHILD_FILES:
            shutil.copy(HERE / f, os.path.join(self.dir, f))
        os.chmod(self.dir, 0o755)

    def zygote(self, preload) -> "_Zygote | None":
        """The running fork server for this import set (started if needed); None if it cannot
        start (the caller then spawns a child)."""
        if not self.use_zygote:
            return None
        key = tuple(preload)
        with self._zlock:
            z = self._zygotes.get(key)
            if z is not None and z.alive:
                return z
            try:
                z = _Zygote(self.dir, list(key))
            except Exception:  # noqa: BLE001 - no fork server: spawn fresh children instead
                return None
            self._zygotes[key] = z
            return z

    def close(self):
        with self._zlock:
            zs, self._zygotes = list(self._zygotes.values()), {}
        for z in zs:
            z.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ZygoteDied(RuntimeError):
    """The fork server stopped while a child of it was running (the job is re-run by spawning)."""


class _Job:
    def __init__(self):
        self.done = threading.Event()
        self.pid = None
        self.status = None
        self.cpu_s = 0.0
        self.lost = False


class _Zygote:
    """Parent side of :mod:`._zygote`: one socket, one reader thread, many concurrent jobs."""

    def __init__(self, stage_dir: str, preload: list, start_timeout: float = 300.0):
        import itertools
        import json
        import socket
        self._json = json
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", os.path.join(stage_dir, "_zygote.py"),
                 str(theirs.fileno()), json.dumps(preload)],
                cwd=stage_dir, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), close_fds=True,
                start_new_session=True)
        finally:
            theirs.close()
        self.sock = ours
        self.alive = True
        self._ids = itertools.count(1)
        self._jobs: dict = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        threading.Thread(target=self._read, name="pruninglab-zygote-reader", daemon=True).start()
        if not self._ready.wait(start_timeout) or not self.alive:
            self.close()
            raise ZygoteDied("the grading fork server did not start")

    def _read(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = self._json.loads(line)
                    if "ready" in msg:
                        self._ready.set()
                        continue
                    job = self._jobs.get(msg.get("id"))
                    if job is None:
                        continue
                    if "pid" in msg:
                        job.pid = msg["pid"]
                    if "exit" in msg:
                        job.status = int(msg["exit"])
                        job.cpu_s = float(msg.get("utime", 0)) + float(msg.get("stime", 0))
                        self._jobs.pop(msg["id"], None)
                        job.done.set()
        except (OSError, ValueError):
            pass
        finally:
            self.alive = False
            self._ready.set()
            for job in list(self._jobs.values()):
                job.lost = True
                job.done.set()

    def _send(self, obj):
        with self._lock:
            self.sock.sendall((self._json.dumps(obj) + "\n").encode())

    def run(self, work: str, limits: "Limits", n_cases: int, preload: list, wall: float):
        """Fork one child for ``work``; returns ``(returncode or None after the wall-clock
        limit, CPU seconds of the child)``. Raises :class:`ZygoteDied` if the server stopped."""
        job = _Job()
        jid = next(self._ids)
        self._jobs[jid] = job
        try:
            self._send({"id": jid, "work": work, "limits": _limits_dict(limits), "n_cases": n_cases,
                        "preload": preload})
        except OSError as e:
            self._jobs.pop(jid, None)
            raise ZygoteDied(str(e)) from None
        timed_out = not job.done.wait(wall)
        if timed_out:
            try:
                self._send({"kill": jid})
            except OSError:
                pass
            job.done.wait(60)
        if job.lost or job.status is None:
            raise ZygoteDied("the grading fork server stopped")
        rc = os.waitstatus_to_exitcode(job.status)
        return (None if timed_out else rc), job.cpu_s

    def close(self):
        self.alive = False
        try:
            self.sock.shutdown(2)
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_SHARED_STAGE: Stage | None = None
_STAGE_LOCK = threading.Lock()


def _default_stage() -> Stage:
    global _SHARED_STAGE
    with _STAGE_LOCK:
        if _SHARED_STAGE is None or not os.path.isdir(_SHARED_STAGE.dir):
            _SHARED_STAGE = Stage()
            import atexit
            atexit.register(_SHARED_STAGE.close)
        return _SHARED_STAGE


def _env() -> dict:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[k] = "1"
    return env


def _limits_dict(lim: Limits) -> dict:
    return {"time_limit": lim.time_limit, "memory_mb": lim.memory_mb,
            "output_mb": lim.output_mb, "startup_s": lim.startup_s}


def _preexec(lim: Limits, n_cases: int):
    from ._zygote import set_rlimits

    def fn():
        os.setsid()
        set_rlimits(_limits_dict(lim), n_cases)
    return fn


_SPAWN = object()


def _preload(preamble: str) -> list:
    """The modules a preamble imports (``import a.b`` -> ``a.b``; ``from a.b import c`` ->
    ``a.b``), imported before confinement (in the fork server: once per grading run)."""
    import ast
    try:
        tree = ast.parse(preamble)
    except SyntaxError:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
    return list(dict.fromkeys(out))


def _rebuild_error(d) -> BaseException:
    """A parent-side exception object of (a builtin base of) the class the child reported:
    ``isinstance`` checks against builtin exception types work; nothing is evaluated."""
    import builtins
    name = str(d.get("type", "Exception"))[:80]
    text = str(d.get("text", ""))
    msg = text.split(": ", 1)[1] if ": " in text else ""
    base = BaseException
    for b in d.get("builtin_bases", []):
        c = getattr(builtins, str(b), None)
        if isinstance(c, type) and issubclass(c, BaseException):
            base = c
            break
    cls = base if base.__name__ == name else type(name if name.isidentifier() else "Error", (base,), {})
    try:
        return cls(msg)
    except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs 5 arguments
        return type(name if name.isidentifier() else "Error", (Exception,), {})(msg)


class SandboxRunner:
    """The runner for :func:`.core.grade_with` that calls the answer in a confined child."""

    def __init__(self, ex: Exercise, source: str, limits: Limits, stage: Stage):
        self.ex, self.source, self.limits, self.stage = ex, source, limits, stage
        self.death = ""
        self.load: dict = {}
        self.measures: list = []
        self.cpu_s = 0.0

    def run(self, cases: list) -> list:
        work = tempfile.mkdtemp(prefix="pruninglab-grade-")
        try:
            return self._run(work, cases)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run(self, work, cases):
        lim = self.limits
        inp, out, cwd = (os.path.join(work, d) for d in ("in", "out", "cwd"))
        for d in (inp, out, cwd):
            os.mkdir(d)
        enc = [_protocol.encode(list(a), inp, f"case{i}") for i, a in enumerate(cases)]
        preamble = DEFAULT_PREAMBLE if self.ex.preamble is None else self.ex.preamble
        preload = _preload(preamble)
        _protocol.dump({"entry": self.ex.function_name, "preamble": preamble, "preload": preload,
                        "cases": enc, "time_limit": lim.time_limit,
                        "stop_if_not_implemented": True}, os.path.join(inp, "job.json"))
        with open(os.path.join(inp, "answer.py"), "w", encoding="utf-8") as f:
            f.write(self.source)
        wall = (lim.startup_s + lim.time_limit * (len(cases) + 2)) * lim.wall_factor + lim.wall_extra_s
        t0 = time.perf_counter()
        rc = self._fork(work, len(cases), preload, wall)
        if rc is _SPAWN:
            rc = self._spawn(work, cwd, len(cases), wall)
        self.wall_s = time.perf_counter() - t0
        if rc is None:
            self.death = f"no progress for {wall:.0f} s of wall-clock time (sleeping or blocked)"
        elif rc < 0:
            sig = -rc
            self.death = {9: "killed (CPU-time limit of the whole exercise exceeded)",
                          24: "killed (CPU-time limit of the whole exercise exceeded)",
                          25: "killed (output file size limit exceeded)",
                          11: "crashed (segmentation fault)"}.get(sig, f"killed by signal {sig}")
        else:
            self.death = "the process exited (os._exit() or a crash)"
        try:
            self.load = _protocol.load(os.path.join(out, "load.json"))
        except Exception:  # noqa: BLE001 - never started, died early, or forged garbage
            self.load = {}
        self.measures = list(self.load.get("measures", [])) if isinstance(self.load, dict) else []
        if not self.load:
            err = open(os.path.join(work, "stderr"), "rb").read(2000).decode("utf-8", "replace")
            self.load = {"error": {"type": "RuntimeError", "builtin_bases": ["RuntimeError"],
                                   "text": f"the grading process did not start your code: {self.death}",
                                   "where": ""}, "stderr": err}
            return []
        if self.load.get("error") or self.load.get("missing"):
            return []
        results = []
        for i in range(len(cases)):
            path = os.path.join(out, f"{i}.json")
            if not os.path.isfile(path):
                break
            try:
                results.append(self._result(_protocol.load(path), out))
            except Exception as e:  # noqa: BLE001 - malformed/forged data: that case fails
                r = CallResult(error=RuntimeError(f"unreadable result ({e})"),
                               error_text=f"the result could not be read back ({type(e).__name__})")
                r.args_after = None
                results.append(r)
        return results

    def _fork(self, work, n_cases, preload, wall):
        """Run the child as a fork of the stage's fork server; ``_SPAWN`` when there is none
        (or it stopped during the job: the job's folders are reset for a fresh run)."""
        z = self.stage.zygote(preload)
        if z is None:
            return _SPAWN
        try:
            rc, self.cpu_s = z.run(work, self.limits, n_cases, preload, wall)
            return rc
        except ZygoteDied:
            for d in ("out", "cwd"):
                shutil.rmtree(os.path.join(work, d), ignore_errors=True)
                os.mkdir(os.path.join(work, d))
            return _SPAWN

    def _spawn(self, work, cwd, n_cases, wall):
        """Run the child as a fresh ``python -I -B _child.py`` (no fork server)."""
        lim = self.limits
        with open(os.path.join(work, "stdout"), "wb") as so, open(os.path.join(work, "stderr"), "wb") as se:
            p = subprocess.Popen([sys.executable, "-I", "-B", os.path.join(self.stage.dir, "_child.py"), work],
                                 cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, stdout=so, stderr=se,
                                 preexec_fn=_preexec(lim, n_cases), close_fds=True)
            try:
                rc = p.wait(timeout=wall)
            except subprocess.TimeoutExpired:
                rc = None
                try:
                    os.killpg(p.pid, 9)
                except OSError:
                    p.kill()
                p.wait()
        try:
            import resource
            self.cpu_s = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        except Exception:  # noqa: BLE001
            pass
        return rc

    def _result(self, d, out) -> CallResult:
        if not isinstance(d, dict):
            raise _protocol.ProtocolError("not an object")
        r = CallResult(stdout=str(d.get("stdout", "")), stderr=str(d.get("stderr", "")),
                       warnings=[str(w) for w in d.get("warnings", [])][:20],
                       timed_out=bool(d.get("timed_out")))
        if d.get("error") is not None:
            e = d["error"]
            r.error = _rebuild_error(e)
            r.error_text = str(e.get("text", ""))[:2000]
            r.where = str(e.get("where", ""))[:500]
            if r.timed_out:
                from ._sandbox import GradingTimeout
                r.error = GradingTimeout(r.error_text)
        else:
            r.value = _protocol.decode(d.get("value"), out)
        after = _protocol.decode(d.get("args_after"), out)
        r.args_after = tuple(after) if isinstance(after, list) else None
        return r

    def probe_fn(self):
        """A function that calls the answer once in a fresh child (for the exercise's probe)."""
        def remote(*args):
            runner = SandboxRunner(self.ex, self.source, self.limits, self.stage)
            res = runner.run([args])
            if not res:
                raise RuntimeError("the probe call failed")
            if res[0].error is not None:
                raise res[0].error
            return res[0].value
        return remote


def grade_source(ex: Exercise, source: str, *, seed: int, limits: Limits | None = None,
                 stage: Stage | None = None) -> tuple[Report, SandboxRunner]:
    """Grade the answer code ``source`` (must define ``ex.function_name``) in a confined child.

    Returns the :class:`Report` (judged here) and the runner (``.load`` holds the answer's
    load error or "missing" message, ``.measures`` the confinement that took effect)."""
    from .core import _n_points, grade_with
    limits = limits or Limits()
    runner = SandboxRunner(ex, source, limits, stage or _default_stage())
    report = grade_with(ex, runner, seed=seed, time_limit=limits.time_limit)
    load = runner.load or {}
    if load.get("missing") or load.get("error"):
        report = Report(ex.id, max_points=_n_points(ex))
        report.status = "error"
        if load.get("missing"):
            report.notes.append(str(load["missing"]))
        else:
            e = load["error"]
            where = f" at {e.get('where')}" if e.get("where") else ""
            report.notes.append(f"running the answer cell raised {e.get('text', '')}{where}")
            if "NotImplementedError" in str(e.get("text", "")):
                report.status = "not attempted"
    return report, runner
