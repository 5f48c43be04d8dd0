"""Call learner code safely: time limit, captured output, mutation check, no kernel deaths.

:func:`call` runs ``fn(*args)`` and always returns a :class:`CallResult`; it never raises,
except for :class:`KeyboardInterrupt` (so that the learner can still stop a cell).

Time limit
----------
Two mechanisms, chosen automatically:

* **main thread** (a Jupyter kernel runs cells in the main thread; so do pytest and the CLI):
  ``signal.setitimer(ITIMER_PROF)`` (CPU time of the process, so a busy machine does not fail a
  correct answer) + a ``SIGPROF`` handler that raises :class:`GradingTimeout` inside the
  learner's code; ``clock="wall"`` uses ``ITIMER_REAL``/``SIGALRM`` instead. The previous handler and any pending timer are restored afterwards.
* **other threads** (or platforms without ``SIGALRM``): a watchdog ``threading.Timer`` that
  injects :class:`GradingTimeout` into the calling thread with ``PyThreadState_SetAsyncExc``.

Both deliver the exception *between Python bytecodes*: a pure-Python ``while True: pass`` is
stopped, but a single long call into C (e.g. ``np.ones(10**12)``) finishes first. The
exception derives from ``BaseException`` so that a learner's ``except Exception:`` cannot
swallow it.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import signal
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["GradingTimeout", "CallResult", "call"]


class GradingTimeout(BaseException):
    """Raised inside learner code when it exceeds the per-call time limit."""


@dataclass
class CallResult:
    value: Any = None
    error: BaseException | None = None      # the exception the learner's code raised
    error_text: str = ""                    # "ValueError: ..." (last traceback line)
    where: str = ""                         # the learner's line that raised ("line 3: ...")
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    warnings: list = field(default_factory=list)   # str(message) of each warning

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


class _Capped(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters (100 MB of prints cost CPU time,
    not memory) and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def getvalue(self) -> str:
        v = "".join(self.parts)
        return v + (f"\n... [{self.dropped} more characters dropped]" if self.dropped else "")


@contextlib.contextmanager
def _time_limit(seconds: float, clock: str = "cpu"):
    if seconds is None or seconds <= 0:
        yield
        return
    main = threading.current_thread() is threading.main_thread()
    if main and hasattr(signal, "setitimer"):
        which, sig = ((signal.ITIMER_PROF, signal.SIGPROF) if clock == "cpu"
                      else (signal.ITIMER_REAL, signal.SIGALRM))
        what = "CPU " if clock == "cpu" else ""

        def _handler(signum, frame):
            raise GradingTimeout(f"call exceeded the {seconds:g} s {what}time limit")
        old_handler = signal.signal(sig, _handler)
        old_timer = signal.setitimer(which, seconds)
        try:
            yield
        finally:
            signal.setitimer(which, 0)
            signal.signal(sig, old_handler)
            if old_timer[0] > 0:  # re-arm a timer somebody else had set (minus our share)
                signal.setitimer(which, max(old_timer[0] - seconds, 1e-3), old_timer[1])
    else:
        tid = threading.get_ident()
        done = threading.Event()

        def _fire():
            if not done.is_set():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid),
                                                           ctypes.py_object(GradingTimeout))
        watchdog = threading.Timer(seconds, _fire)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield
        finally:
            done.set()
            watchdog.cancel()


def learner_line(tb, skip_files=()) -> str:
    """``"line N: <code>"`` of the innermost traceback frame outside this package (the
    learner's line that raised), or ``""``."""
    import linecache
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    best = ""
    for frame, lineno in traceback.walk_tb(tb):
        fname = frame.f_code.co_filename
        if os.path.dirname(os.path.abspath(fname)) == here or fname in skip_files \
                or "site-packages" in fname or fname.startswith("<frozen"):
            continue
        code = linecache.getline(fname, lineno, frame.f_globals).strip()
        best = f"line {lineno} in {frame.f_code.co_name}: {code}" if code else \
            f"line {lineno} in {frame.f_code.co_name}"
    return best


def call(fn: Callable, args: tuple, *, time_limit: float = 2.0, clock: str = "cpu",
         out_limit: int = 65536) -> CallResult:
    """Run ``fn(*args)`` with a time limit, capturing stdout/stderr and warnings.

    Never raises (KeyboardInterrupt excepted): exceptions, ``sys.exit`` and time-outs are
    recorded in the returned :class:`CallResult`.
    """
    res = CallResult()
    out, err = _Capped(out_limit), _Capped(out_limit)
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                with _time_limit(time_limit, clock):
                    res.value = fn(*args)
            finally:
                res.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    except KeyboardInterrupt:
        raise
    except GradingTimeout as e:
        res.timed_out = True
        res.error = e
        res.error_text = (f"timed out after {time_limit:g} s of {'CPU ' if clock == 'cpu' else ''}"
                          "time (infinite loop?)")
        res.where = learner_line(e.__traceback__)
    except BaseException as e:  # noqa: BLE001 - the learner may raise anything, even SystemExit
        res.error = e
        lines = traceback.format_exception_only(type(e), e)
        res.error_text = lines[-1].strip() if lines else type(e).__name__
        res.where = learner_line(e.__traceback__)
    res.stdout, res.stderr = out.getvalue(), err.getvalue()
    return res
