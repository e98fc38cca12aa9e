"""A bounded load test of `python -m tfcolor.studio` on a loopback port.

200 colour requests from 8 concurrent clients: every request is answered
(a picture or 503 busy), none hangs, and the server's memory after the run is
within 10% of its memory after the first request.
"""

import concurrent.futures
import re
import signal
import subprocess
import sys

import httpx
import numpy as np
import psutil
import pytest

import export_testlib
import studio_testlib as lib
from trainer_testlib import REPO_ROOT, python_env

REQUESTS, CLIENTS = 200, 8


@pytest.fixture
def studio_process(tmp_path_factory):
  run = export_testlib.shared_run(tmp_path_factory)
  process = subprocess.Popen(
      [sys.executable, "-m", "tfcolor.studio", f"--model={run.saved_model}", "--port=0"],
      cwd=REPO_ROOT, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      text=True)
  try:
    url = None
    for line in process.stdout:  # Until the URL line (or the process ends).
      match = re.search(r"Open (http://\S+)", line)
      if match:
        url = match.group(1)
        break
    assert url, f"the studio did not start (exit {process.poll()})"
    yield process, url
  finally:
    if process.poll() is None:
      process.send_signal(signal.SIGINT)
      try:
        process.wait(30)
      except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.large
def test_200_requests_from_8_clients_are_all_answered(studio_process):
  process, url = studio_process
  lineart, hints = lib.page(64, 64, seed=5)
  files = lib.files(lineart, hints)
  server = psutil.Process(process.pid)
  with httpx.Client(base_url=url, timeout=120) as client:
    first = client.post("api/colorize", files=files)
    assert first.status_code == 200
    expected = lib.decode(first.content)
  memory_after_first = server.memory_info().rss

  def one_request(_):
    with httpx.Client(base_url=url, timeout=120) as client:
      answer = client.post("api/colorize", files=files)
    if answer.status_code == 200:
      np.testing.assert_array_equal(lib.decode(answer.content), expected)
    else:
      assert answer.json()["detail"].startswith("busy"), answer.text
    return answer.status_code

  with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
    statuses = list(pool.map(one_request, range(REQUESTS), timeout=600))
  assert len(statuses) == REQUESTS
  assert set(statuses) <= {200, 503}, statuses
  assert statuses.count(200) >= REQUESTS // 4, statuses.count(200)
  memory_after_run = server.memory_info().rss
  assert abs(memory_after_run - memory_after_first) <= 0.1 * memory_after_first, (
      memory_after_first, memory_after_run)
  # Ctrl+C stops it cleanly (uvicorn shuts down, then dies of the signal it caught).
  process.send_signal(signal.SIGINT)
  assert process.wait(30) in (0, -signal.SIGINT)
  assert "Traceback" not in process.stdout.read()
