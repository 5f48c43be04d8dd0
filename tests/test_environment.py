"""The pinned environment: requirements.txt, environment.yml and the lock file agree."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    out = {}
    for ln in lines:
        ln = ln.strip()
        m = re.fullmatch(r"(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)", ln)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def requirements():
    return _pins((ROOT / "requirements.txt").read_text().splitlines())


def environment_yml():
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    return _pins(pip_section.splitlines()), text


def test_every_requirement_is_exactly_pinned():
    for ln in (ROOT / "requirements.txt").read_text().splitlines():
        ln = ln.strip()
        if ln and not ln.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][^\s]*", ln), f"not an exact pin: {ln!r}"


def test_torch_is_the_cpu_build_version():
    assert requirements()["torch"] == "2.13.0"


def test_environment_yml_agrees_with_requirements():
    env, text = environment_yml()
    req = requirements()
    assert env == req, f"environment.yml pip pins differ from requirements.txt: " \
                       f"only in yml {set(env.items()) - set(req.items())}, " \
                       f"only in requirements {set(req.items()) - set(env.items())}"
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M), "environment.yml must pin python=3.11"
    assert "conda-forge" in text


def test_lock_file_agrees_with_requirements():
    lock = _pins((ROOT / "requirements-lock.txt").read_text().splitlines())
    for name, version in requirements().items():
        assert lock.get(name) == version, f"{name}: requirements {version}, lock {lock.get(name)}"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version
    for name, pinned in requirements().items():
        installed = version(name).split("+")[0]
        assert installed == pinned, f"{name}: installed {installed}, pinned {pinned}"


def test_pin_parser_detects_a_mismatch():
    # guard against a test that cannot fail: a changed version must be seen as different
    a = _pins(["numpy==2.4.6"])
    b = _pins(["      - numpy==2.4.5"])
    assert a != b and b == {"numpy": "2.4.5"}
