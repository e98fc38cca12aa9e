"""Every `python -m` entry point defines its flags without clashing.

Entry points are found, not listed: every module under tfcolor/ and
data_tools/ with an `if __name__ == "__main__":` block, so CLIs added later
are checked too. One subprocess (TensorFlow loads once) checks two things:

1. each module run as a program (`runpy` as `__main__`, `app.run` replaced by
   a no-op, in a forked child so it sees only its own imports) defines its
   flags, those of its `__main__` block included, without an error;
2. all of them imported into one process, as a test run or a tool that imports
   another does, raise no `DuplicateFlagError` (absl's, or tfcolor.flags' for
   one name defined two ways).
"""

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("tfcolor", "data_tools")
_MAIN_BLOCK = re.compile(r"""^if __name__ == ["']__main__["']\s*:""", re.MULTILINE)

# Run in the subprocess: argv[1:] are the module names; prints one JSON object
# {"as_program": {module: error}, "imported_together": {module: error}}.
_CHECK_SCRIPT = r"""
import importlib, json, os, runpy, sys, traceback

import absl.app
from absl import flags
import keras  # Loaded once before forking, so each child only imports ours.
import numpy
import tensorflow

modules = sys.argv[1:]


def error_text(error):
  return f"{type(error).__name__}: {error}"


def run_as_program(module):
  absl.app.run = lambda main, *args, **kwargs: None
  sys.argv = [module]
  runpy.run_module(module, run_name="__main__", alter_sys=True)


as_program = {}
for module in modules:
  read_end, write_end = os.pipe()
  pid = os.fork()
  if pid == 0:
    os.close(read_end)
    try:
      run_as_program(module)
      message = ""
    except BaseException as error:  # pylint: disable=broad-except
      message = error_text(error) or "failed"
    with os.fdopen(write_end, "w") as out:
      out.write(message)
    os._exit(0)
  os.close(write_end)
  with os.fdopen(read_end) as result:
    message = result.read()
  _, status = os.waitpid(pid, 0)
  if status:
    message = message or f"child exited with status {status}"
  if message:
    as_program[module] = message

imported_together = {}
for module in modules:
  try:
    importlib.import_module(module)
  except Exception as error:  # pylint: disable=broad-except
    imported_together[module] = error_text(error)

print(json.dumps({"as_program": as_program, "imported_together": imported_together}))
"""


def entry_point_modules():
  """Dotted names of the modules with a `__main__` block, sorted."""
  modules = []
  for package in PACKAGES:
    for path in sorted((ROOT / package).rglob("*.py")):
      if _MAIN_BLOCK.search(path.read_text(encoding="utf-8")):
        modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
  return modules


def test_entry_points_are_found():
  modules = entry_point_modules()
  assert {"tfcolor.train", "tfcolor.summary", "data_tools.build_tfrecords"} <= set(modules)
  assert "tfcolor.flags" not in modules  # a library module, not a CLI


def test_every_entry_point_defines_its_flags_without_a_clash():
  modules = entry_point_modules()
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
  env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
  result = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, *modules], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300,
                          check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  problems = [f"{check}: {module}: {error}" for check, errors in report.items()
              for module, error in errors.items()]
  assert not problems, "\n".join(problems)
