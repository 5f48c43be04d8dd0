"""The grading fork server ("zygote"): pays the interpreter + numpy (+ torch) import ONCE, then
forks one confined child per exercise.

Started by :mod:`pruninglab.grading.isolated` as ``python -I -B <stage>/_zygote.py FD PRELOAD``
with the same scrubbed environment as a grading child. ``FD`` is one end of a socket pair to
the grader; ``PRELOAD`` a JSON list of modules to import up front (the exercise preamble's
imports: ``numpy``, ``torch``, ``pruninglab.labs.criteria`` ...). It never runs learner code:

* it imports trusted code only (numpy, the preamble's modules from the staged library copy and
  the child modules), then waits for requests;
* a request ``{"id", "work", "limits", "n_cases", "preload"}`` makes it fork. The forked child,
  *before any learner code*, starts a new session, points stdin/stdout/stderr at /dev/null and
  ``WORK/stdout``/``WORK/stderr``, closes every other descriptor (the socket included),
  changes into the empty ``WORK/cwd``, sets the rlimits (CPU, address space, file size, no core
  files, few open files, no new processes) and then runs :func:`_child.main`, which applies
  Landlock, seccomp and drops the capabilities before it executes the answer -- exactly what a
  freshly spawned child does, minus the import time;
* it answers ``{"id", "pid"}`` at once and ``{"id", "exit", "utime", "stime"}`` when the child
  is reaped; ``{"kill": id}`` kills that child's process group (only while it is not reaped,
  so a recycled pid is never hit). On EOF (grader gone) it kills its children and exits.

The zygote stays single-threaded (fork is only safe then) and ignores SIGINT (a Ctrl-C meant for
the grader must not orphan running children; the grader's exit closes the socket instead).
Stdlib + numpy only; imported as a top-level module from the stage folder.
"""
import json
import os
import resource
import select
import signal
import socket
import sys
import traceback


def rlimits(lim: dict, n_cases: int) -> list:
    """``[(resource, soft, hard)]`` for one exercise (the same numbers as a spawned child)."""
    cpu = int(lim["startup_s"] + lim["time_limit"] * (n_cases + 2)) + 1
    mem = int(lim["memory_mb"]) * 2 ** 20
    fsize = int(lim["output_mb"]) * 2 ** 20
    return [(resource.RLIMIT_CPU, cpu, cpu + 2), (resource.RLIMIT_AS, mem, mem),
            (resource.RLIMIT_FSIZE, fsize, fsize), (resource.RLIMIT_CORE, 0, 0),
            (resource.RLIMIT_NOFILE, 256, 256), (resource.RLIMIT_NPROC, 0, 0)]


def set_rlimits(lim: dict, n_cases: int) -> None:
    for what, soft, hard in rlimits(lim, n_cases):
        try:
            resource.setrlimit(what, (soft, hard))
        except (ValueError, OSError):
            pass


def _close_fds_from(lo: int) -> None:
    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(lo, 4096)
    for fd in fds:
        if fd >= lo:
            try:
                os.close(fd)
            except OSError:
                pass


def _run_child(req) -> None:
    """In the forked child: confine the process, then run the exercise. Never returns."""
    code = 0
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)   # as in a fresh interpreter
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        work = req["work"]
        fds = [os.open(os.devnull, os.O_RDONLY)]
        for name in ("stdout", "stderr"):
            fds.append(os.open(os.path.join(work, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _close_fds_from(3)
        os.chdir(os.path.join(work, "cwd"))
        set_rlimits(req["limits"], int(req["n_cases"]))
        import _child
        _child.main(work)
    except SystemExit:
        pass
    except BaseException:  # noqa: BLE001 - report like an uncaught exception of a fresh child
        code = 1
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


def _preload(modules) -> None:
    import importlib
    for m in modules:
        try:
            importlib.import_module(str(m))
        except Exception:  # noqa: BLE001 - the child reports the import error itself
            pass


def serve(fd: int, preload) -> None:
    import _child
    _child.setup()
    _preload(preload)
    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    running: dict = {}     # pid -> request id

    def send(obj):
        sock.sendall((json.dumps(obj) + "\n").encode())

    send({"ready": os.getpid()})
    buf = b""
    while True:
        try:
            ready, _, _ = select.select([sock, wake_r], [], [], 1.0)
        except OSError:
            ready = []
        if wake_r in ready:
            try:
                while os.read(wake_r, 4096):
                    pass
            except OSError:
                pass
        while running:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            rid = running.pop(pid, None)
            if rid is not None:
                send({"id": rid, "exit": status, "utime": ru.ru_utime, "stime": ru.ru_stime})
        if sock not in ready:
            continue
        data = sock.recv(1 << 16)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            if "kill" in req:
                for pid, rid in list(running.items()):
                    if rid == req["kill"]:
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except OSError:
                            try:
                                os.kill(pid, signal.SIGKILL)
                            except OSError:
                                pass
                continue
            _preload(req.get("preload", []))
            pid = os.fork()
            if pid == 0:
                _run_child(req)
            running[pid] = req["id"]
            send({"id": req["id"], "pid": pid})
    for pid in running:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in running:
        try:
            os.wait()
        except ChildProcessError:
            break


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I drops the script's folder
    serve(int(sys.argv[1]), json.loads(sys.argv[2]) if len(sys.argv) > 2 else [])
    os._exit(0)
