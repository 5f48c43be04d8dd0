"""The prose-claim mechanism works on a real notebook: a deliberately changed experiment result
makes a claim check of notebook 01 fail (ClaimError), while the unchanged cells pass.

Only the cells needed for one claim cell are executed (setup, the two answer cells with their
solutions, the criteria sweep, the claim cell), so the test takes a few seconds."""
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src" / "01_pruning_fundamentals.py"

SWEEP_CALL = "mask_fn=magnitude_mask, global_fn=global_threshold_masks)\n    print("
CLAIM_MARK = 'claim(rnd[sw_i[0.7]] < 0.4'


def _cells():
    nb = jupytext.read(SRC)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tags = lambda c: c.metadata.get("tags", [])  # noqa: E731
    setup = code[0]
    answers = [c for c in code if any(t in tags(c) for t in ("answer:magnitude_mask", "answer:global_threshold_masks"))]
    sweep = next(c for c in code if "ready_ab = all(" in c.source)
    claim_cell = next(c for c in code if CLAIM_MARK in c.source)
    assert len(answers) == 2 and SWEEP_CALL in sweep.source
    return setup, answers, sweep, claim_cell


def _errors(nb):
    """ename of each executed cell (None when it did not raise)."""
    return [next((o["ename"] for o in c.outputs if o.get("output_type") == "error"), None) for c in nb.cells]


def test_changed_results_fail_a_claim_unchanged_ones_pass():
    """One kernel: the unchanged cells pass the claim cell; then (1) an injected changed result
    (random pruning suddenly as good as magnitude) and (2) a changed experiment parameter (the
    "global" column computed per layer) each make the same claim cell raise ClaimError."""
    setup, answers, sweep, claim_cell = _cells()
    changed = sweep.source.replace(
        SWEEP_CALL, "mask_fn=magnitude_mask, global_fn=lambda L, s: {n: magnitude_mask(w, s) for n, w in "
                    "L.items()})\n    print(")
    assert changed != sweep.source
    cells = [setup.source, *(a.source for a in answers), sweep.source, claim_cell.source,
             'sweep["random"][sweep["sparsity"].index(0.7)] = 0.95', claim_cell.source,
             changed, claim_cell.source]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    err = _errors(nb)
    assert err[:5] == [None] * 5, err                  # setup, answers, sweep, claims hold
    md_out = [o for o in nb.cells[4].outputs if "text/markdown" in o.get("data", {})]
    assert md_out and "Random pruning is far worse" in md_out[0]["data"]["text/markdown"]
    assert err[5] is None and err[6] == "ClaimError", err      # injected result
    assert err[7] is None and err[8] == "ClaimError", err      # changed parameter
