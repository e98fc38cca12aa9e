"""The on-device scripts on a loopback static site in a headless Chromium.

Drives `static/ondevice/*.js` the way a page does, for the browser benchmark
(`tfcolor.benchmarks.browser_tflite`) and the tests: `write_site` lays out a
folder (a harness page exposing the scripts as `window.tfcolor`, LiteRT.js,
the model), `static_server` serves a folder on 127.0.0.1 (with COOP/COEP
headers when `isolated`, so the threaded WebAssembly build runs), `chromium`
launches Debian's Chromium (`tfcolor.benchmarks.chromium`).
"""

import contextlib
import functools
import http.server
import pathlib
import shutil
import threading

from tfcolor.studio import vendor

ONDEVICE_DIR = pathlib.Path(__file__).parent / "static" / "ondevice"
# Cross-origin isolation: lets the page use SharedArrayBuffer (threaded WebAssembly).
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Embedder-Policy": "require-corp"}
MODEL_NAME = "model.tflite"
WASM_URL = f".{vendor.URL_PREFIX}/{vendor.WASM_FOLDER}"

HARNESS_PAGE = f"""<!doctype html>
<meta charset="utf-8"><title>tfcolor on-device harness</title>
<script type="importmap">{vendor.IMPORT_MAP}</script>
<script type="module">
import * as modelIo from './ondevice/model_io.js';
import * as runtime from './ondevice/litert_runtime.js';
window.tfcolor = {{modelIo, runtime}};
</script>
"""


def write_site(root, model_path=None):
  """The harness page, the on-device scripts, LiteRT.js and the model (if any) in `root`."""
  root = pathlib.Path(root)
  root.mkdir(parents=True, exist_ok=True)
  (root / "index.html").write_text(HARNESS_PAGE)
  shutil.copytree(ONDEVICE_DIR, root / "ondevice", dirs_exist_ok=True)
  vendor.copy_to(root / vendor.URL_PREFIX.lstrip("/"))
  if model_path:
    shutil.copyfile(model_path, root / MODEL_NAME)
  return root


class _Handler(http.server.SimpleHTTPRequestHandler):
  """Serves a folder, adds the extra headers, records the request paths."""

  def __init__(self, *args, extra_headers, paths, **kwargs):
    self.extra_headers, self.paths = extra_headers, paths
    super().__init__(*args, **kwargs)

  def end_headers(self):
    for name, value in self.extra_headers.items():
      self.send_header(name, value)
    super().end_headers()

  def do_GET(self):  # pylint: disable=invalid-name
    self.paths.append(self.path)
    super().do_GET()

  def log_message(self, format, *args):  # pylint: disable=redefined-builtin
    del format, args


@contextlib.contextmanager
def static_server(directory, isolated=False):
  """A plain static file server of `directory` on a free 127.0.0.1 port.

  Yields (origin URL, list of the request paths it received).
  """
  paths = []
  handler = functools.partial(_Handler, directory=str(directory), paths=paths,
                              extra_headers=ISOLATION_HEADERS if isolated else {})
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f"http://127.0.0.1:{server.server_address[1]}", paths
  finally:
    server.shutdown()
    server.server_close()
    thread.join()


@contextlib.contextmanager
def chromium():
  """A headless Debian Chromium (playwright's sync API); RuntimeError when it cannot run."""
  # pylint: disable=import-outside-toplevel
  from playwright.sync_api import sync_playwright
  from tfcolor.benchmarks import chromium as chromium_lib
  problem = chromium_lib.missing()
  if problem:
    raise RuntimeError(problem)
  with sync_playwright() as playwright:
    browser = chromium_lib.launch(playwright)
    try:
      yield browser
    finally:
      browser.close()


def open_harness(browser, origin):
  """A new page on the harness; returns (page, list of every URL it requests)."""
  page = browser.new_page()
  requests = []
  page.on("request", lambda request: requests.append(request.url))
  page.goto(origin + "/index.html")
  page.wait_for_function("window.tfcolor !== undefined")
  return page, requests


# Loads the runtime and the model once, colours each case, times `repeats` more calls.
COLORIZE_JS = """async ({wasmUrl, modelUrl, quantization, cases, repeats}) => {
  const info = await tfcolor.runtime.startRuntime(wasmUrl);
  const colorizer = await tfcolor.runtime.loadColorizer(modelUrl, {quantization});
  const results = [], latenciesMs = [];
  for (const {lineart, hints, width, height} of cases) {
    const rgb = await colorizer.colorize(Uint8Array.from(lineart), Uint8Array.from(hints),
                                         width, height);
    results.push(Array.from(rgb));
    for (let i = 0; i < repeats; i++) {
      await colorizer.colorize(Uint8Array.from(lineart), Uint8Array.from(hints), width, height);
      latenciesMs.push(colorizer.lastLatencyMs);
    }
  }
  return {results, latenciesMs, threaded: info.threaded, runtimeLoadMs: info.loadMs,
          isolated: crossOriginIsolated, size: colorizer.size, ioType: colorizer.ioType,
          downloadBytes: colorizer.downloadBytes, compileMs: colorizer.compileMs};
}"""


def colorize_in_page(page, cases, repeats=0, quantization=None):
  """Colours (lineart (H, W) uint8, hints (H, W, 4) uint8) cases in the harness page.

  `quantization`: `TFLiteColorizer.io_spec()["quantization"]` for uint8-I/O models.
  Returns COLORIZE_JS's answer with `results` as uint8 (H, W, 3) arrays.
  """
  import numpy as np  # pylint: disable=import-outside-toplevel
  answer = page.evaluate(COLORIZE_JS, {
      "wasmUrl": WASM_URL, "modelUrl": f"./{MODEL_NAME}", "repeats": repeats,
      "quantization": quantization,
      "cases": [{"lineart": np.asarray(lineart).ravel().tolist(),
                 "hints": np.asarray(hints).ravel().tolist(),
                 "width": lineart.shape[1], "height": lineart.shape[0]}
                for lineart, hints in cases]})
  answer["results"] = [np.array(rgb, np.uint8).reshape(lineart.shape[:2] + (3,))
                       for rgb, (lineart, _) in zip(answer["results"], cases)]
  return answer
