"""Checkpoints of a training run, and the config they belong to.

`model_dir/checkpoints/` holds `tf.train.CheckpointManager` checkpoints of both
networks, both optimizers (slots, iterations, learning rate, loss scale) and
the step. `model_dir/config.json` records the run's `ExperimentConfig`; a run
only resumes from checkpoints whose architecture (ModelConfig) matches.

Multi-worker: saving is a collective, so every worker saves. Only the chief
writes into `model_dir/checkpoints/`; the others write to a temporary folder
of their own and delete it at once (the usual TF pattern). Every worker
restores from the chief's folder, so `model_dir` must be on storage all workers
share (one host's disk, GCS, NFS).

Resuming uses the newest checkpoint that reads completely
(`tfcolor.checkpoint_recovery`): damaged newer ones are skipped with a
warning and moved into `checkpoints/unreadable/` by the chief, never deleted
or overwritten; when checkpoints exist but none reads, the run stops before
any step instead of starting from scratch.
"""

import json
import os

from absl import logging
import tensorflow as tf

from tfcolor import checkpoint_recovery
from tfcolor import config as config_lib
from tfcolor import io_utils

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
# ModelConfig fields that do not change the variables a checkpoint holds: the
# VGG weights are stored in the checkpoint, so where they first came from
# does not matter on resume.
_RESUME_IGNORED_FIELDS = ("vgg_weights",)


def _json_round_trip(obj):
  return json.loads(json.dumps(obj))


def architecture_differences(saved_config, config):
  """Lists '--flag: saved X, now Y' for ModelConfig fields that differ.

  Args:
    saved_config: dict loaded from a run's config.json.
    config: the new run's `ExperimentConfig`.
  """
  saved_model = saved_config.get("model", {})
  new_model = _json_round_trip(config_lib.to_dict(config))["model"]
  differences = []
  for name, value in new_model.items():
    if name in _RESUME_IGNORED_FIELDS:
      continue
    if name not in saved_model:
      differences.append(f"--{name}: not in the saved config, now {value}")
    elif saved_model[name] != value:
      differences.append(f"--{name}: saved {saved_model[name]}, now {value}")
  return differences


def check_resumable(model_dir, config):
  """Raises ValueError naming the flags whose architecture differs from the run's."""
  path = os.path.join(model_dir, CONFIG_FILE)
  if not tf.io.gfile.exists(path):
    logging.warning("%s has checkpoints but no %s; resuming without checking the "
                    "architecture", model_dir, CONFIG_FILE)
    return
  with tf.io.gfile.GFile(path) as f:
    saved = json.load(f)
  differences = architecture_differences(saved, config)
  if differences:
    raise ValueError(
        f"--model_dir={model_dir} holds checkpoints of a different architecture "
        f"({path}): " + "; ".join(differences) +
        ". Use a new --model_dir, or the saved flags to resume.")


def write_config(model_dir, config):
  """Writes model_dir/config.json atomically (a crash leaves the old one)."""
  io_utils.atomic_write_json(os.path.join(model_dir, CONFIG_FILE),
                             config_lib.to_dict(config))


class Checkpointer:
  """Saves and restores the training state, the same way on every worker.

  Args:
    model_dir: the run's folder.
    keep: checkpoints kept (older ones are deleted).
    is_chief: whether this worker owns `model_dir/checkpoints`.
    task_name: this worker's name, for its temporary folder.
    **trackables: what to save (networks, optimizers); a `step` variable is
      added here.
  """

  def __init__(self, model_dir, keep, is_chief=True, task_name="chief", **trackables):
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self.checkpoint = tf.train.Checkpoint(step=self.step, **trackables)
    self.directory = os.path.join(model_dir, CHECKPOINT_DIR)
    self._is_chief = is_chief
    self._write_directory = (self.directory if is_chief else
                             os.path.join(model_dir, f".tmp_checkpoints_{task_name}"))
    self._manager = tf.train.CheckpointManager(
        self.checkpoint, self._write_directory, max_to_keep=keep if is_chief else 1)
    self.last_saved_step = None

  def latest(self):
    """Path of the chief's newest checkpoint in its state file, or None."""
    return tf.train.latest_checkpoint(self.directory)

  def has_checkpoints(self):
    """Whether the chief's folder holds any checkpoint files (readable or not)."""
    return bool(checkpoint_recovery.checkpoint_files(self.directory))

  def restore_latest(self):
    """Restores the newest checkpoint that reads completely; returns its step (or 0).

    Raises checkpoint_recovery.NoReadableCheckpointError when checkpoints exist
    but none reads, and ValueError when one reads but does not fit this run's
    networks and optimizers; in both cases nothing was changed on disk.
    """
    path, skipped = checkpoint_recovery.newest_readable(self.directory)
    if path is None:
      return 0
    try:
      self.checkpoint.restore(path).assert_existing_objects_matched()
    except (AssertionError,) + checkpoint_recovery.READ_ERRORS as error:
      raise ValueError(f"checkpoint {path} reads but does not restore into this run's "
                       f"networks and optimizers: {str(error).splitlines()[0]}") from None
    if self._is_chief:
      checkpoint_recovery.set_aside(self.directory, skipped)
    step = int(self.step.numpy())
    self.last_saved_step = step
    logging.info("Restored %s (step %d)", path, step)
    return step

  def save(self, step):
    """Saves the state at `step` (a collective under multi-worker); returns the path.

    A second save at the same step is skipped.
    """
    if step == self.last_saved_step:
      return None
    self.step.assign(step)
    path = self._manager.save(checkpoint_number=step)
    if not self._is_chief:
      tf.io.gfile.rmtree(self._write_directory)
      path = None
    self.last_saved_step = step
    if path:
      logging.info("Saved checkpoint %s", path)
    return path
