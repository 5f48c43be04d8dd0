"""The teacher's workflow on the command line: grade a class (nbgrader layout) into a gradebook
and feedback files, in parallel; exit codes; the course release.

One real ``python -m pruninglab grade`` process grades the class (the end-to-end path); the exit
codes and the release call the same entry point (``pruninglab.__main__.main``) in this process."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pruninglab.__main__ import main as cli_main
from pruninglab.grading import EXERCISES
from pruninglab.grading.solutions import solution_source

ROOT = Path(__file__).resolve().parent.parent

LEARNER = ROOT / "notebooks" / "exercises"


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pruninglab", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


def _write(path, assignment, answers):
    nb = json.loads((LEARNER / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    for c in nb["cells"]:
        for t in c.get("metadata", {}).get("tags", []):
            if t.startswith("answer:") and t[7:] in answers:
                c["source"] = answers[t[7:]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("course")
    sub = base / "submitted"
    ex1 = ["magnitude_prune", "threshold_prune", "n_m_prune", "neuron_prune"]
    _write(sub / "alice" / "ex01_pruning" / "ex01_pruning.ipynb", "ex01_pruning",
           {e: solution_source(e) for e in ex1})
    _write(sub / "bob" / "ex01_pruning" / "ex01_pruning.ipynb", "ex01_pruning",
           {"magnitude_prune": "def magnitude_prune(weights, sparsity):\n    return weights[weights != 0]\n",
            "threshold_prune": "from pruninglab.pruning.masks import threshold_mask\n"
                               "def threshold_prune(weights, threshold):\n"
                               "    return weights * threshold_mask(weights, threshold)\n"})
    _write(sub / "carol" / "ex02_quantization_storage" / "ex02_quantization_storage.ipynb",
           "ex02_quantization_storage", {"csr_bytes": "import math\n" + solution_source("csr_bytes")})
    p = _run("grade", str(sub), "-j", "2", "--seed", "3", "--time-limit", "1", "--csv",
             str(base / "gradebook.csv"), "--feedback", str(base / "feedback"))
    return base, p


def test_gradebook(course):
    base, p = course
    assert p.returncode == 0, p.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(base / "gradebook.csv", encoding="utf-8"))}
    assert set(rows) == {"alice", "bob", "carol"}
    full1 = sum(EXERCISES[e].points for e in ("magnitude_prune", "threshold_prune", "n_m_prune", "neuron_prune"))
    assert float(rows["alice"]["total"]) == float(rows["alice"]["max"]) == full1
    assert rows["alice"]["flags"] == ""
    assert float(rows["bob"]["magnitude_prune"]) < EXERCISES["magnitude_prune"].points
    assert float(rows["bob"]["n_m_prune"]) == 0
    assert "threshold_prune: uses reference" in rows["bob"]["flags"]
    assert rows["carol"]["assignment"] == "ex02_quantization_storage"
    assert float(rows["carol"]["csr_bytes"]) == EXERCISES["csr_bytes"].points
    assert rows["carol"]["magnitude_prune"] == ""           # not part of that assignment
    assert "seed 3" in p.stdout and "alice" in p.stdout


def test_feedback_files_carry_the_hints(course):
    base, _ = course
    text = (base / "feedback" / "bob__ex01_pruning.md").read_text(encoding="utf-8")
    assert "# Feedback: bob" in text and "hint:" in text and "not attempted" in text
    assert "np.delete" in text or "removed" in text


def _main(capsys, *args):
    rc = cli_main(list(args))
    return rc, capsys.readouterr()


def test_exit_codes(tmp_path, capsys):
    bad = tmp_path / "broken_ex01_pruning.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    rc, out = _main(capsys, "grade", "--json", str(bad), str(tmp_path / "missing_ex01_pruning.ipynb"))
    assert rc == 2
    rows = json.loads(out.out)
    assert [r["status"][:14] for r in rows] == ["not a notebook", "no such file"]
    assert "error:" in out.err and "not a notebook" in out.err
    assert _main(capsys, "grade", str(tmp_path / "empty_dir_does_not_exist"))[0] == 2
    rc, out = _main(capsys, "grade", "--assignment", "nope", str(bad))
    assert rc == 2 and "unknown assignment 'nope'" in out.err
    assert _main(capsys, "grade", "-j", "0", str(bad))[0] == 2
    with pytest.raises(SystemExit) as e:   # no subcommand: argparse usage error
        cli_main([])
    assert e.value.code == 2


def test_release(tmp_path, capsys):
    out = tmp_path / "rel"
    rc, printed = _main(capsys, "release", str(out))
    assert rc == 0, printed.err
    ln = out / "learner" / "exercises" / "ex01_pruning.ipynb"
    ins = out / "instructor" / "exercises" / "ex01_pruning.ipynb"
    src = out / "nbgrader" / "source" / "ex01_pruning" / "ex01_pruning.ipynb"
    assert "### BEGIN SOLUTION" not in ln.read_text() and "### BEGIN SOLUTION" in ins.read_text()
    nb = json.loads(src.read_text())
    meta = [c["metadata"].get("nbgrader", {}) for c in nb["cells"]]
    assert {"answer_magnitude_prune", "check_magnitude_prune"} <= {m.get("grade_id") for m in meta}
    assert nb["metadata"]["pruninglab"]["assignment"] == "ex01_pruning"
    assert (out / "nbgrader" / "nbgrader_config.py").exists()
    rc, printed = _main(capsys, "release", str(out))            # refuses to overwrite
    assert rc == 2 and "exists and is not empty" in printed.err
