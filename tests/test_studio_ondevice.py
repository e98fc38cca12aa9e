"""The studio's on-device mode in headless Chromium: a .tflite model colours in the page.

The server (on a loopback port, started on a tiny .tflite) sends the model once;
the page colours with LiteRT.js on open and after a stroke, the server gets no
colouring request, and the colours equal the Python interpreter's within
test_ondevice.MAX_UINT8_DIFFERENCE.
"""

import numpy as np
import pytest
from PIL import Image

import browser_testlib
import export_testlib
import studio_testlib as lib
from test_ondevice import MAX_UINT8_DIFFERENCE
from tfcolor.serving import tflite_runner
from tfcolor.studio import app as app_lib
from tfcolor.studio import backends, server, vendor
from tfcolor.studio.settings import StudioSettings

HEIGHT, WIDTH = 40, 56
STROKE = ((10.0, 12.0), (45.0, 25.0))


@pytest.fixture(scope="module")
def tflite_studio(tmp_path_factory):
  browser_testlib.require_vendor()
  model = export_testlib.shared_run(tmp_path_factory).tflite_path()
  recorder = lib.RecordingBackend(backends.load_backend(model))
  app = app_lib.create_app(recorder, StudioSettings(model=model))
  with server.serve_in_thread(app) as url:
    yield url.rstrip("/"), recorder, model


def _wait_results(page, count):
  page.wait_for_selector(f'body[data-results="{count}"][data-busy="0"]', state="attached",
                         timeout=120_000)


def test_health_and_model_route(tflite_studio):
  import httpx  # pylint: disable=import-outside-toplevel
  url, _, model = tflite_studio
  health = httpx.get(f"{url}/api/health").json()
  facts = health["on_device"]
  assert facts["model_url"] == "api/model.tflite" and facts["runtime_error"] == ""
  assert facts["io_spec"] == {"size": export_testlib.SharedRun.TFLITE_SIZE,
                              "ioType": "float32", "quantization": None}
  answer = httpx.get(f"{url}/api/model.tflite")
  with open(model, "rb") as model_file:
    assert answer.content == model_file.read()
  assert len(answer.content) == facts["model_bytes"]
  assert answer.headers["cross-origin-embedder-policy"] == "require-corp"
  assert "'wasm-unsafe-eval'" in answer.headers["content-security-policy"]
  page = httpx.get(f"{url}/").text
  assert vendor.IMPORT_MAP in page  # the inline script the CSP hash allows
  assert httpx.get(f"{url}/vendor/litertjs/core/dist/index.js").status_code == 200


@pytest.mark.large
def test_colours_on_this_device_without_colouring_requests(chromium, tflite_studio, tmp_path):
  url, recorder, model = tflite_studio
  lineart, _ = lib.page(HEIGHT, WIDTH, seed=5)
  Image.fromarray(lineart).save(tmp_path / "page.png")
  page = chromium.new_page(viewport={"width": 1200, "height": 800})
  requests, problems = [], []
  page.on("request", lambda request: requests.append(request.url))
  page.on("pageerror", lambda error: problems.append(str(error)))
  page.goto(url)
  page.wait_for_selector('body[data-ready="1"]', state="attached", timeout=120_000)
  assert page.get_attribute("body", "data-device") == "ready"
  mode = page.inner_text("#mode")
  assert "on this device" in mode and "threaded" in mode and "single" not in mode, mode
  assert "MB" in mode

  page.set_input_files("#open-lineart", str(tmp_path / "page.png"))
  _wait_results(page, 1)
  hintless = browser_testlib.canvas_pixels(page, "result-canvas")[..., :3]
  page.fill("#colour", "#10c040")
  box = page.locator("#hint-canvas").bounding_box()
  to_page = lambda x, y: (box["x"] + x * box["width"] / WIDTH,  # pylint: disable=unnecessary-lambda-assignment
                          box["y"] + y * box["height"] / HEIGHT)
  page.mouse.move(*to_page(*STROKE[0]))
  page.mouse.down()
  page.mouse.move(*to_page(*STROKE[1]), steps=10)
  page.mouse.up()
  _wait_results(page, 2)
  hints = browser_testlib.canvas_pixels(page, "hint-canvas")
  shown = browser_testlib.canvas_pixels(page, "result-canvas")[..., :3]
  assert (hints[..., 3] > 0).any()
  assert np.abs(shown.astype(int) - hintless).max() > 0
  assert "in-browser" in page.inner_text("#mode")

  colorizer = tflite_runner.TFLiteColorizer(model_path=model)
  expected = colorizer.colorize(lineart, hints)
  difference = int(np.abs(shown.astype(np.int32) - expected).max())
  print(f"studio on-device: max |browser - python| {difference}")
  assert difference <= MAX_UINT8_DIFFERENCE
  assert not recorder.calls  # the server coloured nothing
  assert not [r for r in requests if "/api/colorize" in r]
  assert sum(r.endswith("/api/model.tflite") for r in requests) == 1
  assert all(r.startswith(url + "/") for r in requests), requests
  assert not problems, problems
  page.close()
