"""Vendor recorded AMT messages from ``../shared/amt-wire`` into ``tests/data/amt-wire``.

The suite reads recorded firmware answers only from ``tests/data/amt-wire`` (a user's clone has no
``../shared``). Each vendored file keeps its provenance row from ``../shared/amt-wire/INDEX.md`` in
``tests/data/amt-wire/PROVENANCE.md``.

    python scripts/vendor_wire.py NAME...   # copy files and record their provenance rows
    python scripts/vendor_wire.py --check   # every file has a row, every row a file, bytes match ../shared
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
VENDORED = PROJECT / "tests" / "data" / "amt-wire"
SHARED = PROJECT.parent / "shared" / "amt-wire"
PROVENANCE = "PROVENANCE.md"

_ROW = re.compile(r"^\| (\S+) \| [a-z-]+ \| ")

HEADER = """\
# Vendored AMT wire recordings: provenance

The recorded AMT messages the test suite reads, copied byte for byte from the developers' corpus
(`../shared/amt-wire`) so that a plain clone runs the whole suite. Each row below is the file's row from
that corpus's `INDEX.md`, unchanged: how close the file is to a real capture (`kind`), what it holds, and
the public source it was taken from (`owner/repo:path@commit`).

Kinds, most trustworthy first: `real-capture` (verbatim bytes from AMT firmware), `capture-derived`
(firmware formatting, kept by another project's authors, possibly pretty-printed or sanitized),
`edited-capture` (a capture with visible edits: parser robustness only), `real-client` and
`constructed-library` (requests other consoles send), `constructed-fixture`, `constructed`,
`constructed-spec` and `reconstructed` (built from a specification or layout, not observed).

Add files with `python scripts/vendor_wire.py NAME...`; check with `python scripts/vendor_wire.py --check`.

| file | kind | description | source | notes |
|---|---|---|---|---|
"""


def index_rows(path: Path) -> dict[str, str]:
    """File name -> its table row, from an ``INDEX.md`` or ``PROVENANCE.md``."""
    rows: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _ROW.match(line)
            if match and match.group(1) != "file":  # not the table's heading
                rows[match.group(1)] = line
    return rows


def write_provenance(rows: dict[str, str]) -> None:
    body = "".join(rows[name] + "\n" for name in sorted(rows))
    (VENDORED / PROVENANCE).write_text(HEADER + body, encoding="utf-8")


def vendor(names: list[str]) -> int:
    index = index_rows(SHARED / "INDEX.md")
    rows = index_rows(VENDORED / PROVENANCE)
    missing = [name for name in names if name not in index or not (SHARED / name).is_file()]
    if missing:
        print(f"not in {SHARED}/INDEX.md: {', '.join(missing)}", file=sys.stderr)
        return 1
    VENDORED.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(SHARED / name, VENDORED / name)
        rows[name] = index[name]
    write_provenance(rows)
    print(f"vendored {len(names)} file(s); {len(rows)} in {VENDORED / PROVENANCE}")
    return 0


def check() -> int:
    rows = index_rows(VENDORED / PROVENANCE)
    files = {path.name for path in VENDORED.iterdir() if path.name != PROVENANCE}
    problems = [f"{name}: no provenance row" for name in sorted(files - rows.keys())]
    problems += [f"{name}: provenance row without a file" for name in sorted(rows.keys() - files)]
    if SHARED.is_dir():
        index = index_rows(SHARED / "INDEX.md")
        for name in sorted(files & rows.keys()):
            if index.get(name) != rows[name]:
                problems.append(f"{name}: row differs from {SHARED}/INDEX.md")
            elif (SHARED / name).read_bytes() != (VENDORED / name).read_bytes():
                problems.append(f"{name}: bytes differ from {SHARED / name}")
    else:
        print(f"({SHARED} absent: rows and files checked, bytes not compared)")
    for problem in problems:
        print(problem, file=sys.stderr)
    size = sum((VENDORED / name).stat().st_size for name in files)
    print(f"{len(files)} vendored files, {size / 1e6:.2f} MB, {len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="file names in ../shared/amt-wire")
    parser.add_argument("--check", action="store_true", help="verify the vendored set and its provenance")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    if not args.names:
        parser.error("name at least one file (or --check)")
    return vendor(args.names)


if __name__ == "__main__":
    sys.exit(main())
