"""`ctxlab bench --panels X` measures X alone: its latencies with and without a pin, no core timings."""

from app.bench import run_bench


def test_bench_of_one_panel_reports_its_ticks_with_and_without_a_pin_and_skips_the_core(qapp):
    report = run_bench(["prefix_cache"], ticks=4)
    (panel,) = report["panels"]
    assert panel["panel"] == "prefix_cache" and panel["ticks"] == 4
    assert 0 < panel["latency_ms_p50"] <= panel["latency_ms_p95"] <= panel["latency_ms_max"]
    assert panel["with_pin"]["ticks"] == 4 and panel["with_pin"]["ghosts"]["curves"] > 0
    assert report["core"] is None and report["startup_to_first_paint_s_median"] is None
