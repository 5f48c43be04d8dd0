# pruninglab: with PRUNINGLAB_UI_TRACE set (the browser benchmark sets it), the Jupyter server
# appends its cyclic garbage collections over 2 ms to that file, as the kernels do their
# callbacks (pruninglab/ui.py): "pid server-gc<generation> <wall start, s> <duration, s>".
# Unset (make lab): nothing happens. The other settings are in jupyter_server_config.json.
import gc
import os
import time

_TRACE = os.environ.get("PRUNINGLAB_UI_TRACE")
if _TRACE:
    _t0: list = []

    def _server_gc(phase, info):
        if phase == "start":
            _t0[:] = [time.time(), time.perf_counter()]
        elif _t0:
            dt = time.perf_counter() - _t0[1]
            if dt > 0.002:
                with open(_TRACE, "a") as f:
                    f.write(f"{os.getpid()} server-gc{info.get('generation', '')} {_t0[0]:.6f} {dt:.6f}\n")

    gc.callbacks.append(_server_gc)
