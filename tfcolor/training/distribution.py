"""Builds the `tf.distribute` strategy a run asks for, and facts about it.

One code path trains under every strategy: models and optimizers are built in
`strategy.scope()` and the step runs through `strategy.run` (see `loop.py`).
`--strategy=auto` picks MirroredStrategy over all GPUs when there are two or
more, OneDeviceStrategy on the only GPU when there is one (so `--jit_compile`
still works there), and OneDeviceStrategy on the CPU otherwise.
"""

import json
import os

from absl import logging
import tensorflow as tf


def _gpus():
  return tf.config.list_logical_devices("GPU")


def resolve_strategy_name(train_config):
  """The concrete strategy `--strategy=auto` stands for on this machine."""
  name = train_config.strategy
  if name != "auto":
    return name
  return "mirrored" if len(_gpus()) > 1 else "one_device"


def make_strategy(train_config):
  """Returns the `tf.distribute.Strategy` named by `--strategy`.

  Raises:
    ValueError: naming the flag, when the strategy cannot run here
      (multi_worker without TF_CONFIG, jit_compile with auto -> mirrored).
  """
  name = resolve_strategy_name(train_config)
  if train_config.jit_compile and name in ("mirrored", "multi_worker"):
    raise ValueError(f"--jit_compile does not work with MirroredStrategy in TF 2.21 "
                     f"(--strategy={train_config.strategy} chose {name}); drop "
                     "--jit_compile or pick --strategy=one_device")
  if name == "one_device":
    device = "/gpu:0" if _gpus() else "/cpu:0"
    strategy = tf.distribute.OneDeviceStrategy(device)
  elif name == "mirrored":
    strategy = tf.distribute.MirroredStrategy()
  elif name == "multi_worker":
    if not os.environ.get("TF_CONFIG"):
      raise ValueError("--strategy=multi_worker needs the TF_CONFIG environment variable "
                       "(cluster and task of this worker); see docs/training.md")
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
  elif name == "tpu":
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=train_config.tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    strategy = tf.distribute.TPUStrategy(resolver)
  else:
    raise ValueError(f"--strategy: unknown strategy {train_config.strategy!r}")
  logging.info("Strategy %s (--strategy=%s) with %d replica(s): %s",
               type(strategy).__name__, train_config.strategy,
               strategy.num_replicas_in_sync, _devices(strategy))
  return strategy


def _devices(strategy):
  try:
    return list(strategy.extended.worker_devices)
  except (AttributeError, RuntimeError):
    return []


def per_replica_batch_size(strategy, global_batch_size):
  """Splits the global batch evenly; a remainder is an error naming the flag."""
  replicas = strategy.num_replicas_in_sync
  if global_batch_size % replicas:
    raise ValueError(f"--global_batch_size={global_batch_size} does not divide by the "
                     f"{replicas} replicas of the strategy; use a multiple of {replicas}")
  return global_batch_size // replicas


def is_chief(strategy):
  """True on the worker that writes logs, samples and the real checkpoints.

  Single-host strategies have one worker; under MultiWorkerMirroredStrategy
  the chief is task "chief", or worker 0 when the cluster has no chief task.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
    return True
  task_type, task_id = resolver.task_type, resolver.task_id
  if task_type is None:
    return True
  if task_type == "chief":
    return True
  cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
  return task_type == "worker" and task_id == 0 and "chief" not in cluster


def task_name(strategy):
  """'worker_1' style name of this task (for temporary paths and logs)."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
    return "chief"
  return f"{resolver.task_type}_{resolver.task_id}"
