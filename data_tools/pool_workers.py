"""The worker processes of the process-pool builder (--runner=local).

Each worker decodes files and runs the CPU extractors (image_steps.process_file);
the main process gets the results in task order, computed ahead. Workers are
spawned and import this module, never TensorFlow.
"""

import collections
import concurrent.futures
import multiprocessing
import os

from data_tools import image_steps
from data_tools.extractors import create_extractor


class ImageProcessor:
  """One file -> image_steps.process_file's result, with this process's extractors."""

  def __init__(self, config, worker_extractor_configs, keep_rgb):
    self.config = config
    self.extractors = {kind: create_extractor(kind, extractor_config)
                       for kind, extractor_config in worker_extractor_configs.items()}
    self.keep_rgb = keep_rgb

  def __call__(self, key, path):
    return image_steps.process_file(key, path, self.config, self.extractors,
                                    self.keep_rgb)


_worker_processor = None


def _init_worker(config, worker_extractor_configs, keep_rgb):
  global _worker_processor  # pylint: disable=global-statement
  _worker_processor = ImageProcessor(config, worker_extractor_configs, keep_rgb)


def _process_in_worker(task):
  return _worker_processor(*task)


class OrderedResults:
  """ImageProcessor results in task order, computed ahead in worker processes.

  The pool starts (and the first tasks go out) on `__enter__`, so workers are
  busy while the main process imports TensorFlow for the first shard. At most
  `4 * num_workers` results wait in memory.
  """

  def __init__(self, tasks, config, worker_extractor_configs, keep_rgb):
    self._tasks = iter(tasks)
    self._processor_args = (config, worker_extractor_configs, keep_rgb)
    self._num_workers = config.num_workers or os.cpu_count() or 1
    self._executor = None
    self._pending = collections.deque()
    self._processor = None

  def __enter__(self):
    if self._num_workers == 1:
      self._processor = ImageProcessor(*self._processor_args)
      return self
    # "spawn": the main process may already hold TensorFlow's threads, which a
    # forked child must not inherit; spawned workers import only this module.
    self._executor = concurrent.futures.ProcessPoolExecutor(
        self._num_workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=self._processor_args)
    self._fill()
    return self

  def __exit__(self, *exc_info):
    if self._executor is not None:
      self._executor.shutdown(wait=True, cancel_futures=True)

  def _fill(self):
    while len(self._pending) < 4 * self._num_workers:
      task = next(self._tasks, None)
      if task is None:
        return
      self._pending.append((task, self._executor.submit(_process_in_worker, task)))

  def next(self):
    if self._processor is not None:
      return self._processor(*next(self._tasks))
    (key, path), future = self._pending.popleft()
    try:
      result = future.result()
    except concurrent.futures.BrokenExecutor:  # A worker died...
      raise RuntimeError(
          f"a worker process died (out of memory, or a decoder crash) around {path}; "
          f"finished shards are kept. Add {key!r} to --exclude_keys, or run with "
          "--num_workers=1 to find the file, and run again.") from None
    self._fill()
    return result
