"""Timing helpers shared by the benchmarks (figures are printed, never asserted).

`time_call` times a function after warm-up (the first calls trace and
allocate); `matmul_peak_gflops` measures what this machine's TensorFlow reaches
on a large float32 matmul in the same process, the yardstick for a model's
achieved GFLOP/s.
"""

import dataclasses
import statistics
import time

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Timing:
  """Seconds per call over the timed repeats."""

  median_s: float
  min_s: float
  mean_s: float
  repeats: int

  def as_dict(self):
    return dataclasses.asdict(self)


def _block(result):
  """Waits for the device: fetch one element of every output tensor."""
  for value in tf.nest.flatten(result):
    if isinstance(value, (tf.Tensor, tf.Variable)):
      np.asarray(tf.reshape(value, [-1])[:1])


def time_call(fn, *args, warmup=1, repeats=5, **kwargs):
  """Runs `fn(*args, **kwargs)` `warmup` times untimed, then `repeats` times timed."""
  if repeats < 1:
    raise ValueError(f"time_call: repeats must be >= 1, got {repeats}")
  for _ in range(warmup):
    _block(fn(*args, **kwargs))
  seconds = []
  for _ in range(repeats):
    start = time.perf_counter()
    _block(fn(*args, **kwargs))
    seconds.append(time.perf_counter() - start)
  return Timing(median_s=statistics.median(seconds), min_s=min(seconds),
                mean_s=statistics.fmean(seconds), repeats=repeats)


def matmul_peak_gflops(size=2048, dtype=tf.float32, repeats=5):
  """Best GFLOP/s of a size x size x size matmul (2 size^3 FLOPs) in this process."""
  a = tf.random.uniform((size, size), dtype=dtype)
  b = tf.random.uniform((size, size), dtype=dtype)
  matmul = tf.function(tf.linalg.matmul)
  timing = time_call(matmul, a, b, warmup=2, repeats=repeats)
  return 2 * size ** 3 / timing.min_s / 1e9


def gflops_per_second(flops, seconds):
  """Achieved GFLOP/s of a call of `flops` FLOPs that took `seconds`."""
  return flops / seconds / 1e9
