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
