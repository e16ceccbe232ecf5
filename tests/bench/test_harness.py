"""The bench harness itself: targets, figures over repetitions, the run record's JSON, --compare, the docs block.

Pure functions on hand-made rows and records: no benchmark runs here (performance lives in bench/).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.compare import compare_runs, format_comparison, load_warning, not_run
from bench.framework import Row, Target, goal, minimum, number, timed
from bench.record import Commit, Figure, RecordError, RunRecord, Spread, aggregate
from bench.report import DocumentError, block_source, update

GOAL = goal(3, "under 10 ms")


def run(figures: list[Figure], *, name: str = "r", repeat: int = 3, quick: bool = False) -> RunRecord:
    return RunRecord(name=name, date="2026-12-02T14:00:00+00:00", commit=Commit("a" * 40, False),
                     machine={"python": "3.11.7", "load_average_1min": 1.5}, settings={"quick": quick},
                     repeat=repeat, elapsed_seconds=80.0, figures=figures)


def figure(values: tuple[float, ...], *, metric: str = "apply", unit: str = "ms", target: Target | None = None,
           cpu: tuple[float, ...] | None = None, better: str | None = None) -> Figure:
    return Figure("area.what", metric, unit, Spread(values), None if cpu is None else Spread(cpu), target,
                  better=better)


# -- targets -------------------------------------------------------------------------------------


def test_target_needs_a_source() -> None:
    with pytest.raises(ValueError, match="needs a source"):
        Target.at_most(10.0, " ")


def test_target_refuses_an_unknown_operator() -> None:
    with pytest.raises(ValueError, match="<= or >="):
        Target("<", 10.0, GOAL)


def test_target_sources_name_the_issue_or_the_docs_section() -> None:
    assert goal(3, "under 10 ms") == "issue #3 goal: under 10 ms"
    assert minimum("system-defense-round-trips", "N + 9") == (
        "protocol minimum (N + 9), argued in docs/benchmarks.md#system-defense-round-trips")


def test_at_most_is_met_at_the_limit_and_below() -> None:
    target = Target.at_most(10.0, GOAL)
    assert (target.met_by(10.0), target.met_by(9.9), target.met_by(10.1)) == (True, True, False)


def test_at_least_is_met_at_the_limit_and_above() -> None:
    target = Target.at_least(500, GOAL)
    assert (target.met_by(500), target.met_by(499)) == (True, False)


# -- rows ----------------------------------------------------------------------------------------


def test_client_cpu_is_refused_beside_a_figure_that_is_not_a_time() -> None:
    with pytest.raises(ValueError, match="beside times only"):
        Row("ider.transfer", "throughput", 150.0, "MB/s", cpu=3.0)


def test_direction_comes_from_the_target_first() -> None:
    assert Row("a.b", "found", 500, "devices", Target.at_least(500, GOAL)).direction == "higher"


def test_direction_of_times_and_memory_is_lower_and_of_rates_higher() -> None:
    assert [Row("a.b", "m", 1.0, unit).direction for unit in ("ms", "us", "s", "MB", "req/s", "%")] == [
        "lower", "lower", "lower", "lower", "higher", None]


def test_timed_rows_carry_wall_p50_and_cpu_per_call_in_the_same_unit() -> None:
    row = timed(lambda: sum(range(2000)), 50).row("area.what", "sum", unit="us")
    assert row.unit == "us" and row.cpu is not None
    assert row.value > 0 and row.cpu > 0


def test_integral_numbers_print_without_decimals() -> None:
    assert [number(v) for v in (16.0, 1500.0, 0.0, 2.08, 0.1234, 153.4)] == ["16", "1,500", "0", "2.08", "0.123",
                                                                            "153.4"]


# -- figures over repetitions --------------------------------------------------------------------


def test_repetitions_fold_into_median_and_range_in_first_seen_order() -> None:
    rows = [Row("a.x", "t", 3.0, "ms", cpu=1.0), Row("a.y", "n", 7, "req"),
            Row("a.x", "t", 1.0, "ms", cpu=2.0), Row("a.x", "t", 2.0, "ms", cpu=3.0)]
    first, second = aggregate(rows)
    assert (first.key, first.values.median, first.values.low, first.values.high) == (("a.x", "t"), 2.0, 1.0, 3.0)
    assert first.cpu == Spread((1.0, 2.0, 3.0))
    assert second.key == ("a.y", "n")


def test_repetitions_that_disagree_on_the_target_are_refused() -> None:
    rows = [Row("a.x", "n", 16, "req", Target.at_most(15, GOAL)), Row("a.x", "n", 16, "req", Target.at_most(16, GOAL))]
    with pytest.raises(ValueError, match="disagree"):
        aggregate(rows)


def test_verdict_is_on_the_median() -> None:
    assert figure((9.0, 11.0, 12.0), target=Target.at_most(10.0, GOAL)).verdict == "MISS"
    assert figure((9.0, 9.5, 12.0), target=Target.at_most(10.0, GOAL)).verdict_text() == "PASS 2/3"


def test_every_run_target_misses_when_one_repetition_misses() -> None:
    found = figure((500, 500, 499), unit="devices", target=Target.at_least(500, GOAL, every_run=True))
    assert (found.verdict, found.verdict_text()) == ("MISS", "MISS 2/3")


def test_figure_without_target_has_no_verdict() -> None:
    assert figure((1.0,)).verdict_text() == ""


# -- the run record ------------------------------------------------------------------------------


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(values=st.lists(finite, min_size=1, max_size=5), limit=finite, at_most=st.booleans(),
       cpu=st.booleans(), every_run=st.booleans())
def test_run_record_survives_a_json_round_trip(values: list[float], limit: float, at_most: bool, cpu: bool,
                                               every_run: bool) -> None:
    target = Target("<=" if at_most else ">=", limit, GOAL, every_run)
    record = run([figure(tuple(values), target=target, cpu=tuple(values) if cpu else None)])
    assert RunRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_run_record_json_names_the_run_its_commit_and_machine(tmp_path: Path) -> None:
    path = tmp_path / "results" / "baseline.json"
    run([figure((1.0, 2.0, 3.0))], name="baseline").write(path)
    data = json.loads(path.read_text())
    assert (data["format"], data["name"], data["commit"], data["dirty"], data["repeat"]) == (
        1, "baseline", "a" * 40, False, 3)
    assert data["figures"][0]["values"] == [1.0, 2.0, 3.0] and data["figures"][0]["median"] == 2.0


def test_reading_something_else_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"rows": []}')
    with pytest.raises(RecordError, match="not a bench run record of format 1"):
        RunRecord.read(path)


def test_reading_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot read"):
        RunRecord.read(tmp_path / "nothing.json")


# -- compare -------------------------------------------------------------------------------------


def status(old: tuple[float, ...], new: tuple[float, ...], **kw: object) -> str:
    [change] = compare_runs(run([figure(old, **kw)]), run([figure(new, **kw)]))  # type: ignore[arg-type]
    return change.status


def test_overlapping_ranges_are_within_noise() -> None:
    assert status((1.0, 1.2, 1.4), (1.3, 1.5, 1.7)) == "within noise"


def test_disjoint_ranges_with_a_shift_larger_than_the_band_are_a_change() -> None:
    assert status((1.0, 1.1, 1.2), (1.5, 1.6, 1.7)) == "worse"
    assert status((1.5, 1.6, 1.7), (1.0, 1.1, 1.2)) == "better"


def test_disjoint_ranges_with_a_shift_inside_the_wider_band_are_within_noise() -> None:
    # ranges [1.0, 2.0] and [2.1, 2.2] do not overlap, but the medians move 0.65 < the band of 1.0
    assert status((1.0, 1.5, 2.0), (2.1, 2.15, 2.2)) == "within noise"


def test_a_varying_quantity_must_move_more_than_the_noise_floor() -> None:
    # apart and further than either range is wide, but 5 % is inside the 10 % floor for varying quantities
    assert status((100.0, 101.0, 102.0), (105.0, 106.0, 107.0)) == "within noise"


def test_exact_counts_have_no_floor_so_one_more_round_trip_counts() -> None:
    assert status((72.0, 72.0, 72.0), (73.0, 73.0, 73.0), unit="requests", better="lower") == "worse"


def test_a_lower_noise_floor_lets_a_smaller_change_count() -> None:
    old, new = run([figure((100.0, 101.0, 102.0))]), run([figure((105.0, 106.0, 107.0))])
    [change] = compare_runs(old, new, floor=0.02)
    assert (change.band, change.status) == (2.02, "worse")


def test_higher_is_better_for_rates() -> None:
    assert status((100.0, 101.0, 102.0), (150.0, 151.0, 152.0), unit="req/s") == "better"


def test_figure_without_direction_has_changed() -> None:
    assert status((40.0, 41.0, 42.0), (80.0, 81.0, 82.0), unit="%") == "changed"


def test_identical_counts_are_the_same() -> None:
    assert status((16.0,), (16.0,), unit="requests") == "same"


def test_a_single_repetition_has_no_band_so_a_change_is_marked() -> None:
    assert status((16.0,), (17.0,), unit="requests", better="lower") == "worse?"


def test_client_cpu_is_compared_on_its_own_line() -> None:
    old = run([figure((1.0, 1.0, 1.0), cpu=(0.2, 0.21, 0.22))])
    new = run([figure((1.0, 1.0, 1.0), cpu=(0.5, 0.51, 0.52))])
    value, cpu = compare_runs(old, new)
    assert (value.status, cpu.label, cpu.status) == ("same", "area.what: apply [client CPU]", "worse")


def test_new_and_gone_figures_are_reported() -> None:
    old = run([figure((1.0,), metric="kept"), figure((1.0,), metric="dropped")])
    new = run([figure((1.0,), metric="kept"), figure((1.0,), metric="added")])
    assert [(c.label, c.status) for c in compare_runs(old, new)] == [
        ("area.what: kept", "same"), ("area.what: added", "new"), ("area.what: dropped", "gone")]


def test_benchmarks_not_run_are_listed_not_reported_gone() -> None:
    other = replace(figure((1.0,)), benchmark="other.area")
    old, new = run([figure((1.0,)), other]), run([figure((1.0,))])
    assert not_run(old, new) == ["other.area"]
    assert [c.label for c in compare_runs(old, new)] == ["area.what: apply"]
    assert "not run this time: other.area" in format_comparison(old, new, compare_runs(old, new))


def test_runs_under_very_different_load_are_flagged() -> None:
    quiet = replace(run([]), machine={"load_average_1min": 1.0}, load_average_end=2.0)
    busy = replace(run([]), machine={"load_average_1min": 4.0}, load_average_end=5.0)
    assert load_warning(quiet, busy) == (
        "load differed (old 1.5, new 4.5 on average): times are less comparable than their bands say; "
        "repeat the runs under similar load before trusting a better or worse time")
    assert load_warning(quiet, quiet) is None


def test_comparison_shows_a_verdict_that_changed() -> None:
    target = Target.at_most(10.0, GOAL)
    old, new = run([figure((9.0, 9.1, 9.2), target=target)]), run([figure((12.0, 12.1, 12.2), target=target)])
    text = format_comparison(old, new, compare_runs(old, new))
    assert "PASS -> MISS" in text and "+33.0%" in text


# -- the generated docs block --------------------------------------------------------------------

DOC = "# Benchmarks\n\nprose\n\n<!-- bench:figures bench/results/old.json -->\nold table\n<!-- /bench:figures -->\n\nmore\n"


def test_update_replaces_only_the_generated_block_and_names_its_source() -> None:
    record = run([figure((1.0, 2.0, 3.0), target=Target.at_most(10.0, GOAL), cpu=(0.5, 0.5, 0.5))])
    out = update(DOC, record, Path("bench/results/baseline.json"))
    assert out.startswith("# Benchmarks\n\nprose\n\n<!-- bench:figures bench/results/baseline.json -->\n")
    assert out.endswith("<!-- /bench:figures -->\n\nmore\n") and "old table" not in out
    assert "| `area.what` | apply | 2 | 1 to 3 | ms | 0.500 ms | <= 10 | PASS |" in out
    assert "| `area.what` apply | <= 10 ms | issue #3 goal: under 10 ms |" in out


def test_update_is_idempotent() -> None:
    record = run([figure((1.0,))])
    once = update(DOC, record, Path("bench/results/b.json"))
    assert update(once, record, Path("bench/results/b.json")) == once


def test_document_without_a_generated_block_is_refused() -> None:
    with pytest.raises(DocumentError, match="found 0"):
        update("# no block\n", run([]), Path("r.json"))


def test_block_source_reads_the_results_path_from_the_marker() -> None:
    assert block_source(DOC).parts[-3:] == ("bench", "results", "old.json")


# -- independent targets -------------------------------------------------------------------------


def test_fewest_round_trips_of_an_apply_are_the_argued_minimum() -> None:
    from bench.defense import fewest_round_trips, fewest_round_trips_again

    # docs/benchmarks.md#system-defense-round-trips: N + 7 + C, re-apply 3 + C
    assert [fewest_round_trips(n, 2) for n in (6, 20, 62)] == [15, 29, 71]
    assert fewest_round_trips(6, 1) == 14
    assert fewest_round_trips_again(2) == 5


def test_the_bench_filter_sets_use_both_filter_classes() -> None:
    from bench.defense import classes_used, filter_set

    assert classes_used(filter_set(6)) == 2 and len(filter_set(20).to_policy().filters) == 20
