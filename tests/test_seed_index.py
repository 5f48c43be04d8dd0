"""Every seed catalog item appears exactly once in the notebooks; seed code is quoted verbatim."""
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from pruninglab import seeds

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_index  # noqa: E402


def _cells():
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            yield path, cell, src, cell.get("metadata", {}).get("tags", [])


def test_catalog_has_38_items_of_the_right_kinds():
    items = seeds.catalog()
    assert len(items) == 38 and len({i.id for i in items}) == 38
    assert Counter(i.kind for i in items) == {"Q": 24, "C": 12, "E": 2}
    assert set(seeds.SEED_CODE_BLOCKS) == {i.id for i in items if i.kind == "C"}


def test_every_id_anchored_exactly_once():
    counts = Counter(item_id for item_id, _, _ in make_index.anchors())
    ids = [i.id for i in seeds.catalog()]
    missing = [i for i in ids if counts[i] == 0]
    duplicated = [i for i in ids if counts[i] > 1]
    unknown = sorted(set(counts) - set(ids))
    assert not missing, f"seed items with no notebook section: {missing}"
    assert not duplicated, f"seed items anchored more than once: {duplicated}"
    assert not unknown, f"tags naming IDs not in the catalog: {unknown}"


def test_anchor_heading_names_the_id():
    for item_id, nb, heading in make_index.anchors():
        assert item_id in heading, f"{nb}: heading of seed:{item_id} must contain the ID, got {heading!r}"


def test_index_md_is_up_to_date():
    assert (ROOT / "notebooks" / "INDEX.md").read_text(encoding="utf-8") == make_index.render(), \
        "run: python tools/make_index.py"


def test_every_coding_item_quotes_the_seed_code_verbatim():
    seen = Counter()
    for path, cell, src, tags in _cells():
        for tag in tags:
            if not tag.startswith("seed-code:"):
                continue
            item_id = tag.split(":", 1)[1]
            expected = seeds.seed_code(item_id)
            if cell["cell_type"] == "code":
                got = src.rstrip("\n")
            else:
                m = re.search(r"```[a-z]*\n(.*?)\n```", src, re.S)
                assert m, f"{path.name}: markdown seed-code:{item_id} has no fenced block"
                got = m.group(1)
            assert got == expected, f"{path.name}: seed-code:{item_id} differs from the document's code"
            seen[item_id] += 1
    missing = sorted(set(seeds.SEED_CODE_BLOCKS) - set(seen))
    assert not missing, f"coding items whose code is not quoted verbatim: {missing}"


@pytest.mark.parametrize("item_id", sorted(seeds.SEED_CODE_BLOCKS))
def test_seed_code_extraction_is_nonempty_python(item_id):
    code = seeds.seed_code(item_id)
    assert code.startswith("import ") and "def " in code
    compile(code, item_id, "exec")  # the documents' code is at least syntactically valid


def test_seed_code_rejects_unknown_id():
    with pytest.raises(ValueError, match="item_id"):
        seeds.seed_code("S9-C9")
