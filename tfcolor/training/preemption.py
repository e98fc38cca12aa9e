"""Turns SIGTERM (preemption) and Ctrl+C into a request to save and stop.

The signal only sets a flag; the training loop checks it after every step,
saves a checkpoint and returns, so the next run resumes where this one stopped.
A second Ctrl+C stops at once (KeyboardInterrupt) for the impatient.
"""

import signal
import threading

from absl import logging

# Exit code of `python -m tfcolor.train` after a SIGTERM/Ctrl+C stop: the
# checkpoint is saved, the run is not finished; rerun the same command to
# resume. 42 is TensorFlow's own restart code for preempted jobs.
PREEMPTED_EXIT_CODE = 42


class StopRequest:
  """Context manager: while active, SIGTERM/SIGINT set `requested` instead of killing.

  Signal handlers can only be installed from the main thread; elsewhere it
  does nothing and `requested` stays False.
  """

  def __init__(self, signals=(signal.SIGTERM, signal.SIGINT)):
    self._signals = signals
    self._previous = {}
    self.requested = False
    self.signal_name = None

  def _handle(self, signum, frame):
    del frame
    if self.requested and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.requested = True
    self.signal_name = signal.Signals(signum).name
    logging.warning("Received %s: saving a checkpoint after this step, then stopping",
                    self.signal_name)

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in self._signals:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous.clear()
    return False
