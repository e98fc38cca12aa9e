"""Atomic writes: no temporary files left behind, permissions as a plain open()."""

import os

import pytest

from tfcolor import io_utils


def test_atomic_write_respects_the_umask(tmp_path):
  old = os.umask(0o022)
  try:
    path = tmp_path / "report.json"
    io_utils.atomic_write_json(str(path), {"a": 1})
  finally:
    os.umask(old)
  assert oct(path.stat().st_mode & 0o777) == oct(0o644)
  assert path.read_text() == '{\n  "a": 1\n}\n'


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
  path = tmp_path / "data.bin"
  io_utils.atomic_write_bytes(str(path), b"old")

  class Boom:  # Not bytes: the write fails after the temporary file exists.
    pass

  with pytest.raises(TypeError):
    io_utils.atomic_write_bytes(str(path), Boom())
  assert path.read_bytes() == b"old"
  assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
