r"""Builds sharded TFRecords (image + line art kinds) from a folder of illustrations.

  python -m data_tools.build_tfrecords --input_dir=DIR --output_dir=OUT \
      --extractors=xdog --num_shards=8 [--runner=DataflowRunner --project=... ...]

By default an Apache Beam pipeline (data_tools/beam_build.py) on this machine,
one worker process per core; flags that are not the builder's go to Beam as
pipeline options (Dataflow, Flink, Spark). `--runner=local` runs the builder's
own process pool instead (data_tools/pool_build.py), which resumes a killed
run shard by shard. Both call the per-image steps of image_steps.py and put each
record in the shard shards.shard_for names, in key order, so the build is
deterministic and both write the same files. `OUT/report.json`
(build_report.py) lists counts, every skipped file with its reason, and the
settings. This module holds the CLI and `build_dataset`; details: docs/data.md.
"""

import os

from absl import app, flags, logging

from data_tools import images as images_lib
from data_tools import pool_build
from data_tools import shards as shards_lib
# The public names of the builder, importable from here as before.
from data_tools.build_config import LOCAL_RUNNER, BuildConfig, validate_build_config
from data_tools.build_report import REPORT_NAME
from data_tools.extractors import CONFIGS, create_extractor
from data_tools.extractors import configs as extractor_configs_lib
from data_tools.input_files import (is_excluded, is_image_key, list_images,
                                    read_exclude_keys)
from tfcolor import cli
from tfcolor import flags as flags_lib

__all__ = ["BuildConfig", "LOCAL_RUNNER", "REPORT_NAME", "build_dataset",
           "configs_from_flags", "create_extractor", "define_flags", "is_excluded",
           "is_image_key", "list_images", "read_exclude_keys", "validate_build_config"]


def build_dataset(config, extractor_configs=None, pipeline_args=()):
  """Builds the TFRecord dataset; returns the report (also OUT/report.json).

  Args:
    config: a BuildConfig; `config.runner` picks Beam (default: this machine,
      every core) or the process pool ('local').
    extractor_configs: {kind: config dataclass} for the kinds in
      `config.extractors`; missing kinds use their defaults.
    pipeline_args: Beam pipeline options (e.g. ['--project=p',
      '--temp_location=gs://b/tmp']); unused by the pool.
  """
  validate_build_config(config)
  extractor_configs = {kind: (extractor_configs or {}).get(kind) or CONFIGS[kind]()
                       for kind in config.extractors if kind in CONFIGS}
  # Fail before any work if a kind is unknown or cannot run (e.g. no weights).
  extractors = {kind: create_extractor(kind, extractor_configs.get(kind))
                for kind in config.extractors}
  exclude = read_exclude_keys(config.exclude_keys)
  if images_lib.is_url(config.input_dir):  # Listed by the workers (beam_build.KeyFiles).
    report = _build_with_beam(config, extractor_configs, extractors, None, exclude,
                              pipeline_args)
    if report is None:
      return None
  else:
    files = list_images(config.input_dir)
    if not files:
      raise ValueError(
          f"--input_dir={config.input_dir} holds no PNG, JPEG or WebP files")
    excluded = [key for key, _, _ in files if is_excluded(key, exclude)]
    excluded_set = set(excluded)
    files = [f for f in files if f[0] not in excluded_set]
    build = pool_build.build if config.runner == LOCAL_RUNNER else _build_with_beam
    report = build(config, extractor_configs, extractors, files, excluded,
                   pipeline_args)
  for kind, entry in report["extractors"].items():
    if entry["images"]:
      logging.info("line art %s (%s): %d images this run, %s images/s per process",
                   kind, entry["runs_in"], entry["images"], entry["images_per_second"])
  logging.info("dataset: %d examples (train %d, val %d, test %d), %d files skipped; "
               "report: %s",
               report["num_examples"],
               *(report["splits"].get(s, {}).get("examples", 0)
                 for s in shards_lib.SPLITS),
               len(report["skipped"]), os.path.join(config.output_dir, REPORT_NAME))
  return report


def _build_with_beam(*args):
  """beam_launch.build, imported only here: a --runner=local build never imports Beam."""
  from data_tools import beam_launch  # pylint: disable=import-outside-toplevel
  return beam_launch.build(*args)


# ---------------------------------------------------------------------------
# Command line.


def define_flags(flag_values=flags.FLAGS):
  """The builder's flags and every extractor's (e.g. --xdog_sigma)."""
  flags_lib.define_dataclass_flags(BuildConfig, flag_values)
  extractor_configs_lib.define_flags(flag_values)


def configs_from_flags(flag_values=flags.FLAGS):
  """(BuildConfig, {kind: extractor config}) from parsed flags."""
  config = flags_lib.dataclass_from_flags(BuildConfig, flag_values)
  return config, extractor_configs_lib.configs_from_flags(config.extractors, flag_values)


def parse_flags(argv):
  """absl parses the builder's flags; what is left over is Beam's (argv[1:])."""
  return flags.FLAGS(argv, known_only=True)


def main(argv):
  config, extractor_configs = configs_from_flags()
  pipeline_args = argv[1:]
  try:
    validate_build_config(config)
    if config.runner != LOCAL_RUNNER:
      from data_tools import beam_build  # pylint: disable=import-outside-toplevel
      beam_build.check_options(config, pipeline_args)
    elif pipeline_args:
      raise ValueError(f"--runner=local takes no Beam options: {pipeline_args}")
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  build_dataset(config, extractor_configs, pipeline_args)


if __name__ == "__main__":
  # Flags are defined only when run as a program, so importing the library
  # (tests, other tools) does not claim names in the global FLAGS.
  define_flags()
  flags.adopt_module_key_flags(flags_lib)  # List them in --help.
  cli.run(main, flags_parser=parse_flags)
