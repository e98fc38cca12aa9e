"""`tfcolor.cli.run`: bad input is one line on stderr and exit status 1, not a traceback."""

import os
import subprocess
import sys

from absl import app
import pytest
import tensorflow as tf

import evaluation_testlib
import trainer_testlib as testlib
from tfcolor import cli


def _run(monkeypatch, capsys, error):
  def main(argv):
    del argv
    raise error

  monkeypatch.setattr(sys, "argv", ["tool"])
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main)
  return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("error, line", [
    (app.UsageError("--tflite_size must be a positive multiple of 16, got 30"),
     "error: --tflite_size must be a positive multiple of 16, got 30"),
    (ValueError("checkpoint ckpt-3 does not\nfit"), "error: checkpoint ckpt-3 does not fit"),
    (FileNotFoundError("--model=x: no such .tflite file"),
     "error: --model=x: no such .tflite file"),
    (tf.errors.InvalidArgumentError(
        None, None, "{{node}} assertion failed: [tfcolor.data: too many records dropped: "
        "2 of 11 records so far]\n\t [[{{node Assert/Assert}}]]"),
     "error: tfcolor.data: too many records dropped: 2 of 11 records so far"),
])
def test_bad_input_is_one_line_and_a_pointer_to_help(monkeypatch, capsys, error, line):
  code, lines = _run(monkeypatch, capsys, error)
  assert code == 1
  assert len(lines) == 2, lines  # no module docstring, no traceback
  assert lines[0].endswith(line), lines
  assert "--help" in lines[1]


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
  with pytest.raises(ZeroDivisionError):
    _run(monkeypatch, capsys, ZeroDivisionError("a bug"))


def _assert_one_line_error(process, fragment):
  assert process.returncode == 1, process.stderr[-3000:]
  assert "Traceback" not in process.stderr, process.stderr[-3000:]
  errors = [line for line in process.stderr.splitlines() if ": error: " in line]
  assert len(errors) == 1 and fragment in errors[0], process.stderr[-3000:]
  assert "Exit codes:" not in process.stderr  # the module docstring is not printed


def test_model_dir_that_is_a_file(tmp_path, sample_dataset):
  model_dir = tmp_path / "run"
  model_dir.write_text("not a folder")
  _assert_one_line_error(testlib.run_cli(
      [f"--train_data={sample_dataset.train_files[0]}", f"--model_dir={model_dir}"]),
      f"--model_dir={model_dir} is a file, not a folder")


@pytest.mark.large
def test_architecture_mismatch_on_resume_is_one_line(tmp_path, sample_dataset):
  model_dir = tmp_path / "run"
  evaluation_testlib.make_run(model_dir, sample_dataset.train_files)
  flags = [flag for flag in testlib.TINY_FLAGS if not flag.startswith("--stem_filters")]
  _assert_one_line_error(testlib.run_cli(
      [*flags, "--stem_filters=16", f"--train_data={sample_dataset.train_files[0]}",
       f"--model_dir={model_dir}", "--train_steps=1"], timeout=300),
      "--stem_filters: saved 8, now 16")


@pytest.mark.large
@pytest.mark.parametrize("flag, message", [
    ("--tflite_size=30", "--tflite_size must be a positive multiple of 16 (the "
     "generator downsamples 4 times), got 30"),
    ("--precision=bfloat16", "--precision=bfloat16 applies to the SavedModel: give "
     "--export_dir"),
])
def test_a_flag_error_of_a_tool_is_one_line(tmp_path, flag, message):
  output = (f"--export_dir={tmp_path}/out" if flag.startswith("--tflite_size")
            else f"--tflite={tmp_path}/m.tflite")
  process = subprocess.run(
      [sys.executable, "-m", "tfcolor.export", f"--model_dir={tmp_path}", output, flag],
      cwd=testlib.REPO_ROOT, env=testlib.python_env(), capture_output=True, text=True,
      timeout=300, check=False)
  assert process.returncode == 1, process.stderr[-3000:]
  lines = [line for line in process.stderr.splitlines() if line.strip()]
  assert lines[-2].startswith(f"tfcolor.export: error: {message}"), process.stderr[-3000:]
  assert lines[-1] == "Run python -m tfcolor.export --help for the flags.", lines[-2:]
  assert "TF Serving" not in process.stderr  # the module docstring is not printed
  assert not {"out", "m.tflite"} & set(os.listdir(tmp_path))  # nothing written
