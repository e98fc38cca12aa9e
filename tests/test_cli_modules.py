"""Every `python -m` entry point claims flags only when run as a program.

Entry points are found, not listed: every module under tfcolor/ and
data_tools/ with an `if __name__ == "__main__":` block, so CLIs added later
are checked too. Importing one (as a test or another tool does) must define
no flag; run as a program it defines its own flags without an error, and a few
answer `--help` listing their settings.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("tfcolor", "data_tools")
_MAIN_BLOCK = re.compile(r"""^if __name__ == ["']__main__["']\s*:""", re.MULTILINE)

# Run in the subprocess: argv[1:] are the module names; each runs as
# `__main__` (`runpy`, with `app.run` replaced by a no-op) in a forked child,
# so it sees only its own flags. Prints "module: error" lines for failures.
_RUN_AS_PROGRAM_SCRIPT = r"""
import os, runpy, sys

import absl.app
import keras  # Loaded once before forking, so each child only imports ours.
import numpy
import tensorflow

for module in sys.argv[1:]:
  read_end, write_end = os.pipe()
  pid = os.fork()
  if pid == 0:
    os.close(read_end)
    try:
      absl.app.run = lambda main, *args, **kwargs: None
      sys.argv = [module]
      runpy.run_module(module, run_name="__main__", alter_sys=True)
      message = ""
    except BaseException as error:  # pylint: disable=broad-except
      message = f"{type(error).__name__}: {error}"
    with os.fdopen(write_end, "w") as out:
      out.write(message)
    os._exit(0)
  os.close(write_end)
  with os.fdopen(read_end) as result:
    message = result.read()
  _, status = os.waitpid(pid, 0)
  if status and not message:
    message = f"child exited with status {status}"
  if message:
    print(f"{module}: {message}")
"""


def entry_point_modules():
  """Dotted names of the modules with a `__main__` block, sorted."""
  modules = []
  for package in PACKAGES:
    for path in sorted((ROOT / package).rglob("*.py")):
      if _MAIN_BLOCK.search(path.read_text(encoding="utf-8")):
        modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
  return modules


def _python_env():
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
  env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
  return env


def test_entry_points_are_found():
  modules = entry_point_modules()
  assert {"tfcolor.train", "tfcolor.summary", "data_tools.build_tfrecords"} <= set(modules)
  assert "tfcolor.flags" not in modules  # a library module, not a CLI


# Run in a fresh interpreter (argv[1:]: the module names), so no flag that an
# earlier test defined in this process counts: prints {module: [flag names]}
# for the flags our packages define at import time.
_IMPORT_SCRIPT = r"""
import importlib, json, sys
from absl import flags
for module in sys.argv[2:]:
  importlib.import_module(module)
ours = {module: [flag.name for flag in module_flags]
        for module, module_flags in flags.FLAGS.flags_by_module_dict().items()
        if module.split(".")[0] in sys.argv[1].split(",")}
print(json.dumps(ours))
"""


@pytest.mark.large  # starts a process
def test_importing_an_entry_point_defines_no_flag():
  result = subprocess.run([sys.executable, "-c", _IMPORT_SCRIPT, ",".join(PACKAGES),
                           *entry_point_modules()], cwd=ROOT, env=_python_env(),
                          capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  ours = json.loads(result.stdout.strip().splitlines()[-1])
  assert not ours, f"flags defined at import time: {ours}"


@pytest.mark.large
def test_every_entry_point_defines_its_flags_when_run():
  result = subprocess.run([sys.executable, "-c", _RUN_AS_PROGRAM_SCRIPT,
                           *entry_point_modules()], cwd=ROOT, env=_python_env(),
                          capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert not result.stdout.strip(), result.stdout


@pytest.mark.large
@pytest.mark.parametrize("module, expected_flags", [
    ("tfcolor.train", ["--train_data", "--generator", "--model_dir"]),
    ("tfcolor.export", ["--representative_data", "--representative_examples"]),
    ("tfcolor.preview_data", ["--train_data", "--crop_size", "--output"]),
    ("tfcolor.fid", ["--fid_inception", "--save_stats"]),
    ("tfcolor.benchmarks.deployment", ["--representative_examples", "--stem_filters"]),
    ("data_tools.synthesize", ["--output_dir", "--num_images", "--seed"]),
    ("tfcolor.benchmarks.input_pipeline", ["--parallel_calls", "--image_format"]),
])
def test_help_lists_the_cli_own_flags(module, expected_flags):
  result = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT,
                          env=_python_env(), capture_output=True, text=True,
                          timeout=120, check=False)
  # absl prints the help to stdout and exits with status 1.
  assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
  for flag in expected_flags:
    assert flag in result.stdout, (flag, result.stdout[-3000:])
