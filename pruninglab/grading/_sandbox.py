"""Call learner code safely: time limit, captured output, mutation check, no kernel deaths.

:func:`call` runs ``fn(*args)`` and always returns a :class:`CallResult`; it never raises,
except for :class:`KeyboardInterrupt` (so that the learner can still stop a cell).

Time limit
----------
Two mechanisms, chosen automatically:

* **main thread** (a Jupyter kernel runs cells in the main thread; so do pytest and the CLI):
  ``signal.setitimer(ITIMER_REAL)`` + a ``SIGALRM`` handler that raises :class:`GradingTimeout`
  inside the learner's code. The previous handler and any pending timer are restored afterwards.
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
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    warnings: list = field(default_factory=list)   # str(message) of each warning

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


@contextlib.contextmanager
def _time_limit(seconds: float):
    if seconds is None or seconds <= 0:
        yield
        return
    main = threading.current_thread() is threading.main_thread()
    if main and hasattr(signal, "setitimer"):
        def _handler(signum, frame):
            raise GradingTimeout(f"call exceeded the {seconds:g} s time limit")
        old_handler = signal.signal(signal.SIGALRM, _handler)
        old_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
            if old_timer[0] > 0:  # re-arm a timer somebody else had set (minus our share)
                signal.setitimer(signal.ITIMER_REAL, max(old_timer[0] - seconds, 1e-3), old_timer[1])
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


def call(fn: Callable, args: tuple, *, time_limit: float = 2.0) -> CallResult:
    """Run ``fn(*args)`` with a time limit, capturing stdout/stderr and warnings.

    Never raises (KeyboardInterrupt excepted): exceptions, ``sys.exit`` and time-outs are
    recorded in the returned :class:`CallResult`.
    """
    res = CallResult()
    out, err = io.StringIO(), io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                with _time_limit(time_limit):
                    res.value = fn(*args)
            finally:
                res.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    except KeyboardInterrupt:
        raise
    except GradingTimeout as e:
        res.timed_out = True
        res.error = e
        res.error_text = f"timed out after {time_limit:g} s (infinite loop?)"
    except BaseException as e:  # noqa: BLE001 - the learner may raise anything, even SystemExit
        res.error = e
        lines = traceback.format_exception_only(type(e), e)
        res.error_text = lines[-1].strip() if lines else type(e).__name__
    res.stdout, res.stderr = out.getvalue(), err.getvalue()
    return res
