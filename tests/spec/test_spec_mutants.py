"""The mutation check (``scripts/mutants.py``) still covers the vocabulary and still fits the code.

It is run by hand (about half an hour); these tests only make sure it has not rotted: every
hand-written fault still matches the line it mutates, and the generated ones still include the
faults the review found passing every test.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutants.py"


@pytest.fixture(scope="module")
def mutants() -> ModuleType:
    spec = importlib.util.spec_from_file_location("amtkit_mutants", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except SystemExit as stale:  # a hand-written mutant no longer matches its source line
        pytest.fail(f"scripts/mutants.py no longer fits the code: {stale}; update the mutant")
    return module


def test_every_mutant_applies_to_its_file(mutants: ModuleType) -> None:
    for mutant in mutants.all_mutants():
        text = (mutants.PROJECT / mutant.path).read_text(encoding="utf-8")
        assert mutant.apply(text) != text, mutant.id
        assert mutant.path in mutants.TESTS_BY_FILE, mutant.id


def test_the_faults_the_review_found_are_among_the_mutants(mutants: ModuleType) -> None:
    ids = [m.id for m in mutants.all_mutants()]
    assert "codes:PowerAction.CYCLE_HARD<->RESET" in ids
    assert any(i.startswith("names:'http://schemas.xmlsoap.org/ws/2004/08/addressing'->") for i in ids)
    assert any(i.startswith("names:'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/'->") for i in ids)
    assert any(i.startswith("names:'/Get'->") for i in ids)


def test_every_enum_member_of_codes_is_swapped_with_its_neighbour(mutants: ModuleType) -> None:
    import enum

    import amtkit.codes as codes

    enums = [v for v in vars(codes).values() if isinstance(v, type) and issubclass(v, (enum.IntEnum, enum.IntFlag))
             and v.__module__ == codes.__name__]
    swaps = [m.id for m in mutants.enum_swaps(mutants.CODES)]
    assert len(swaps) == sum(len(e) - 1 for e in enums)
