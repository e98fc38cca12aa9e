"""The machine's yardsticks: GFLOP/s of a large matmul and a 3x3 conv, float32 and bfloat16.

  python -m tfcolor.benchmarks.peaks [--matmul_size=2048] [--conv_size=64]
      [--conv_channels=512] [--repeats=5] [--json_out=FILE]

Every other benchmark's speed is read against these, measured in the same
run (`tfcolor.benchmarks.performance`): a generator at 40% of the float32
matmul peak is doing well; one at 5% is losing time outside its convs. The
best of `--repeats` timed calls after warm-up, in TensorFlow (oneDNN on CPU).
"""

import dataclasses
import os

from absl import app, flags

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor import io_utils
from tfcolor.config import field

DTYPES = ("float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class PeakSettings:
  """This benchmark's settings (each field is also its flag)."""

  matmul_size: int = field(2048, "Side of the square matmul (2 n^3 FLOPs).")
  conv_size: int = field(64, "Height and width of the 3x3 conv's batch-1 input.")
  conv_channels: int = field(512, "Input and output channels of the 3x3 conv.")
  repeats: int = field(5, "Timed calls of each (after 2 warm-up calls).")
  json_out: str = field("", "Also write the figures here as JSON.")


def conv_peak_gflops(size, channels, dtype, repeats):
  """Best GFLOP/s of a 'same' 3x3 conv, batch 1, size x size x channels -> channels."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tfcolor.benchmarks import common
  images = tf.random.uniform((1, size, size, channels), dtype=tf.float32)
  kernel = tf.random.uniform((3, 3, channels, channels), dtype=tf.float32)
  images, kernel = tf.cast(images, dtype), tf.cast(kernel, dtype)
  conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, "SAME"))
  timing = common.time_call(conv, images, kernel, warmup=2, repeats=repeats)
  return 2 * 9 * size * size * channels * channels / timing.min_s / 1e9


def measure_peaks(settings):
  """{"matmul_float32": GFLOP/s, "matmul_bfloat16": ..., "conv3x3_float32": ..., ...}."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tfcolor.benchmarks import common
  figures = {}
  for dtype in DTYPES:
    figures[f"matmul_{dtype}"] = common.matmul_peak_gflops(
        settings.matmul_size, tf.as_dtype(dtype), settings.repeats)
    figures[f"conv3x3_{dtype}"] = conv_peak_gflops(
        settings.conv_size, settings.conv_channels, tf.as_dtype(dtype), settings.repeats)
  return figures


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  settings = tfcolor_flags.dataclass_from_flags(PeakSettings)
  figures = measure_peaks(settings)
  load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
  print(f"peak GFLOP/s, TensorFlow, {os.cpu_count()} CPUs, load average {load}")
  for name, value in figures.items():
    print(f"  {name:18s} {value:9.1f}")
  if settings.json_out:
    io_utils.atomic_write_json(settings.json_out, figures)


if __name__ == "__main__":
  tfcolor_flags.define_dataclass_flags(PeakSettings)
  flags.adopt_module_key_flags(tfcolor_flags)
  cli.run(main)
