"""TFRecord files without TensorFlow: framing records and counting them.

The Beam workers write shards through Beam's file systems (local, gs://, s3://)
and never import TensorFlow (seconds per worker process); the format is
TensorFlow's: per record a little-endian uint64 length, the masked CRC-32C of
the length, the data and the masked CRC-32C of the data.
"""

import os
import struct

import google_crc32c

_MASK_DELTA = 0xA282EAD8


def _masked_crc(data):
  crc = google_crc32c.value(data)
  return struct.pack("<I", (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF)


def write_record(f, record):
  """Appends one record (bytes) to the binary file object `f`."""
  length = struct.pack("<Q", len(record))
  f.write(length + _masked_crc(length) + record + _masked_crc(record))


def count_records(f, name):
  """Records in the open TFRecord file `f`, from its length headers (the data is
  seeked over); `name` goes in the error for a truncated file."""
  count = 0
  while True:
    header = f.read(12)  # uint64 length, uint32 masked CRC of the length.
    if not header:
      return count
    if len(header) < 12:
      raise ValueError(f"{name}: truncated TFRecord header after {count} records")
    f.seek(struct.unpack("<Q", header[:8])[0] + 4, os.SEEK_CUR)
    count += 1
