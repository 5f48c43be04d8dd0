"""The five seed documents (Chinese interview-prep texts) and their item catalog.

The texts are copied verbatim into ``data/seeds/`` (origin: the project's ``shared/seeds``
folder, see ``data/seeds/README.md``); ``data/seeds/catalog.tsv`` gives every item a stable ID
(38 items). Notebooks quote these texts and run the documents' code *verbatim*:
:func:`code_blocks` returns the fenced code of a document exactly as written, so a test can
check that a notebook cell tagged ``seed-code:<ID>`` is the document's code, character for
character.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from .utils import repo_root

__all__ = ["Item", "catalog", "item", "document", "code_blocks", "seed_code", "SEED_CODE_BLOCKS"]


@dataclass(frozen=True)
class Item:
    id: str
    file: str
    original_heading: str
    english: str

    @property
    def kind(self) -> str:
        """``"Q"`` (interview question), ``"C"`` (coding exercise) or ``"E"`` (design exercise)."""
        return self.id.split("-")[1][0]


def _dir():
    return repo_root() / "data" / "seeds"


@lru_cache(maxsize=1)
def catalog() -> tuple[Item, ...]:
    """All 38 catalog items, in catalog order."""
    with open(_dir() / "catalog.tsv", encoding="utf-8", newline="") as f:
        return tuple(Item(r["id"], r["file"], r["original_heading"], r["english"])
                     for r in csv.DictReader(f, delimiter="\t"))


def item(item_id: str) -> Item:
    for it in catalog():
        if it.id == item_id:
            return it
    raise ValueError(f"item_id {item_id!r} is not in the seed catalog")


@lru_cache(maxsize=None)
def document(file: str) -> str:
    """The full text of one seed document (``file`` as named in the catalog, or its 3-digit prefix)."""
    names = sorted(p.name for p in _dir().glob("*.txt"))
    for n in names:
        if n == file or n.startswith(str(file) + "_"):
            return (_dir() / n).read_text(encoding="utf-8")
    raise ValueError(f"file {file!r} is not a seed document; have {names}")


def code_blocks(file: str) -> list[str]:
    """The fenced code blocks of a document, in order, verbatim, with the fence's
    indentation removed (document 003 indents its code inside a list)."""
    out = []
    for m in re.finditer(r"^([ \t]*)```[a-z]*\n(.*?)^[ \t]*```", document(file), re.S | re.M):
        indent, body = m.group(1), m.group(2)
        lines = [ln[len(indent):] if ln.startswith(indent) else ln for ln in body.splitlines()]
        out.append("\n".join(lines).rstrip("\n"))
    return out


# Which code block of which document belongs to which coding item (checked by tests).
SEED_CODE_BLOCKS = {
    "S0-C1": ("000", 0), "S0-C2": ("000", 1), "S0-C3": ("000", 2),
    "S1-C5": ("001", 0), "S1-C6": ("001", 1),
    "S2-C1": ("002", 0), "S2-C2": ("002", 1), "S2-C3": ("002", 2), "S2-C4": ("002", 3),
    "S2-C5": ("002", 4),
    "S3-C1": ("003", 0), "S3-C2": ("003", 1),
}


def seed_code(item_id: str) -> str:
    """The verbatim code of a coding item (e.g. ``seed_code("S2-C1")``)."""
    if item_id not in SEED_CODE_BLOCKS:
        raise ValueError(f"item_id {item_id!r} has no code; coding items: {sorted(SEED_CODE_BLOCKS)}")
    doc, k = SEED_CODE_BLOCKS[item_id]
    return code_blocks(doc)[k]
