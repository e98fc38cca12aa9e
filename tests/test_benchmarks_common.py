"""Benchmark helpers return sane figures (no speed is asserted)."""

import pytest
import tensorflow as tf

from tfcolor.benchmarks import common


def test_time_call_counts_calls_and_reports_seconds():
  calls = []
  timing = common.time_call(lambda: calls.append(1) or tf.zeros(3), warmup=2, repeats=3)
  assert len(calls) == 5 and timing.repeats == 3
  assert 0 <= timing.min_s <= timing.median_s and timing.mean_s >= timing.min_s
  with pytest.raises(ValueError, match="repeats"):
    common.time_call(lambda: None, repeats=0)


def test_matmul_peak_and_rate():
  assert common.matmul_peak_gflops(size=64, repeats=2) > 0
  assert common.gflops_per_second(4e9, 2.0) == 2.0


def test_peaks_measure_float32_and_bfloat16():
  from tfcolor.benchmarks import peaks  # pylint: disable=import-outside-toplevel
  figures = peaks.measure_peaks(peaks.PeakSettings(matmul_size=64, conv_size=8,
                                                   conv_channels=8, repeats=1))
  assert sorted(figures) == ["conv3x3_bfloat16", "conv3x3_float32", "matmul_bfloat16",
                             "matmul_float32"]
  assert all(value > 0 for value in figures.values())


def test_performance_page_reads_figures_against_the_peaks(tmp_path):
  # pylint: disable=import-outside-toplevel
  from tfcolor.benchmarks import performance, performance_page
  settings = performance.PerformanceSettings(out=str(tmp_path / "p.md"))
  step = lambda figures, error=None: {"seconds": 1.0, "load": 0.5, "command": "python -m x",
                                      "figures": figures, "error": error}
  results = {
      "peaks_start": step({"matmul_float32": 100.0, "matmul_bfloat16": 200.0,
                           "conv3x3_float32": 90.0, "conv3x3_bfloat16": 150.0}),
      "model_speed_float32": step({"rows": [{"size": 256, "median_s": 2.0, "gflops": 100.0,
                                             "achieved_gflops_per_s": 50.0}]}),
      "deployment": step({"size": 512, "results": {
          "saved_model": {"median_s": 2.0, "mb": 1, "export_s": 1, "peak_rss_gb": 2.0},
          "tflite_dynamic_int8": {"median_s": 0.5, "mb": 1, "export_s": 1,
                                  "peak_rss_gb": 2.9, "own_peak_rss_gb": 2.5,
                                  "conversion_peak_rss_gb": 2.9}}}),
      "studio": step(None, "exit 1: boom"),
  }
  page = performance_page.render_page(settings, results, __import__("datetime").datetime(2026, 1, 1))
  assert "| float32 | 256 | 2.000 | 100 | 50 | 50% / 25% | 0.50 |" in page
  # 100 GFLOPs at 256 are 400 at 512: 800 GFLOP/s in 0.5 s.
  assert "| tflite_dynamic_int8 | 0.500 | 4.00 | 800 | 800% / 400% | 1 | 1 | 2.5 / 2.9 |" in page
  assert "| saved_model | 2.000 | 1.00 | 200 | 200% / 100% | 1 | 1 | 2.0 / - |" in page
  assert "- studio: exit 1: boom" in page
  assert "Training step" not in page  # steps that did not run have no section


@pytest.mark.large  # starts a process
def test_performance_step_reports_a_failing_benchmark(tmp_path):
  from tfcolor.benchmarks import performance  # pylint: disable=import-outside-toplevel
  result = performance.run_step("peaks", ["tfcolor.benchmarks.peaks", "--repeats=x"],
                                str(tmp_path))
  assert result["figures"] is None and result["error"].startswith("exit ")
