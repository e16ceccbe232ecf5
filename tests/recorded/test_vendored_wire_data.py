"""The vendored recordings (``tests/data/amt-wire``) and their provenance stay in step."""

from __future__ import annotations

import re

KINDS = {"real-capture", "capture-quoted", "capture-derived", "edited-capture", "constructed-fixture",
         "real-client", "constructed-library", "reconstructed", "constructed", "constructed-spec", "spec", "table"}


def test_every_vendored_file_has_a_provenance_row_and_every_row_a_file(wire) -> None:
    files = {path.name for path in wire.root.iterdir() if path.name != "PROVENANCE.md"}
    assert files == set(wire.names())


def test_every_provenance_row_names_a_known_kind_and_a_source(wire) -> None:
    rows = {}
    for line in (wire.root / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 5 and cells[0] in wire.names():
            rows[cells[0]] = cells
    assert set(rows) == set(wire.names())
    for name, (_, kind, _, source, _) in rows.items():
        assert kind in KINDS and kind == wire.kind(name), name
        assert source, f"{name}: no source"


def test_the_set_keeps_the_real_firmware_answers(wire) -> None:
    # A guard against curating the set down to constructed files: the parser and replay tests
    # rest on verbatim firmware answers (all 61 of the developers' corpus are vendored).
    assert sum(wire.kind(name) == "real-capture" for name in wire.names()) >= 61
