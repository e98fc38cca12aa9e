"""Checkpoints: resume with identical state, architecture check, SIGTERM, NaN guard.

The loop's tf.functions run eagerly here (same code; tracing costs ~20 s a
run). The traced path with real processes is in test_train_cli.py.
"""

import hashlib
import json
import os
import re
import shutil
import signal

import numpy as np
import pytest
import tensorflow as tf

import trainer_testlib as testlib
from tfcolor import checkpoint_recovery
from tfcolor.serving import model_loading
from tfcolor import run_folder
from tfcolor.training import checkpointing
from tfcolor.training import loop
from tfcolor.training import nan_guard
from tfcolor.training import preemption

# tf.data functions stay traced under run_functions_eagerly; TF warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Even though the")


@pytest.fixture(autouse=True)
def eager_functions():
  tf.config.run_functions_eagerly(True)
  yield
  tf.config.run_functions_eagerly(False)


def _random_batches(data_config, batch_size, seed=0, input_context=None):
  """Stand-in for the input pipeline: cheap random batches (no decoding)."""
  del input_context
  size = data_config.crop_size

  def make(index):
    seeds = tf.stack([tf.cast(seed, tf.int64), index])
    image = tf.random.stateless_uniform((batch_size, size, size, 3), seeds, -1, 1)
    mask = tf.cast(tf.random.stateless_uniform((batch_size, size, size, 1), seeds + 1)
                   < 0.05, tf.float32)
    return {"key": tf.fill([batch_size], "x"), "image": image,
            "lineart": tf.reduce_mean(image, axis=-1, keepdims=True),
            "hints": tf.concat([image * mask, mask], axis=-1)}

  return tf.data.Dataset.range(1 << 30).map(make)


def _checkpoint_steps(model_dir):
  state = tf.train.get_checkpoint_state(os.path.join(model_dir, "checkpoints"))
  if state is None:
    return []
  return sorted(int(path.rsplit("-", 1)[1]) for path in state.all_model_checkpoint_paths)


@pytest.mark.large
def test_resume_restores_identical_state_and_continues(tmp_path, sample_dataset):
  config = testlib.tiny_config(tmp_path, sample_dataset.train_files, train_steps=3,
                               checkpoint_every=2)
  first = loop.Trainer(config, dataset_fn=_random_batches)
  result = first.run()
  assert (result.start_step, result.step, result.preempted) == (0, 3, False)
  assert _checkpoint_steps(tmp_path) == [2, 3]
  assert os.path.exists(os.path.join(tmp_path, "samples", "final.png"))
  saved_model = testlib.model_variables(first.gan)
  saved_optimizers = testlib.optimizer_variables(first.gan)
  assert int(first.gan.g_optimizer.iterations) == 3

  longer = testlib.replace_train(config, train_steps=5)
  second = loop.Trainer(longer, dataset_fn=_random_batches)
  assert second.restore() == 3
  restored_optimizers = testlib.optimizer_variables(second.gan)
  assert restored_optimizers.keys() == saved_optimizers.keys()
  for name, value in saved_optimizers.items():  # Slots, iterations, learning rate.
    np.testing.assert_array_equal(restored_optimizers[name], value, err_msg=name)
  for name, value in saved_model.items():
    np.testing.assert_array_equal(testlib.model_variables(second.gan)[name], value,
                                  err_msg=name)

  result = second.run()
  assert (result.start_step, result.step) == (3, 5)
  assert int(second.gan.g_optimizer.iterations) == 5
  assert int(second.gan.d_optimizer.iterations) == 5
  assert _checkpoint_steps(tmp_path) == [2, 3, 4, 5]
  with open(os.path.join(tmp_path, "config.json")) as f:
    assert json.load(f)["train"]["train_steps"] == 5


def test_resume_refuses_a_different_architecture(tmp_path, sample_dataset):
  config = testlib.tiny_config(tmp_path, sample_dataset.train_files)
  run_folder.write_config(tmp_path, config)
  wider = config.model.__class__(**{**config.model.__dict__, "stem_filters": 16,
                                    "generator": "resnet",
                                    "vgg_weights": "/elsewhere/vgg19.h5"})
  changed = config.__class__(data=config.data, model=wider, loss=config.loss,
                             train=config.train)
  with open(os.path.join(tmp_path, "config.json")) as f:
    differences = checkpointing.architecture_differences(json.load(f), changed)
  # vgg_weights is not compared: the VGG weights are inside the checkpoint.
  assert differences == ["--generator: saved csa, now resnet",
                         "--stem_filters: saved 8, now 16"]
  with pytest.raises(ValueError, match=r"--generator: saved csa.*--stem_filters"):
    checkpointing.check_resumable(tmp_path, changed)
  checkpointing.check_resumable(tmp_path, config)  # Same architecture: fine.


@pytest.mark.large
def test_sigterm_saves_a_checkpoint_and_stops(tmp_path, sample_dataset):
  config = testlib.tiny_config(tmp_path, sample_dataset.train_files, train_steps=100)
  trainer = loop.Trainer(config, dataset_fn=_random_batches)
  step_fn = trainer._make_step_fn()  # pylint: disable=protected-access
  calls = []

  def step_then_signal(iterator, stop_requested):
    values = step_fn(iterator, stop_requested)
    calls.append(1)
    if len(calls) == 2:
      os.kill(os.getpid(), signal.SIGTERM)
    return values

  trainer._step_fn = step_then_signal  # pylint: disable=protected-access
  previous_handler = signal.getsignal(signal.SIGTERM)
  result = trainer.run()
  assert (result.step, result.preempted, result.final_grid) == (2, True, None)
  assert _checkpoint_steps(tmp_path) == [2]
  assert signal.getsignal(signal.SIGTERM) is previous_handler  # Handler restored.


def test_stop_request_catches_sigterm():
  with preemption.StopRequest() as stop_request:
    assert not stop_request.requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop_request.requested
    assert stop_request.signal_name == "SIGTERM"


@pytest.mark.large
def test_non_finite_loss_stops_without_saving_that_step(tmp_path, sample_dataset):
  def nan_at_third_batch(data_config, batch_size, seed=0, input_context=None):
    batches = _random_batches(data_config, batch_size, seed, input_context)

    def poison(index, batch):
      scale = tf.where(index == 2, np.nan, 1.0)
      return {**batch, "image": batch["image"] * scale}

    return batches.enumerate().map(poison)

  config = testlib.tiny_config(tmp_path, sample_dataset.train_files, train_steps=5,
                               checkpoint_every=1)
  trainer = loop.Trainer(config, dataset_fn=nan_at_third_batch)
  with pytest.raises(nan_guard.NonFiniteLossError,
                     match=r"step 3: d_loss=nan.*checkpoint .*ckpt-2 is kept"):
    trainer.run()
  assert _checkpoint_steps(tmp_path) == [1, 2]
  assert not os.path.exists(os.path.join(tmp_path, "samples", "final.png"))


# ---------------------------------------------------------------------------
# Damaged checkpoints: fall back to the newest that reads, never start over,
# never overwrite or delete a checkpoint that could not be read.


def _file_hashes(folder, prefix):
  return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
          for name in os.listdir(folder) if name.startswith(prefix + ".")}


def _drop_index(folder):
  os.remove(os.path.join(folder, "ckpt-2.index"))


def _truncate_data(folder):
  name = next(n for n in os.listdir(folder) if n.startswith("ckpt-2.data"))
  path = os.path.join(folder, name)
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)


@pytest.fixture(scope="module")
def _two_checkpoints_run(tmp_path_factory, sample_dataset):
  model_dir = tmp_path_factory.mktemp("two_checkpoints")
  config = testlib.tiny_config(model_dir, sample_dataset.train_files, train_steps=1,
                               checkpoint_every=1, keep_checkpoints=5)
  tf.config.run_functions_eagerly(True)
  first = loop.Trainer(config, dataset_fn=_random_batches)
  first.run()
  step_1 = testlib.model_variables(first.gan)
  first.config = testlib.replace_train(config, train_steps=2)
  first.run()
  assert _checkpoint_steps(model_dir) == [1, 2]
  return model_dir, config, step_1


@pytest.fixture
def two_checkpoints(_two_checkpoints_run, tmp_path):
  """A copy in tmp_path of a run with ckpt-1 and ckpt-2; (config, variables at step 1)."""
  model_dir, config, step_1 = _two_checkpoints_run
  shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
  return testlib.replace_train(config, model_dir=str(tmp_path)), step_1


@pytest.mark.parametrize("damage, reason", [(_drop_index, r"ckpt-2\.index is missing"),
                                            (_truncate_data, "truncated")])
@pytest.mark.large
def test_a_damaged_newest_checkpoint_falls_back_to_the_older_one(two_checkpoints, tmp_path,
                                                                 damage, reason, caplog):
  config, step_1 = two_checkpoints
  folder = os.path.join(tmp_path, "checkpoints")
  damage(folder)
  older, damaged = _file_hashes(folder, "ckpt-1"), _file_hashes(folder, "ckpt-2")
  trainer = loop.Trainer(testlib.replace_train(config, train_steps=3),
                         dataset_fn=_random_batches)
  assert trainer.restore() == 1
  for name, value in step_1.items():
    np.testing.assert_array_equal(testlib.model_variables(trainer.gan)[name], value,
                                  err_msg=name)
  warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
  assert re.search(r"Skipped checkpoint ckpt-2 \(.*\): .*" + reason, warnings), warnings
  # The damaged files are kept, byte for byte, out of the way of the next save.
  assert _file_hashes(os.path.join(folder, "unreadable"), "ckpt-2") == damaged
  result = trainer.run()
  assert (result.start_step, result.step) == (1, 3)
  assert _file_hashes(folder, "ckpt-1") == older
  assert _file_hashes(os.path.join(folder, "unreadable"), "ckpt-2") == damaged


@pytest.mark.large
def test_a_lost_state_file_resumes_from_the_newest_checkpoint(two_checkpoints, tmp_path):
  config, _ = two_checkpoints
  folder = os.path.join(tmp_path, "checkpoints")
  os.remove(os.path.join(folder, "checkpoint"))
  older = _file_hashes(folder, "ckpt-1")
  result = loop.Trainer(testlib.replace_train(config, train_steps=3),
                        dataset_fn=_random_batches).run()
  assert (result.start_step, result.step) == (2, 3)
  assert _file_hashes(folder, "ckpt-1") == older


@pytest.mark.large  # the two_checkpoints run trains two steps (86 s under load)
def test_no_readable_checkpoint_stops_before_any_step(two_checkpoints, tmp_path):
  config, _ = two_checkpoints
  folder = os.path.join(tmp_path, "checkpoints")
  _drop_index(folder)
  os.remove(os.path.join(folder, "ckpt-1.index"))
  before = sorted(os.listdir(folder))
  trainer = loop.Trainer(testlib.replace_train(config, train_steps=3),
                         dataset_fn=_random_batches)
  with pytest.raises(checkpoint_recovery.NoReadableCheckpointError,
                     match=r"checkpoints holds checkpoint files but none reads.*"
                     r"ckpt-2 \(ckpt-2\.data.*ckpt-1 \(ckpt-1\.data"):
    trainer.run()
  assert sorted(os.listdir(folder)) == before
  assert int(trainer.gan.g_optimizer.iterations) == 0  # restored nothing, trained nothing


@pytest.mark.large  # the two_checkpoints run trains two steps (86 s under load)
def test_export_and_evaluate_use_the_same_fallback(two_checkpoints, tmp_path):
  config, _ = two_checkpoints
  folder = os.path.join(tmp_path, "checkpoints")
  _truncate_data(folder)
  before = _file_hashes(folder, "ckpt-2")
  assert run_folder.resolve_checkpoint(str(tmp_path)).endswith("ckpt-1")
  assert model_loading.load_generator(str(tmp_path)).step == 1
  with pytest.raises(ValueError, match=r"--checkpoint=.*ckpt-2: .*truncated"):
    model_loading.load_generator(str(tmp_path), os.path.join(folder, "ckpt-2"))
  assert _file_hashes(folder, "ckpt-2") == before  # readers never move files
  del config
