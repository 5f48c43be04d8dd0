"""The command-line grader on a correct and an incorrect submission (one cell raises, one
learner function loops forever, one exercise is still a stub)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"


def _run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "pruninglab", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture(scope="module")
def graded():
    p = _run("grade", "--json", "--cell-timeout", "60", str(FIX / "submission_correct.ipynb"),
             str(FIX / "submission_incorrect.ipynb"))
    return p


def test_exit_code_zero_even_when_learners_fail(graded):
    assert graded.returncode == 0, graded.stderr


def test_correct_submission_gets_full_marks(graded):
    rows = {Path(r["path"]).name: r for r in json.loads(graded.stdout)}
    ok = rows["submission_correct.ipynb"]
    assert ok["status"] == "ok" and ok["error_cells"] == 0
    assert len(ok["results"]) == 7 and all(r["passed"] for r in ok["results"].values())
    assert ok["score"] == ok["max_score"] > 50


def test_incorrect_submission_is_scored_not_crashed(graded):
    rows = {Path(r["path"]).name: r for r in json.loads(graded.stdout)}
    bad = rows["submission_incorrect.ipynb"]
    res = bad["results"]
    assert bad["status"] == "ok" and bad["error_cells"] == 1      # the top-level NameError cell
    assert set(res) == {"magnitude_prune", "neuron_prune", "n_m_prune", "symmetric_quantize",
                        "agp_sparsity", "csr_bytes"}
    assert not any(r["passed"] for r in res.values())
    assert res["agp_sparsity"]["status"] == "not attempted"
    assert res["n_m_prune"]["score"] < res["n_m_prune"]["max_score"]   # the infinite loop
    assert 0 < bad["score"] < bad["max_score"]


def test_table_output_and_folder_expansion():
    p = _run("grade", "--cell-timeout", "60", str(FIX))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["notebook", "magnitude_prune"]
    assert any(ln.startswith("submission_correct.ipynb") and "108/108" in ln for ln in lines)
    assert any(ln.startswith("submission_incorrect.ipynb") and "(stub)" in ln for ln in lines)


def test_tool_errors_give_nonzero_exit(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    p = _run("grade", str(bad), str(tmp_path / "missing.ipynb"))
    assert p.returncode == 2
    assert "not a notebook" in p.stdout and "no such file" in p.stdout
    assert _run("grade", str(tmp_path / "empty_dir_does_not_exist")).returncode == 2
    assert _run().returncode == 2   # no subcommand: argparse usage error
