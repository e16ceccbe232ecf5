"""docs/benchmarks.md's figures table is generated from a committed run record and cannot drift from it."""

from __future__ import annotations

import re

from bench.framework import ROOT
from bench.record import RunRecord
from bench.report import block_source, update

DOC = ROOT / "docs" / "benchmarks.md"


def test_figures_table_is_the_one_generated_from_its_results_file() -> None:
    document = DOC.read_text(encoding="utf-8")
    source = block_source(document)
    record = RunRecord.read(source)  # a missing or unreadable results file fails here, loudly
    assert update(document, record, source) == document, (
        f"docs/benchmarks.md differs from its generated table: run "
        f"python -m bench.report {source.relative_to(ROOT)} --update docs/benchmarks.md")


def _anchors(markdown: str) -> set[str]:
    """Heading ids as mkdocs' toc makes them: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", h).strip().lower()) for h in headings}


def test_every_argued_minimum_points_at_a_section_of_the_docs() -> None:
    document = DOC.read_text(encoding="utf-8")
    record = RunRecord.read(block_source(document))
    cited = {m.group(1) for f in record.figures if f.target is not None
             for m in [re.search(r"docs/benchmarks\.md#([\w-]+)", f.target.source)] if m}
    assert cited and cited <= _anchors(document)
