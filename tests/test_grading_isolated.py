"""The teacher's grader never trusts the submission: hostile answers end with the score an honest
grader gives, and the tool keeps running. Answers run in confined child processes
(pruninglab.grading.isolated); scores are judged in this process."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pruninglab.grading import EXERCISES
from pruninglab.grading.cli import grade_submission
from pruninglab.grading.isolated import Limits, Stage, grade_source
from pruninglab.grading.solutions import solution_source
from pruninglab.grading.submission import integrity_flags

ROOT = Path(__file__).resolve().parent.parent
MP = EXERCISES["magnitude_prune"]
REF_MP = solution_source("magnitude_prune")      # the reference answer cell of the notebook source
LEARNER_NB = ROOT / "notebooks" / "exercises" / "ex01_pruning.ipynb"
FAST = Limits(time_limit=0.5)


@pytest.fixture(scope="module")
def stage():
    with Stage() as s:
        yield s


def _grade(src, stage, ex=MP, limits=FAST):
    t0 = time.perf_counter()
    rep, runner = grade_source(ex, src, seed=1, limits=limits, stage=stage)
    return rep, runner, time.perf_counter() - t0


BEHAVIOUR = ("does not modify its inputs", "deterministic", "quiet (no stderr output, no warnings)")


def _cases(rep):
    """Points from the test cases (not the behaviour checks an empty answer may also pass)."""
    return sum(c.passed for c in rep.checks if c.name not in BEHAVIOUR)


def _full(rep):
    return rep.status == "graded" and rep.score == rep.max_score


# ------------------------------------------------------------------ honest baselines

def test_reference_gets_full_marks_and_is_confined(stage):
    rep, runner, _ = _grade(REF_MP, stage)
    assert _full(rep), str(rep)
    assert any("landlock" in m for m in runner.measures) or sys.platform != "linux"


def test_buggy_answer_scores_like_in_process(stage):
    from pruninglab.grading import grade
    src = "def magnitude_prune(w, s):\n    return w * 1.0\n"
    ns = {}
    exec(src, ns)
    local = grade("magnitude_prune", ns["magnitude_prune"], seed=1)
    rep, _, _ = _grade(src, stage)
    assert rep.score == local.score < rep.max_score
    assert [c.passed for c in rep.checks] == [c.passed for c in local.checks]


# ------------------------------------------------------------------ hostile answers

def test_monkeypatching_numpy_and_grading_changes_nothing(stage):
    src = ("import numpy\nnumpy.array_equal = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
           "try:\n    import pruninglab.grading as g\n    g.core.grade_with = None\nexcept Exception:\n    pass\n"
           "def magnitude_prune(w, s):\n    return w\n")
    honest = "def magnitude_prune(w, s):\n    return w\n"
    assert _grade(src, stage)[0].score == _grade(honest, stage)[0].score < MP.points


def test_infinite_loop_is_stopped_by_cpu_limit(stage):
    rep, _, wall = _grade("def magnitude_prune(w, s):\n    while True:\n        pass\n", stage)
    assert _cases(rep) == 0 and any("timed out" in c.hint for c in rep.checks)
    assert wall < 30


def test_c_level_huge_allocation_is_a_memory_error(stage):
    rep, _, _ = _grade("def magnitude_prune(w, s):\n    return np.ones(10**10)\n", stage)
    assert _cases(rep) == 0
    assert any("MemoryError" in c.detail for c in rep.checks), str(rep)


@pytest.mark.parametrize("exit_code", ["os._exit(0)", "sys.exit()", "raise SystemExit(0)"])
def test_exits_inside_the_answer(stage, exit_code):
    src = f"import os, sys\ndef magnitude_prune(w, s):\n    {exit_code}\n"
    rep, _, _ = _grade(src, stage)
    assert rep.status == "graded" and _cases(rep) == 0, str(rep)


def test_fork_loop_is_refused(stage):
    src = ("import os\ndef magnitude_prune(w, s):\n    while True:\n        if os.fork() == 0:\n"
           "            while True:\n                pass\n")
    rep, _, wall = _grade(src, stage)
    assert _cases(rep) == 0 and wall < 30
    assert any("BlockingIOError" in c.detail or "Resource temporarily" in c.detail
               or "process" in c.detail for c in rep.checks), str(rep)


def test_writing_outside_the_working_directory_is_blocked(stage, tmp_path):
    target = tmp_path / "pwned.txt"
    src = (f"try:\n    open({str(target)!r}, 'w').write('x')\nexcept OSError:\n    pass\n" + REF_MP)
    rep, runner, _ = _grade(src, stage)
    assert _full(rep), str(rep)          # the correct code still counts
    if not any("landlock" in m for m in runner.measures):
        pytest.skip("Landlock not available on this kernel: writes are limited by rlimits only")
    assert not target.exists()


def test_reading_the_reference_solutions_fails_and_is_flagged(stage):
    src = ("from pruninglab.grading.solutions import solution_source\n"
           "exec(solution_source('magnitude_prune'))\n")
    rep, _, _ = _grade(src, stage)
    assert rep.status in ("error", "not attempted") and _cases(rep) == 0
    assert any(f.startswith("uses reference") for f in integrity_flags(src, MP))
    path = ROOT / "notebooks" / "src" / "exercises" / "ex01_pruning.py"
    src2 = (f"code = open({str(path)!r}).read()\n"
            "def magnitude_prune(w, s):\n    return None\n")
    rep2, runner, _ = _grade(src2, stage)
    if any("landlock" in m for m in runner.measures):
        assert rep2.status == "error" and "PermissionError" in " ".join(rep2.notes)


def test_calling_the_library_implementation_is_flagged():
    src = ("from pruninglab.pruning.masks import magnitude_mask\n"
           "def magnitude_prune(w, s):\n    return w * magnitude_mask(w, s)\n")
    assert any(f.startswith("uses reference") for f in integrity_flags(src, MP))
    assert integrity_flags(REF_MP, MP) == []


def test_forged_result_files_are_judged_as_data(stage):
    src = ("import os, json\n"
           "out = os.path.join(os.path.dirname(os.getcwd()), 'out')\n"
           "for i in range(60):\n"
           "    json.dump({'ok': True, 'value': {'t': 'int', 'v': '1'}, 'args_after': {'t': 'list', 'items': []}},"
           " open(os.path.join(out, f'{i}.json'), 'w'))\n"
           "def magnitude_prune(w, s):\n    os._exit(0)\n")
    rep, _, _ = _grade(src, stage)
    assert _cases(rep) == 0, str(rep)


def test_100_mb_of_printed_output(stage):
    noisy = REF_MP.replace("    return out", "    print('z' * 10**6)\n    return out")
    assert noisy != REF_MP
    src = ("import os\nprint('x' * 10**8)\ntry:\n    os.write(1, b'y' * 10**8)\nexcept OSError:\n    pass\n"
           + noisy)
    rep, _, wall = _grade(src, stage, limits=Limits(time_limit=2.0))
    assert _full(rep), str(rep)
    assert wall < 60


def test_raising_answer_shows_the_line_and_the_right_determinism_hint(stage):
    src = "def magnitude_prune(w, s):\n    k = w.size * s\n    return w[k]\n"
    rep, _, _ = _grade(src, stage)
    text = str(rep)
    assert "line 3 in magnitude_prune: return w[k]" in text
    det = [c for c in rep.checks if c.name == "deterministic"][0]
    assert not det.passed and "np.random" not in det.hint and "exception" in det.hint
    assert text.count("hint: read the error message") == 1 and "same as for" in text


def test_cpu_hog_beside_the_grader_does_not_fail_a_correct_answer(stage):
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        for eid in ("magnitude_prune", "neuron_prune", "csr_bytes"):
            src = "import math\n" + solution_source(eid)
            rep, _, _ = _grade(src, stage, ex=EXERCISES[eid], limits=Limits(time_limit=0.5))
            assert _full(rep), str(rep)
    finally:
        for h in hogs:
            h.kill()
            h.wait()


# ------------------------------------------------------------------ the fork server

def _landlock_abi(runner):
    for m in runner.measures:
        if m.startswith("landlock (ABI "):
            return int(m.split("ABI ")[1].rstrip(")"))
    return 0


def test_forked_and_spawned_children_grade_alike():
    """Without the fork server (a fresh interpreter per exercise) the same rlimits and jail
    apply and the scores are the same, case by case."""
    bad = "def magnitude_prune(w, s):\n    return w * 1.0\n"
    stages = (Stage(), Stage(zygote=False))
    try:
        out = []
        for st in stages:
            (ref, runner), (wrong, _) = [grade_source(MP, src, seed=4, limits=FAST, stage=st)
                                         for src in (REF_MP, bad)]
            assert _full(ref) and 0 < wrong.score < wrong.max_score
            assert bool(st._zygotes) == st.use_zygote
            out.append(([(c.name, c.passed) for r in (ref, wrong) for c in r.checks], runner.measures))
        assert out[0] == out[1] and stages[0].use_zygote
    finally:
        for st in stages:
            st.close()


def test_children_get_a_clean_environment_and_an_empty_cwd(monkeypatch):
    """The fork server is started with the scrubbed environment: nothing of the grader's
    environment (tokens, PRUNINGLAB_*) reaches the answer, its cwd is empty, and its parent is
    not the grader."""
    monkeypatch.setenv("PRUNINGLAB_SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("GITHUB_TOKEN", "s3cret")
    probe = (f"import os\nBAD = [k for k, v in os.environ.items() if 's3cret' in v or 'TOKEN' in k]\n"
             f"BAD += os.listdir('.')\nBAD += ['grader'] if os.getppid() == {os.getpid()} else []\n"
             + REF_MP.replace("    return out", "    assert not BAD, BAD\n    return out"))
    with Stage() as st:
        rep, runner, _ = _grade(probe, st)
        assert _full(rep), str(rep)
        leaky = probe.replace("'TOKEN' in k]", "'TOKEN' in k] + ['x']")
        assert _cases(_grade(leaky, st)[0]) == 0          # the probe can fail


def test_sleeping_answer_is_killed_by_the_wall_clock_and_the_server_goes_on(stage):
    lim = Limits(time_limit=0.05, startup_s=1.0, wall_factor=1.0, wall_extra_s=1.0)
    src = "import time\ndef magnitude_prune(w, s):\n    time.sleep(600)\n"
    rep, runner, wall = _grade(src, stage, limits=lim)
    assert _cases(rep) == 0 and wall < 60
    assert "wall-clock" in runner.death and "wall-clock" in str(rep)
    assert _full(_grade(REF_MP, stage)[0])


def test_an_answer_cannot_kill_the_fork_server(stage):
    rep, runner, _ = _grade(REF_MP, stage)
    if _landlock_abi(runner) < 6:
        pytest.skip("Landlock ABI < 6: signals to the fork server are not scoped on this kernel")
    z = next(iter(stage._zygotes.values()))
    src = ("import os, signal\nfor sig in (9, 15):\n    try:\n        os.kill(os.getppid(), sig)\n"
           "    except OSError:\n        pass\n" + REF_MP)
    assert _full(_grade(src, stage)[0])
    assert z.alive and z.proc.poll() is None and next(iter(stage._zygotes.values())) is z


def test_closing_the_stage_stops_its_fork_servers():
    st = Stage()
    grade_source(MP, REF_MP, seed=0, limits=FAST, stage=st)
    procs = [z.proc for z in st._zygotes.values()]
    assert procs and all(p.poll() is None for p in procs)
    st.close()
    assert all(p.poll() is not None for p in procs) and not os.path.exists(st.dir)


# ------------------------------------------------------------------ whole notebooks

def _submission(tmp_path, name, answers=None, drop=lambda c: False, extra=()):
    nb = json.loads(LEARNER_NB.read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        if drop(c):
            continue
        for t in c.get("metadata", {}).get("tags", []):
            if t.startswith("answer:") and answers and t[7:] in answers:
                c["source"] = answers[t[7:]]
        cells.append(c)
    for code in extra:
        cells.append({"cell_type": "code", "metadata": {}, "source": code, "outputs": [],
                      "execution_count": None})
    nb["cells"] = cells
    p = tmp_path / f"{name}_ex01_pruning.ipynb"
    p.write_text(json.dumps(nb), encoding="utf-8")
    return p


def _ref(eid):
    return solution_source(eid)


def test_the_three_attacks_of_issue_11(tmp_path, stage):
    kw = dict(seed=2, limits=FAST, stage=stage)
    # untouched stub (demonstration cells grade the seed bugs under the same ids): 0
    stub = grade_submission(_submission(tmp_path, "stub"), **kw)
    assert stub["score"] == 0 and stub["max_score"] == sum(EXERCISES[e].points for e in
                                                           ("magnitude_prune", "threshold_prune",
                                                            "n_m_prune", "neuron_prune"))
    assert {e["status"] for e in stub["exercises"].values()} == {"not attempted"}
    # forged result lines written by a cell of the submission: still 0
    forge = ("import os, json\nfor e in ['magnitude_prune','threshold_prune','n_m_prune','neuron_prune']:\n"
             "    line = json.dumps({'exercise': e, 'score': 10, 'max_score': 10, 'passed': True, 'status': 'graded'})\n"
             "    print(line)\n"
             "    if os.environ.get('PRUNINGLAB_GRADE_RESULTS'):\n"
             "        open(os.environ['PRUNINGLAB_GRADE_RESULTS'], 'a').write(line + '\\n')\n")
    forged = grade_submission(_submission(tmp_path, "forged", extra=[forge]), **kw)
    assert forged["score"] == 0
    # deleting the check cells does not change the total
    half = {"magnitude_prune": _ref("magnitude_prune"), "threshold_prune": _ref("threshold_prune"),
            "n_m_prune": "def n_m_prune(weights, n, m):\n    return weights * 0\n"}
    a = grade_submission(_submission(tmp_path, "half", half), **kw)
    is_check = lambda c: any(t.startswith("check:") for t in c.get("metadata", {}).get("tags", []))  # noqa: E731
    b = grade_submission(_submission(tmp_path, "nocheck", half, drop=is_check), **kw)
    assert a["score"] == b["score"] and a["max_score"] == b["max_score"]
    assert 0 < a["score"] < a["max_score"]
    assert a["exercises"]["magnitude_prune"]["points"] == EXERCISES["magnitude_prune"].points
    assert a["exercises"]["neuron_prune"]["status"] == "not attempted"
    # deleting an answer cell: 0 "not found"
    is_mp = lambda c: "answer:magnitude_prune" in c.get("metadata", {}).get("tags", [])  # noqa: E731
    c = grade_submission(_submission(tmp_path, "deleted", half, drop=is_mp), **kw)
    assert c["exercises"]["magnitude_prune"]["status"] == "not found"
    assert c["max_score"] == a["max_score"] and c["score"] == a["score"] - EXERCISES["magnitude_prune"].points


def test_syntax_error_and_invalid_json(tmp_path, stage):
    p = _submission(tmp_path, "syntax", {"threshold_prune": "def threshold_prune(w, t)\n    return w\n"})
    row = grade_submission(p, seed=0, limits=FAST, stage=stage)
    e = row["exercises"]["threshold_prune"]
    assert e["status"] == "parse error" and e["points"] == 0 and "SyntaxError" in e["reason"]
    bad = tmp_path / "broken_ex01_pruning.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    row = grade_submission(bad, seed=0, limits=FAST, stage=stage)
    assert row["tool_error"] and "not a notebook" in row["status"] and row["score"] == 0
    assert row["student"] == "broken"
