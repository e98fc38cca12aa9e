"""Training iteration speed (a benchmark, not a test).

  python -m tfcolor.benchmarks.train_step [--size=256] [--batch_size=2]
      [--repeats=3] [--demo_flagfile=configs/demo.cfg]
      [--mixed_precision=none|mixed_bfloat16] [--json_out=FILE]

Times one full iteration of `ColorizationGAN.train_step` (one D update, one G
update) on random batches, traced, on one device, for
  1. the default (paper) widths at --size, batch --batch_size;
  2. the demo config's networks, crop and global batch.
For each it prints seconds per iteration, the forward GFLOPs of an iteration
(every forward pass it makes: G once, D four times, VGG perceptual twice, the
VGG hint encoder once), the GFLOPs of the whole traced iteration (forward and
backward convolutions and matmuls), the achieved GFLOP/s, and a float32 matmul
peak measured right after in the same process. VGG weights are random
(nothing downloads); speed does not depend on them.
"""

import dataclasses
import os

from absl import app
from absl import flags
import tensorflow as tf

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor import flops as flops_lib
from tfcolor import io_utils
from tfcolor.benchmarks import common
from tfcolor.training import gan_builder

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class TrainStepSettings:
  """This benchmark's settings (each field is also its flag)."""

  size: int = config_lib.field(256, "Crop side for the default-width run.")
  batch_size: int = config_lib.field(2, "Batch of the default-width run.")
  repeats: int = config_lib.field(3, "Timed iterations (after 1 warm-up).")
  demo_flagfile: str = config_lib.field("configs/demo.cfg",
                                        "Flagfile of the second run ('' = skip).")
  mixed_precision: str = config_lib.field(
      "none", "--mixed_precision of both runs (the trainer's flag).",
      config_lib.MIXED_PRECISION_POLICIES)
  json_out: str = config_lib.field("", "Also write the figures here as JSON.")


def define_flags():
  """TrainStepSettings' flags; called only when run as a program."""
  tfcolor_flags.define_dataclass_flags(TrainStepSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def _batch_spec(batch_size, size):
  return {"image": tf.TensorSpec((batch_size, size, size, 3)),
          "lineart": tf.TensorSpec((batch_size, size, size, 1)),
          "hints": tf.TensorSpec((batch_size, size, size, 4))}


def _forward_flops(gan, batch_size, size):
  """FLOPs of the forward passes one iteration makes (see module docstring)."""

  def forwards(batch):
    fake = gan.generator({"lineart": batch["lineart"], "hints": batch["hints"]})
    real_pairs = tf.concat([batch["lineart"], batch["image"]], axis=-1)
    fake_pairs = tf.concat([batch["lineart"], fake], axis=-1)
    outputs = [gan.discriminator(pairs) for pairs in (real_pairs, fake_pairs) * 2]
    return fake, outputs, gan.perceptual(batch["image"]), gan.perceptual(fake)

  return flops_lib.forward_flops(forwards, [_batch_spec(batch_size, size)])


def benchmark_iteration(config, batch_size, size, repeats):
  """Figures of one training iteration of `config`'s networks."""
  gan = gan_builder.build_gan(config, batch_size)
  step = tf.function(gan.train_step, jit_compile=config.train.jit_compile)
  concrete = step.get_concrete_function(_batch_spec(batch_size, size))
  total_flops = (flops_lib.graph_flops(concrete.graph)
                 + flops_lib.graph_flops(concrete.graph, flops_lib.filter_gradient_flops))
  forward_flops = _forward_flops(gan, batch_size, size)
  batch = {"image": tf.random.uniform((batch_size, size, size, 3), -1.0, 1.0),
           "lineart": tf.random.uniform((batch_size, size, size, 1), -1.0, 1.0),
           "hints": tf.zeros((batch_size, size, size, 4))}
  timing = common.time_call(step, batch, warmup=1, repeats=repeats)
  peak = common.matmul_peak_gflops()
  return {"size": size, "batch_size": batch_size, "median_s": timing.median_s,
          "min_s": timing.min_s, "forward_gflops": forward_flops / 1e9,
          "iteration_gflops": total_flops / 1e9,
          "achieved_gflops_per_s": common.gflops_per_second(total_flops, timing.median_s),
          "matmul_peak_gflops_per_s": peak,
          "mixed_precision": config.train.mixed_precision}


def _demo_config(flagfile):
  flag_values = flags.FlagValues()
  tfcolor_flags.define_flags(flag_values=flag_values)
  flag_values(["benchmark", f"--flagfile={flagfile}"])
  return tfcolor_flags.config_from_flags(flag_values=flag_values)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    config_lib.check_size("--size", FLAGS.size)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  runs = []
  paper = config_lib.ExperimentConfig(
      model=config_lib.ModelConfig(vgg_weights="none"),
      train=config_lib.TrainConfig(mixed_precision=FLAGS.mixed_precision))
  runs.append(("default widths", benchmark_iteration(
      paper, FLAGS.batch_size, FLAGS.size, FLAGS.repeats)))
  if FLAGS.demo_flagfile:
    demo = _demo_config(FLAGS.demo_flagfile)
    demo = dataclasses.replace(demo, train=dataclasses.replace(
        demo.train, strategy="one_device", mixed_precision=FLAGS.mixed_precision))
    runs.append((f"demo ({FLAGS.demo_flagfile})", benchmark_iteration(
        demo, demo.train.global_batch_size, demo.data.crop_size, FLAGS.repeats)))
  print(f"training iteration (1 D + 1 G update), one device, --mixed_precision="
        f"{FLAGS.mixed_precision}, "
        f"{os.cpu_count()} CPUs visible")
  print(f"{'model':<26} {'size':>5} {'batch':>5} {'s/iter':>8} {'fwd GFLOPs':>10} "
        f"{'iter GFLOPs':>11} {'GFLOP/s':>8} {'matmul peak':>11} {'% peak':>6}")
  for name, row in runs:
    print(f"{name:<26} {row['size']:>5} {row['batch_size']:>5} {row['median_s']:>8.3f} "
          f"{row['forward_gflops']:>10.1f} {row['iteration_gflops']:>11.1f} "
          f"{row['achieved_gflops_per_s']:>8.1f} {row['matmul_peak_gflops_per_s']:>11.1f} "
          f"{100 * row['achieved_gflops_per_s'] / row['matmul_peak_gflops_per_s']:>5.0f}%")
  if FLAGS.json_out:
    io_utils.atomic_write_json(FLAGS.json_out, {name: row for name, row in runs})


if __name__ == "__main__":
  define_flags()
  cli.run(main)
