"""One-off: extract the LM corpus (data/lm_corpus.txt.gz) from the Python standard library's docstrings.

Run once (output depends on the Python version, so it is NOT regenerated at run time):
    python tools/make_lm_corpus.py
Text: docstrings of a fixed list of pure-Python standard-library modules (PSF License), printable
ASCII + newline only, each docstring separated by a blank line, in a fixed order.
"""
import gzip
import importlib
import inspect
import string
import sys
from pathlib import Path

MODULES = ["argparse", "ast", "asyncio", "base64", "bisect", "calendar", "collections", "configparser",
           "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email",
           "enum", "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "heapq",
           "hmac", "html", "http.client", "http.server", "imaplib", "inspect", "ipaddress", "json",
           "locale", "logging", "mailbox", "multiprocessing", "netrc", "numbers", "operator",
           "optparse", "os", "pathlib", "pdb", "pickle", "pkgutil", "platform", "plistlib",
           "poplib", "pprint", "pydoc", "queue", "random", "re", "sched", "secrets", "selectors",
           "shlex", "shutil", "smtplib", "socket", "socketserver", "statistics", "string",
           "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit", "tokenize",
           "trace", "traceback", "typing", "unittest", "urllib.parse", "urllib.request", "uuid",
           "warnings", "wave", "weakref", "xml.dom.minidom", "xml.etree.ElementTree", "zipfile",
           "zipimport"]
OK = set(string.printable) - set("\r\x0b\x0c\t")


def docs(mod):
    seen = set()
    out = []
    def add(obj):
        d = inspect.getdoc(obj)
        if d and id(d) not in seen and len(d) > 40:
            seen.add(id(d)); out.append(d)
    add(mod)
    for name, obj in sorted(vars(mod).items()):
        if getattr(obj, "__module__", None) != mod.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            add(obj)
            if inspect.isclass(obj):
                for _, m in sorted(vars(obj).items()):
                    if inspect.isfunction(m):
                        add(m)
    return out


def main():
    parts = []
    for name in MODULES:
        for d in docs(importlib.import_module(name)):
            d = d.replace("\t", "    ")
            parts.append("".join(c for c in d if c in OK))
    text = "\n\n".join(parts) + "\n"
    path = Path(__file__).resolve().parent.parent / "data" / "lm_corpus.txt.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(text.encode("ascii"))
    print(f"{len(text):,} characters from {len(MODULES)} modules, Python {sys.version.split()[0]} -> {path}")


if __name__ == "__main__":
    main()
