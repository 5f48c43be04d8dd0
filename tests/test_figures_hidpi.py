"""Static figures (``plt.show()``) in the built notebooks are HiDPI: ``notebook_setup`` selects the
inline backend's ``retina`` format, so each PNG has twice the pixels of the size it is shown at
(the ``width``/``height`` metadata). Slider frames (LivePlot PNGs) are not affected."""
import base64
import json
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# notebooks whose static figures are drawn with plt.show() (the others only show LivePlot frames)
STATIC = ["03_data_driven_criteria", "05_quantization", "06_joint_pruning_quantization",
          "07_pruning_in_practice", "08_hardware_lab"]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("stem", STATIC)
def test_static_figures_are_saved_at_twice_their_display_size(stem):
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    sized = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            meta = out.get("metadata", {}).get("image/png")
            if png is None or meta is None:         # LivePlot frames carry no size metadata
                continue
            w, h = _png_size(base64.b64decode(png))
            assert abs(w - 2 * meta["width"]) <= 1 and abs(h - 2 * meta["height"]) <= 1, (stem, w, h, meta)
            sized += 1
    assert sized >= 1, f"{stem}: no retina (size-tagged) static figure found"
