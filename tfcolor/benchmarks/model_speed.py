"""Generator inference speed, batch 1, default widths (a benchmark, not a test).

  python -m tfcolor.benchmarks.model_speed [--sizes=256,512] [--repeats=5]
      [--mid_block=csa] [--mixed_precision=none|mixed_bfloat16] [--json_out=speed.json]

Prints, for each size: median seconds per image, the forward GFLOPs (VGG hint
encoder included), the achieved GFLOP/s and, for scale, the float32 matmul
peak GFLOP/s measured right after each timing in the same process.
`--mixed_precision` builds the generator under that Keras policy (the VGG hint
encoder and the head stay float32, as in training). VGG
weights are random (nothing is downloaded); speed does not depend on them.
"""

import dataclasses
import os

from absl import app, flags, logging
import keras
import tensorflow as tf

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor import flops as flops_lib
from tfcolor import io_utils
from tfcolor.benchmarks import common
from tfcolor.models import factory

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class ModelSpeedSettings:
  """This benchmark's settings (each field is also its flag)."""

  sizes: tuple[int, ...] = config_lib.field((256, 512), "Square input sides (multiples of 16).")
  repeats: int = config_lib.field(5, "Timed calls per size (after 1 warm-up).")
  mid_block: str = config_lib.field("csa", "Generator variant.", config_lib.GENERATORS)
  mixed_precision: str = config_lib.field(
      "none", "Keras dtype policy the generator is built under.",
      config_lib.MIXED_PRECISION_POLICIES)
  json_out: str = config_lib.field("", "Also write the figures here as JSON.")


def define_flags():
  """ModelSpeedSettings' flags; called only when run as a program."""
  tfcolor_flags.define_dataclass_flags(ModelSpeedSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def benchmark_generator(model_config, sizes, repeats=5):
  """Rows of {size, median_s, min_s, gflops, achieved_gflops_per_s, matmul_peak_gflops_per_s}."""
  generator = factory.build_generator(model_config)
  rows = []
  for size in sizes:
    flops = flops_lib.generator_flops(generator, size)
    inputs = {"lineart": tf.random.uniform((1, size, size, 1), -1.0, 1.0),
              "hints": tf.zeros((1, size, size, 4))}
    forward = tf.function(lambda batch: generator(batch, training=False), autograph=False)
    timing = common.time_call(forward, inputs, warmup=1, repeats=repeats)
    # Measured next to each timing: on a shared machine the peak moves too.
    peak = common.matmul_peak_gflops()
    rows.append({"size": size, "median_s": timing.median_s, "min_s": timing.min_s,
                 "gflops": flops / 1e9,
                 "achieved_gflops_per_s": common.gflops_per_second(flops, timing.median_s),
                 "matmul_peak_gflops_per_s": peak})
    logging.info("size %d: %.3f s/image, matmul peak %.1f GFLOP/s",
                 size, timing.median_s, peak)
  return rows


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  sizes = [int(size) for size in FLAGS.sizes]
  try:
    for size in sizes:
      config_lib.check_size("--sizes", size)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  model_config = config_lib.ModelConfig(generator=FLAGS.mid_block, vgg_weights="none")
  if FLAGS.mixed_precision != "none":
    keras.mixed_precision.set_global_policy(FLAGS.mixed_precision)
  rows = benchmark_generator(model_config, sizes, FLAGS.repeats)
  precision = "float32" if FLAGS.mixed_precision == "none" else FLAGS.mixed_precision
  print(f"generator ({FLAGS.mid_block}, default widths), batch 1, {precision}, "
        f"{os.cpu_count()} CPUs visible")
  print(f"{'size':>6} {'s/image':>9} {'GFLOPs':>8} {'GFLOP/s':>8} {'matmul peak':>12} "
        f"{'% peak':>7}")
  for row in rows:
    print(f"{row['size']:>6} {row['median_s']:>9.3f} {row['gflops']:>8.1f} "
          f"{row['achieved_gflops_per_s']:>8.1f} {row['matmul_peak_gflops_per_s']:>12.1f} "
          f"{100 * row['achieved_gflops_per_s'] / row['matmul_peak_gflops_per_s']:>6.0f}%")
  if FLAGS.json_out:
    io_utils.atomic_write_json(FLAGS.json_out, {"generator": FLAGS.mid_block,
                                                "mixed_precision": FLAGS.mixed_precision,
                                                "rows": rows})


if __name__ == "__main__":
  define_flags()
  cli.run(main)
