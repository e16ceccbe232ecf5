"""The schema and the shipped filter sets are package data, with one copy each in the source tree."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import pytest

from amtkit.defense.cbfilters import DATA_DIR, SCHEMA_PATH, SHIPPED, load, parse, shipped_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "amtkit"
PUBLISHED = ROOT / "filters"


def package_data_patterns() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(pyproject["tool"]["setuptools"]["package-data"]["amtkit"])


@pytest.mark.parametrize("path", [SCHEMA_PATH, *(DATA_DIR / f for f in SHIPPED.values())], ids=lambda p: p.name)
def test_the_file_is_inside_the_package_and_covered_by_package_data(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    assert path.is_file() and not path.is_symlink()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data_patterns())


@pytest.mark.parametrize("name", ["CBFilters.xsd", *SHIPPED.values()])
def test_the_published_copy_in_filters_is_a_relative_link_to_the_packaged_file(name: str) -> None:
    published = PUBLISHED / name
    assert published.is_symlink()
    assert not Path(published.readlink()).is_absolute()
    assert published.resolve() == (DATA_DIR / name).resolve()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_set_loads_by_name(name: str) -> None:
    assert load(name) == parse(PUBLISHED / SHIPPED[name])


def test_default_is_the_cbfilters_file() -> None:
    assert shipped_path("default").name == "CBFilters.xml"
