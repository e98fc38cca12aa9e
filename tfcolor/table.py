r"""Table 1 of the paper for your runs: evaluates each run, writes one Markdown table.

  python -m tfcolor.table \
      --model_dirs=runs/pix2pixhd,runs/ci2018,runs/no_csa,runs/paper \
      --fid_inception=/models/classify_image_graph_def.pb --output=table1.md

Rows follow the paper (pix2pixHD, Ci et al., Ours w/o module, Ours), chosen by
each run's --generator, with the paper's FID beside ours. A run's existing
report for its latest step and the same settings is reused (--reevaluate
forces a new evaluation). Evaluation flags (--split, --eval_files,
--max_eval_examples, --fid_inception, ...) apply to every run; data flags
(e.g. --train_data, --crop_size) given here override every run's own, as in
tfcolor.evaluate. See docs/evaluation.md.
"""

from absl import app
from absl import flags

from tfcolor import cli
from tfcolor import config as config_lib
from tfcolor import flags as tfcolor_flags
from tfcolor.evaluation import table

FLAGS = flags.FLAGS


def define_flags():
  """TableConfig's, EvalConfig's and DataConfig's flags; only when run as a program."""
  tfcolor_flags.define_dataclass_flags(table.TableConfig)
  tfcolor_flags.define_dataclass_flags(config_lib.EvalConfig)
  tfcolor_flags.define_flags(sections=("data",))
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    table_config = tfcolor_flags.dataclass_from_flags(table.TableConfig)
    eval_config = tfcolor_flags.dataclass_from_flags(config_lib.EvalConfig)
    data_config = tfcolor_flags.dataclass_from_flags(config_lib.DataConfig)
    # Imported after the flag checks: TensorFlow takes seconds to load.
    from tfcolor.evaluation import plan  # pylint: disable=g-import-not-at-top
    given = [name for name in FLAGS if FLAGS[name].present]
    text = table.write_table(table_config, eval_config,
                             plan.pick_data_overrides(data_config, given))
  except (ValueError, FileNotFoundError) as error:
    raise app.UsageError(str(error)) from None
  print(text, end="")


if __name__ == "__main__":
  define_flags()
  cli.run(main)
