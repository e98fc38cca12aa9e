r"""Evaluates a trained run: FID, PSNR, SSIM and hint fidelity on fixed hints.

  python -m tfcolor.evaluate --flagfile=configs/NAME.cfg --model_dir=DIR \
      --split=test --fid_inception=/models/classify_image_graph_def.pb

Writes DIR/eval/<split>/<step>.json and DIR/eval/<split>/<step>.png (line art |
hints | output | ground truth). The architecture is always the run's own
(DIR/config.json): model, loss and train flags in the flagfile are accepted
and ignored, so the run's training flagfile can be passed as is. Data flags
that are given (in the flagfile or on the command line) override the run's
data settings, e.g. `--train_data=GLOB` when the data moved, or
`--eval_mode=full`; flags not given keep the run's. See docs/evaluation.md.
"""

from absl import app
from absl import flags

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags

FLAGS = flags.FLAGS


def define_flags():
  """Every config section's flags and EvalConfig's; only when run as a program.

  All sections: the run's training flagfile holds every section's flags.
  """
  tfcolor_flags.define_flags()
  tfcolor_flags.define_dataclass_flags(config_lib.EvalConfig)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if not FLAGS.model_dir:
    raise app.UsageError("--model_dir is required: the training run to evaluate")
  try:
    eval_config = tfcolor_flags.dataclass_from_flags(config_lib.EvalConfig)
    data_config = tfcolor_flags.dataclass_from_flags(config_lib.DataConfig)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  # Imported after the flag checks: TensorFlow takes seconds to load.
  # pylint: disable=g-import-not-at-top
  from tfcolor.evaluation import evaluator
  from tfcolor.evaluation import plan
  given = [name for name in FLAGS if FLAGS[name].present]
  try:
    report = evaluator.evaluate(FLAGS.model_dir, eval_config,
                                plan.pick_data_overrides(data_config, given))
  except (ValueError, FileNotFoundError) as error:
    raise app.UsageError(str(error)) from None
  print(evaluator.summary_line(report))


if __name__ == "__main__":
  define_flags()
  cli.run(main)
