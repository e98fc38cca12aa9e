"""The training loop: `train(config)` is the library entry point.

The same loop runs under every strategy (one device, mirrored, multi-worker,
TPU): a `tf.function` takes the next distributed batch and calls
`ColorizationGAN.train_step` through `strategy.run`; the per-replica metrics
are summed over replicas (each is already the replica's share of the
global-batch mean). `model.fit` is not used: it fails under
MultiWorkerMirroredStrategy in Keras 3.15 (DESIGN.md, Known pitfalls).

Per step, on the host: a NaN guard, then every `log_every` steps a log line
and TensorBoard scalars, every `image_every` steps a sample grid, every
`checkpoint_every` steps a checkpoint. SIGTERM/Ctrl+C save and stop (the run
reports `preempted`). At the end: a checkpoint and `model_dir/samples/final.png`.
"""

import dataclasses
import time
from typing import Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from tfcolor import config as config_lib
from tfcolor import data as tfcolor_data
from tfcolor import run_folder
from tfcolor import visualize
from tfcolor.models.generator_inputs import make_colorize_fn
from tfcolor.training import checkpointing
from tfcolor.training import distribution
from tfcolor.training import gan_builder
from tfcolor.training import gan as gan_lib
from tfcolor.training import nan_guard
from tfcolor.training import preemption
from tfcolor.training import preflight
from tfcolor.training import progress


@dataclasses.dataclass
class TrainResult:
  """What a finished (or stopped) run reports."""

  start_step: int
  step: int
  preempted: bool
  final_grid: Optional[str]
  metrics: dict


def _count(variables):
  return int(sum(np.prod(v.shape) for v in variables))


class Trainer:
  """One training run: strategy, GAN, data, checkpoints and summaries.

  Args:
    config: a validated `ExperimentConfig`.
    strategy: a `tf.distribute.Strategy` to use instead of `--strategy`
      (tests use MirroredStrategy over logical CPUs).
    dataset_fn: replaces `tfcolor.data.make_train_dataset`, same signature
      `(data_config, batch_size, seed=..., input_context=...)` -> per-replica
      batches.
  """

  def __init__(self, config, strategy=None, dataset_fn=None):
    preflight.check_runnable(config)
    self.config = config
    train_config = config.train
    self.model_dir = train_config.model_dir
    self.strategy = strategy or distribution.make_strategy(train_config)
    self.per_replica_batch_size = distribution.per_replica_batch_size(
        self.strategy, train_config.global_batch_size)
    self.is_chief = distribution.is_chief(self.strategy)
    self._multi_worker = isinstance(self.strategy,
                                    tf.distribute.MultiWorkerMirroredStrategy)
    self._dataset_fn = dataset_fn or tfcolor_data.make_train_dataset

    keras.utils.set_random_seed(train_config.seed)
    with self.strategy.scope():
      self.gan = gan_builder.build_gan(config, train_config.global_batch_size)
    self.checkpointer = checkpointing.Checkpointer(
        self.model_dir, train_config.keep_checkpoints, is_chief=self.is_chief,
        task_name=distribution.task_name(self.strategy),
        generator=self.gan.generator, discriminator=self.gan.discriminator,
        g_optimizer=self.gan.g_optimizer, d_optimizer=self.gan.d_optimizer)
    logging.info("Generator: %d trainable parameters (VGG19 frozen: %d); "
                 "discriminators: %d; global batch %d = %d replica(s) x %d",
                 _count(self.gan.generator.trainable_variables),
                 _count(self.gan.perceptual.vgg.weights),
                 _count(self.gan.discriminator.trainable_variables),
                 train_config.global_batch_size, self.strategy.num_replicas_in_sync,
                 self.per_replica_batch_size)
    self._step_fn = None
    self._predict_fn = None
    self._sample_batch = None

  def restore(self):
    """Resumes from model_dir's newest readable checkpoint (if any); returns the step.

    Refuses (ValueError naming the flags) when the saved architecture differs.
    Also (re)writes model_dir/config.json on the chief.
    """
    if self.checkpointer.has_checkpoints():
      checkpointing.check_resumable(self.model_dir, self.config)
    step = self.checkpointer.restore_latest()
    if self.is_chief:
      run_folder.write_config(self.model_dir, self.config)
    return step

  def _make_distributed_dataset(self, seed):
    global_batch = self.config.train.global_batch_size

    def dataset_fn(input_context):
      batch_size = input_context.get_per_replica_batch_size(global_batch)
      # The pipeline sets its own tf.data options (autotuning off: see
      # tfcolor.data.input_pipeline._train_options).
      return self._dataset_fn(self.config.data, batch_size, seed=seed,
                              input_context=input_context)

    return self.strategy.distribute_datasets_from_function(dataset_fn)

  def _make_step_fn(self):
    """tf.function: next batch -> train_step on every replica -> summed metrics."""
    strategy, gan = self.strategy, self.gan

    def replica_step(batch, stop_requested):
      metrics = gan.train_step(batch)
      return tf.stack([metrics[name] for name in gan_lib.metric_names(gan.loss_config)]
                      + [stop_requested])

    if self.config.train.jit_compile:
      replica_step = tf.function(replica_step, jit_compile=True)

    @tf.function
    def step_fn(iterator, stop_requested):
      # The record key (a string, for the sample grids and evaluation) stays
      # out of the step: the step does not read it and XLA cannot take strings.
      batch = {name: value for name, value in next(iterator).items() if name != "key"}
      values = strategy.run(replica_step, args=(batch, stop_requested))
      # One reduction for all metrics (one collective across workers); the
      # summed stop flag tells every worker that one of them was signalled.
      return strategy.reduce(gan_lib.METRIC_REDUCTION, values, axis=None)

    return step_fn

  def sample_batch(self):
    """A fixed batch (fixed hints) from --eval_data, else from --train_data.

    Its hints are always the sparse draw (--hint_geometric_p, no dense draws):
    the handful of points a person gives, whatever mix the run trains on.
    """
    if self._sample_batch is None:
      data_config = dataclasses.replace(self.config.data, eval_mode="center_crop",
                                        hint_dense_fraction=0.0)
      files = data_config.eval_data or data_config.train_data
      dataset = tfcolor_data.make_eval_dataset(
          data_config, self.config.train.num_samples, files=files)
      self._sample_batch = next(iter(dataset.take(1)))
    return self._sample_batch

  def colorize(self, batch):
    """Generator output (B, H, W, 3) float32 numpy for a batch dict."""
    if self._predict_fn is None:
      self._predict_fn = make_colorize_fn(self.gan.generator)
    return self._predict_fn(batch["lineart"], batch["hints"]).numpy()

  def write_samples(self, step, summaries=None, final=False):
    """Writes the sample grid PNG (and a TensorBoard image); returns its path."""
    if not self.is_chief:
      return None
    batch = self.sample_batch()
    grid = visualize.sample_grid(batch["lineart"].numpy(), batch["hints"].numpy(),
                                 self.colorize(batch), batch["image"].numpy())
    path = run_folder.sample_path(self.model_dir, None if final else step)
    visualize.save_png(path, grid)
    if summaries is not None:
      summaries.image(step, "samples", grid)
    return path

  def run(self):
    """Trains from the latest checkpoint to --train_steps; returns a TrainResult."""
    train_config = self.config.train
    total_steps = train_config.train_steps
    with preemption.StopRequest() as stop_request:
      start_step = self.restore()
      summaries = progress.Summaries(self.model_dir, enabled=self.is_chief)
      try:
        step, preempted, metrics = self._train_steps(
            start_step, total_steps, stop_request, summaries)
        if not preempted and step >= total_steps:
          # Only a finished run writes the final grid: a stop is a pause.
          self.checkpointer.save(step)
          final_grid = self.write_samples(step, summaries, final=True)
          if final_grid:
            logging.info("Training finished at step %d. Final samples (line art | "
                         "hints | output | ground truth): %s", step, final_grid)
        else:
          final_grid = None
      finally:
        summaries.close()
    return TrainResult(start_step=start_step, step=step, preempted=preempted,
                       final_grid=final_grid, metrics=metrics)

  def _train_steps(self, start_step, total_steps, stop_request, summaries):
    train_config = self.config.train
    step, metrics = start_step, {}
    if step >= total_steps:
      logging.info("Already at step %d of --train_steps=%d; nothing to train",
                   step, total_steps)
      return step, False, metrics
    logging.info("Training steps %d..%d (model_dir %s)", start_step + 1, total_steps,
                 self.model_dir)
    if start_step == 0:
      self.write_samples(0, summaries)
    # A resumed run draws a fresh data order instead of replaying the first batches.
    iterator = iter(self._make_distributed_dataset(train_config.seed + start_step))
    step_fn = self._step_fn = self._step_fn or self._make_step_fn()
    averager = progress.MetricAverager()
    interval_start, interval_steps = time.perf_counter(), 0
    first_step_seconds = 0.0
    while step < total_steps:
      values = step_fn(iterator, tf.constant(float(stop_request.requested))).numpy()
      step += 1
      interval_steps += 1
      metrics = dict(zip(gan_lib.metric_names(self.config.loss), values[:-1].tolist()))
      if not np.all(np.isfinite(values)):
        nan_guard.check_finite(step, metrics, self.checkpointer.latest())
      averager.add(metrics)
      # Multi-worker: stop only when all workers know (the summed flag), so
      # the collective save happens at the same step everywhere.
      stop_now = values[-1] > 0 or (stop_request.requested and not self._multi_worker)

      if step == start_step + 1:
        # The first call traces and compiles: keep it out of the speed figures.
        first_step_seconds = time.perf_counter() - interval_start
        logging.info("First step took %.1f s (tracing included)", first_step_seconds)
        interval_start, interval_steps = time.perf_counter(), 0
      if step % train_config.log_every == 0 or step == total_steps or stop_now:
        elapsed = time.perf_counter() - interval_start
        steps_per_second = (interval_steps / max(elapsed, 1e-9) if interval_steps
                            else 1.0 / max(first_step_seconds, 1e-9))
        images_per_second = steps_per_second * train_config.global_batch_size
        averages = averager.result_and_reset()
        logging.info(progress.format_log_line(
            step, total_steps, averages, images_per_second,
            (total_steps - step) / steps_per_second))
        summaries.scalars(step, {n: averages[n] for n in gan_lib.loss_terms(self.config.loss)},
                          prefix="losses/")
        summaries.scalars(step, {n: averages[n] for n in gan_lib.SCORE_TERMS},
                          prefix="scores/")
        # The rate the next step uses (it follows --lr_decay_fraction's schedule).
        learning_rate = float(keras.ops.convert_to_numpy(self.gan.g_optimizer.learning_rate))
        summaries.scalars(step, {"images_per_second": images_per_second,
                                 "learning_rate": learning_rate})
        interval_start, interval_steps = time.perf_counter(), 0
      if step % train_config.image_every == 0:
        path = self.write_samples(step, summaries)
        if path:
          logging.info("Wrote samples %s", path)
      if stop_now:
        self.checkpointer.save(step)
        logging.warning("Stopped by %s at step %d after saving a checkpoint; run the "
                        "same command again to resume",
                        stop_request.signal_name or "another worker", step)
        summaries.flush()
        return step, True, metrics
      if step % train_config.checkpoint_every == 0:
        self.checkpointer.save(step)
        summaries.flush()
    return step, False, metrics


def train(config, strategy=None, dataset_fn=None):
  """Trains the model `config` describes; the library entry point.

  Resumes from the latest checkpoint in --model_dir. Returns a `TrainResult`
  (`preempted` is True when SIGTERM/Ctrl+C stopped it after saving).
  Raises ValueError naming the flag for unusable settings, and
  NonFiniteLossError (without saving) when a loss becomes NaN or infinite.
  """
  logging.info("Config: %s", config_lib.to_dict(config))
  return Trainer(config, strategy=strategy, dataset_fn=dataset_fn).run()
