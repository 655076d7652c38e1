"""The report reads repetitions as it says: req/s by the median repetition, p99 at half load by
the median of every repetition's own half-load pass."""

from __future__ import annotations

from collections import Counter

from bench import cases, report
from bench.load.loadgen import Summary
from bench.run import Measured, Row, median_run, mock


def _repetition(rate: float, half_load_p99_ms: float) -> Measured:
    """One repetition of the quiet REST row: ``rate`` req/s over 10 s, then its half-load pass."""
    row = Row(report.QUIET_ROW, cases.SUCCESS, mock())
    answered = round(rate * 10)
    saturation = Summary("wrk", 10.0, Counter({200: answered}), 0.005, 0.01, 0)
    paced = Summary(
        "python", 10.0, Counter({200: answered // 2}), 0.001, half_load_p99_ms / 1000, 0
    )
    return Measured(row, saturation=saturation, paced=paced, cpu_per_request=1e-4)


def _half_load_line(results: list[Measured]) -> str:
    lines = [line for line in report.targets(results) if "p99 at half load" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_half_load_p99_is_the_median_of_every_repetition() -> None:
    # The median by req/s (3,000) had a stalled half-load pass; the other two did not.
    shown = median_run([_repetition(2_000, 3.0), _repetition(3_000, 40.0), _repetition(4_000, 2.0)])

    assert shown.saturation is not None
    assert shown.saturation.rate == 3_000
    assert report.half_load_p99(shown) == 0.003
    cells = report._row_cells(shown, None)
    assert "3.0 @ 1,500/s [2.0-40.0]" in cells
    assert _half_load_line([shown]).endswith("| 3.0 ms | < 5 ms | yes |")


def test_two_stalled_passes_of_three_miss_the_goal() -> None:
    shown = median_run([_repetition(2_000, 9.0), _repetition(3_000, 2.0), _repetition(4_000, 7.0)])

    assert report.half_load_p99(shown) == 0.007
    assert _half_load_line([shown]).endswith("| 7.0 ms | < 5 ms | **no** |")


def test_an_even_count_takes_the_upper_median() -> None:
    shown = median_run([_repetition(2_000, 4.0), _repetition(3_000, 6.0)])

    assert report.half_load_p99(shown) == 0.006


def test_one_pass_is_its_own_figure() -> None:
    shown = median_run([_repetition(3_000, 6.5)])

    assert report.half_load_p99(shown) == 0.0065
    assert "[" not in report._row_cells(shown, None)[6]
