"""`python -m tfcolor.train`: flag errors, and a real process killed and resumed."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import trainer_testlib as testlib
from tfcolor.training import preemption


def _assert_usage_error(process, *fragments):
  assert process.returncode != 0, process.stderr
  for fragment in fragments:
    assert fragment in process.stderr, process.stderr
  assert "Traceback" not in process.stderr, process.stderr


@pytest.mark.large
def test_bad_flags_fail_before_any_work(tmp_path, sample_dataset):
  model_dir = tmp_path / "run"
  data = f"--train_data={sample_dataset.train_files[0]}"
  _assert_usage_error(
      testlib.run_cli([data, f"--model_dir={model_dir}", "--no_such_flag=1"]),
      "no_such_flag")
  _assert_usage_error(
      testlib.run_cli([data, f"--model_dir={model_dir}", "--jit_compile",
                       "--strategy=mirrored"]), "--jit_compile", "--strategy=mirrored")
  _assert_usage_error(
      testlib.run_cli([f"--train_data={tmp_path}/missing-*", f"--model_dir={model_dir}"]),
      "--train_data", "missing-*")
  _assert_usage_error(testlib.run_cli([data]), "--model_dir is required")
  assert not model_dir.exists()


def _wait_for(predicate, process, log_path, timeout=300):
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    if predicate():
      return
    if process.poll() is not None:
      break
    time.sleep(0.5)
  process.kill()
  with open(log_path) as f:
    raise AssertionError(f"condition not met (exit {process.poll()}):\n{f.read()[-3000:]}")


def _checkpoint_steps(model_dir):
  directory = os.path.join(model_dir, "checkpoints")
  if not os.path.isdir(directory):
    return []
  return sorted(int(m.group(1)) for name in os.listdir(directory)
                if (m := re.fullmatch(r"ckpt-(\d+)\.index", name)))


@pytest.mark.large
def test_sigkill_resumes_from_the_last_checkpoint_and_sigterm_saves(tmp_path,
                                                                    sample_dataset):
  model_dir = str(tmp_path / "run")
  flagfile = tmp_path / "tiny.cfg"
  flagfile.write_text("\n".join(testlib.TINY_FLAGS + [
      f"--train_data={','.join(sample_dataset.train_files)}",
      f"--model_dir={model_dir}", "--global_batch_size=2", "--train_steps=100000",
      "--checkpoint_every=2", "--log_every=1", "--image_every=100000"]) + "\n")
  command = [sys.executable, "-m", "tfcolor.train", f"--flagfile={flagfile}"]

  def launch(log_name):
    log_path = tmp_path / log_name
    with open(log_path, "w") as log:
      process = subprocess.Popen(command, cwd=testlib.REPO_ROOT, env=testlib.python_env(),
                                 stdout=log, stderr=subprocess.STDOUT)
    return process, log_path

  # 1. SIGKILL once the first checkpoint exists: nothing can be saved then.
  first, first_log = launch("first.log")
  _wait_for(lambda: _checkpoint_steps(model_dir), first, first_log)
  first.send_signal(signal.SIGKILL)
  first.wait(timeout=30)
  killed_at = _checkpoint_steps(model_dir)[-1]

  # 2. The same command resumes from that checkpoint and goes on; SIGTERM then
  #    saves the step it reached and exits with the documented code.
  second, second_log = launch("second.log")
  _wait_for(lambda: _checkpoint_steps(model_dir)[-1] >= killed_at + 2, second, second_log)
  second.send_signal(signal.SIGTERM)
  assert second.wait(timeout=120) == preemption.PREEMPTED_EXIT_CODE
  log = second_log.read_text()
  assert f"(step {killed_at})" in log and f"Training steps {killed_at + 1}.." in log, log
  stopped = re.search(r"Stopped by SIGTERM at step (\d+)", log)
  assert stopped, log[-3000:]
  assert _checkpoint_steps(model_dir)[-1] == int(stopped.group(1))


def _parse_flagfiles(*names):
  # pylint: disable=import-outside-toplevel
  from absl import flags
  from tfcolor import flags as tfcolor_flags

  flag_values = flags.FlagValues()
  tfcolor_flags.define_flags(flag_values=flag_values)
  flag_values(["test"] + [f"--flagfile=configs/{name}.cfg" for name in names])
  return tfcolor_flags.config_from_flags(flag_values=flag_values)


TABLE1_ROWS = ("pix2pixhd", "ci2018", "no_csa", "csa", "ci2018_same_loss")


@pytest.mark.parametrize("base", ["paper", "demo"])
def test_table1_rows_stack_on_a_base_config_from_the_repo_root(monkeypatch, base):
  monkeypatch.chdir(testlib.REPO_ROOT)  # Nested --flagfile paths resolve from here.
  base_config = _parse_flagfiles(base)
  rows = {row: _parse_flagfiles(base, f"table1/{row}") for row in TABLE1_ROWS}
  if base == "paper":
    assert (base_config.data.crop_size, base_config.train.global_batch_size) == (512, 32)
    assert base_config.data.lineart_probs == (0.1, 0.5, 0.4)
    assert base_config.model.vgg_weights == "imagenet"
  assert {row: config.model.generator for row, config in rows.items()} == {
      "pix2pixhd": "pix2pixhd", "ci2018": "ci2018", "no_csa": "resnet", "csa": "csa",
      "ci2018_same_loss": "ci2018"}
  for row, config in rows.items():
    # The base config's data, widths and schedule survive every row.
    assert config.data == base_config.data, row
    assert config.model.stem_filters == base_config.model.stem_filters, row
    assert config.train.train_steps == base_config.train.train_steps, row
  assert rows["pix2pixhd"].model.num_mid_blocks == 9
  faithful = rows["ci2018"]
  assert (faithful.model.discriminator, faithful.loss.adversarial_loss) == (
      "ci2018_critic", "wgan_gp")
  assert faithful.loss.feature_matching_weight == 0
  assert (faithful.train.learning_rate, faithful.train.beta_2) == (1e-4, 0.9)
  for row in ("csa", "no_csa", "pix2pixhd", "ci2018_same_loss"):  # our objective
    assert rows[row].model.discriminator == "patchgan", row
    assert rows[row].loss.adversarial_loss == "bce", row
    assert rows[row].train.learning_rate == base_config.train.learning_rate, row
