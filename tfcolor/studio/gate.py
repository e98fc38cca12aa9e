"""One model call at a time; a few requests wait their turn, the rest hear "busy".

TensorFlow already uses every core for one call, so two at once only slow
each other down, and an unbounded queue would let a stuck client pile up
requests (and memory) until the server dies. A request that finds
`max_waiting` others waiting, or waits longer than `timeout_s`, gets `Busy`
(HTTP 503), which the page shows.
"""

import contextlib
import threading


class Busy(Exception):
  """The model is taken and the waiting line is full (or the wait timed out)."""


class ModelGate:
  """A lock for the model with a bounded line of waiters."""

  def __init__(self, max_waiting, timeout_s):
    self._places = threading.BoundedSemaphore(max_waiting + 1)  # the caller + waiters
    self._model = threading.Lock()
    self._timeout_s = timeout_s

  @contextlib.contextmanager
  def model_turn(self):
    """Holds the model for the `with` body; raises Busy if it cannot get a turn."""
    if not self._places.acquire(blocking=False):
      raise Busy("busy: the model is colouring other pages and the waiting line is "
                 "full; try again in a moment")
    try:
      if not self._model.acquire(timeout=self._timeout_s):
        raise Busy(f"busy: waited {self._timeout_s:g} s for the model; try again")
      try:
        yield
      finally:
        self._model.release()
    finally:
      self._places.release()
