"""Browser test helpers: Debian's Chromium through playwright, a loopback static server.

Under CI=true a missing browser or a missing `npm ci` fails the test instead of
skipping it (the handbook: a test that needs a part fails when it is missing).
"""

import contextlib
import functools
import http.server
import os
import shutil
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Cross-origin isolation: lets the page use SharedArrayBuffer (threaded WebAssembly).
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Embedder-Policy": "require-corp"}


def missing_part(message):
  """Fails under CI=true, skips elsewhere."""
  if os.environ.get("CI", "").lower() == "true":
    pytest.fail(message)
  pytest.skip(message)


def require_vendor():
  """node_modules/@litertjs (LiteRT.js), or fail/skip naming `npm ci`."""
  from tfcolor.studio import vendor  # pylint: disable=import-outside-toplevel
  try:
    return vendor.vendor_dir()
  except vendor.VendorMissingError as error:
    missing_part(str(error))


@contextlib.contextmanager
def chromium_browser():
  """A headless Debian Chromium driven by playwright (never `playwright install`)."""
  if not shutil.which(CHROMIUM):
    missing_part(f"{CHROMIUM} not found (apt-get install chromium)")
  from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel
  with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
      yield browser
    finally:
      browser.close()


class _Handler(http.server.SimpleHTTPRequestHandler):
  """Serves a folder, adds the server's extra headers, records request paths."""

  def __init__(self, *args, server_state, **kwargs):
    self.server_state = server_state
    super().__init__(*args, **kwargs)

  def end_headers(self):
    for name, value in self.server_state["headers"].items():
      self.send_header(name, value)
    super().end_headers()

  def do_GET(self):  # pylint: disable=invalid-name
    self.server_state["paths"].append(self.path)
    super().do_GET()

  def log_message(self, format, *args):  # pylint: disable=redefined-builtin
    del format, args


@contextlib.contextmanager
def static_server(directory, headers=None):
  """A plain static file server for `directory` on a free 127.0.0.1 port.

  Yields (origin URL, list of the request paths it received).
  """
  state = {"headers": dict(headers or {}), "paths": []}
  handler = functools.partial(_Handler, directory=str(directory), server_state=state)
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f"http://127.0.0.1:{server.server_address[1]}", state["paths"]
  finally:
    server.shutdown()
    server.server_close()
    thread.join()
