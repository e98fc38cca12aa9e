"""Reading the TFRecord files of `data_tools`: sizes, damage, parsing, first-record check.

Empty files (0 bytes: no records) are named in a warning and left out; if
every file is empty, a ValueError names the setting and the files. A corrupt
or truncated record ends its file (`read_records`): training keeps the
records before it and prints a warning naming the file and the byte where
reading stopped; evaluation, which must see every record, fails with an error
naming the file.
"""

import concurrent.futures
import sys

from absl import logging
import tensorflow as tf

from tfcolor.data import schema

# Bytes a TFRecord adds to each record: uint64 length and two uint32 CRCs.
_RECORD_FRAMING_BYTES = 16
_MAX_NAMED_FILES = 10  # Files listed by name in one message.


def name_files(files):
  names = ", ".join(files[:_MAX_NAMED_FILES])
  more = len(files) - _MAX_NAMED_FILES
  return names + (f" and {more} more" if more > 0 else "")


def file_sizes(files):
  """Sizes in bytes; stat calls run in parallel (one round trip each on GCS)."""
  if len(files) <= 4:
    return [tf.io.gfile.stat(path).length for path in files]
  with concurrent.futures.ThreadPoolExecutor(min(16, len(files))) as pool:
    return list(pool.map(lambda path: tf.io.gfile.stat(path).length, files))


def non_empty_files(files, setting):
  """(files, sizes) without the empty files, which are named in a warning.

  An uncompressed TFRecord file without records has 0 bytes. Raises ValueError
  naming the flag when every file is empty: a repeated dataset of them would
  never give an element, and an eval split of them would be silently empty.
  """
  sizes = file_sizes(files)
  empty = [path for path, size in zip(files, sizes) if size == 0]
  if len(empty) == len(files):
    raise ValueError(f"{setting}: every file is empty (0 bytes, no records): "
                     f"{name_files(empty)}")
  if empty:
    logging.warning("%s: skipping %d empty file(s) (0 bytes, no records): %s",
                    setting, len(empty), name_files(empty))
  kept = [(path, size) for path, size in zip(files, sizes) if size > 0]
  return [path for path, _ in kept], [size for _, size in kept]


def read_records(path, size, on_damage):
  """The records of one TFRecord file; a damaged record ends the file.

  `ignore_errors` ends the file at the first corrupt or truncated record (or
  read error; TF logs its own reason as a C++ warning). To name the file, the
  bytes read are counted and compared with its size at an end marker (an empty
  record; data_tools never writes one, and one inside a file is dropped and
  reported like damage). "skip" prints a warning (to stderr, in graph: no
  py_function) and keeps the records before the damage; "raise" fails with an
  error naming the file. One `scan` and one `filter` per record, no `cond`:
  each tf.data function call costs about as much as reading a record.

  Args:
    path: scalar string tensor.
    size: scalar int64 tensor, the file size when the dataset was made.
    on_damage: "skip" (training) or "raise" (evaluation).
  """
  records = tf.data.TFRecordDataset(path).ignore_errors(log_warning=True)
  records = records.concatenate(tf.data.Dataset.from_tensors(tf.constant(b"")))

  def check(bytes_read, record):
    record_bytes = tf.cast(tf.strings.length(record), tf.int64)
    damaged = tf.logical_and(tf.equal(record_bytes, 0), tf.not_equal(bytes_read, size))
    if on_damage == "raise":
      report = tf.debugging.Assert(tf.logical_not(damaged), [
          "corrupt or truncated TFRecord file", path, "read up to byte", bytes_read,
          "of", size, "; evaluation needs every record: rebuild the file"])
    else:
      message = tf.strings.join([
          "WARNING tfcolor.data: skipped the rest of ", path, " after byte ",
          tf.strings.as_string(bytes_read), " of ", tf.strings.as_string(size),
          " (a corrupt or truncated record, or a read error); the records before "
          "it are used\n"])
      report = tf.print(tf.where(damaged, message, ""), end="", output_stream=sys.stderr)
    with tf.control_dependencies([report]):
      return bytes_read + record_bytes + _RECORD_FRAMING_BYTES, tf.identity(record)

  records = records.scan(tf.constant(0, tf.int64), check)
  return records.filter(lambda record: tf.strings.length(record) > 0)


def record_files(files, sizes):
  """(path, size) pairs for `read_records`."""
  return tf.data.Dataset.from_tensor_slices(
      (tf.constant(files, tf.string), tf.constant(sizes, tf.int64)))


def parse(serialized, kinds):
  """Record -> key, image bytes, (K,) line art bytes and (K,) presence flags."""
  features = {schema.KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
              schema.IMAGE: tf.io.FixedLenFeature([], tf.string)}
  for kind in kinds:
    features[schema.lineart_feature(kind)] = tf.io.FixedLenFeature(
        [], tf.string, default_value="")
  parsed = tf.io.parse_single_example(serialized, features)
  lineart = tf.stack([parsed[schema.lineart_feature(kind)] for kind in kinds])
  return {"key": parsed[schema.KEY], "image": parsed[schema.IMAGE],
          "lineart": lineart, "present": tf.strings.length(lineart) > 0}


def has_lineart(parsed):
  return tf.reduce_any(parsed["present"])


def drop_reason(kinds, setting):
  return f"no line art of --lineart_kinds={','.join(kinds)} ({setting})"


def check_first_record(files, kinds, setting, skip_unreadable):
  """Fails early when the first readable record has none of the configured kinds.

  Such records are skipped; if a whole dataset lacks them, an infinite training
  dataset would otherwise wait forever. The same holds when no file has a
  readable first record. A file whose first record cannot be read is named in
  a warning (skip_unreadable, training) or a ValueError (evaluation). Skipped
  when not executing eagerly.
  """
  if not tf.executing_eagerly():
    return
  for path in files:
    try:
      serialized = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    except tf.errors.OpError as error:
      if not skip_unreadable:
        raise ValueError(f"{setting}: cannot read the first record of {path}: "
                         f"{error.message}") from None
      logging.warning("%s: cannot read the first record of %s (%s); the file "
                      "gives nothing", setting, path, error.message)
      continue
    if serialized is None:  # Emptied since it was listed.
      continue
    example = tf.train.Example.FromString(serialized.numpy())
    names = set(example.features.feature)
    if not any(schema.lineart_feature(kind) in names for kind in kinds):
      found = sorted(n[len(schema.LINEART_PREFIX):] for n in names
                     if n.startswith(schema.LINEART_PREFIX))
      raise ValueError(
          f"{setting}: the first record of {path} has line art kinds {found} but "
          f"--lineart_kinds={','.join(kinds)}; records without any of those are "
          "skipped, so this dataset would give nothing")
    return
  raise ValueError(f"{setting}: no readable record in any of its {len(files)} "
                   f"files: {name_files(files)}")
