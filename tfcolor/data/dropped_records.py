"""Records the input pipeline drops are counted, reported, and bounded.

A record without any of `--lineart_kinds` cannot become an example and is
dropped. Dropping silently hid datasets built with another kind, so every
record read passes `counted_filter`: a running (seen, dropped) count in the
graph (one `scan`), a warning on stderr naming the count and the reason at
the 1st, 2nd, 4th, 8th... drop, and an error as soon as more than
`--max_dropped_fraction` of the records seen are dropped. The share is taken
over at least `MIN_RECORDS` records, so one bad record at the start of a big
dataset does not stop it. Counts are per iterator and input pipeline (each
worker's pipeline, each new iteration counts from 0). Evaluation also counts them up front
(`count_dropped`) to report the number and fail before building a model.
"""

import sys

import tensorflow as tf

MIN_RECORDS = 100
ERROR_PREFIX = "tfcolor.data: too many records dropped"


def too_many(seen, dropped, max_fraction):
  """Whether `dropped` of `seen` records exceeds the allowed share (tensors or ints)."""
  seen = tf.cast(tf.maximum(tf.cast(seen, tf.int64), MIN_RECORDS), tf.float64)
  return tf.cast(dropped, tf.float64) > max_fraction * seen


def counted_filter(dataset, keep_fn, max_fraction, reason):
  """`dataset.filter(keep_fn)` that counts, reports and bounds what it drops.

  Args:
    dataset: elements of one or more components (passed to keep_fn unpacked).
    keep_fn: element -> scalar bool tensor.
    max_fraction: the allowed share of dropped records (see `too_many`).
    reason: why a record is dropped, for the messages (names the flag).
  """

  # Decided from the spec, not per call: keep_fn takes a tuple element unpacked.
  is_tuple = isinstance(dataset.element_spec, tuple)

  def count(state, element):
    seen, dropped = state
    keep = keep_fn(*element) if is_tuple else keep_fn(element)
    seen += 1
    dropped += tf.cast(tf.logical_not(keep), tf.int64)
    progress = tf.strings.join([tf.strings.as_string(dropped), " of ",
                                tf.strings.as_string(seen), " records so far: ", reason])
    first_drops = tf.logical_and(tf.logical_not(keep), tf.equal(
        tf.bitwise.bitwise_and(dropped, dropped - 1), 0))  # 1, 2, 4, 8, ...
    report = tf.print(tf.where(first_drops, tf.strings.join(
        ["WARNING tfcolor.data: dropped ", progress, "\n"]), ""),
                      end="", output_stream=sys.stderr)
    check = tf.debugging.Assert(
        tf.logical_not(too_many(seen, dropped, max_fraction)),
        [tf.strings.join([ERROR_PREFIX, ": ", progress, " (more than "
                          f"--max_dropped_fraction={max_fraction:g} of them)"])])
    with tf.control_dependencies([report, check]):
      keep = tf.identity(keep)
    return (seen, dropped), (element, keep)

  zero = tf.constant(0, tf.int64)
  counted = dataset.scan((zero, zero), count)
  kept = counted.filter(lambda element, keep: keep)
  return kept.map(lambda element, keep: element)


def count_dropped(dataset, keep_fn):
  """(records, dropped records) of a finite dataset, as Python ints."""
  zero = tf.constant(0, tf.int64)
  seen, dropped = dataset.reduce(
      (zero, zero), lambda state, *element: (
          state[0] + 1, state[1] + tf.cast(tf.logical_not(keep_fn(*element)), tf.int64)))
  return int(seen), int(dropped)
