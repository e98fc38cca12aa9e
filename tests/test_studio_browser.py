"""The studio page end to end in headless Chromium, against a server on a loopback port.

Opens line art, picks a colour, paints a stroke with the mouse, and checks what
the server received, what the page shows, undo/redo, the hint layer's save and
open round trip, and that the downloaded PNG is the CLI's output. Also that a
page on a server-side model works when LiteRT.js (node_modules) is missing.
"""

import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

import export_testlib
import studio_testlib as lib
from tfcolor.serving import colorize_files
from tfcolor.studio import app as app_lib
from tfcolor.studio import backends, server, vendor
from tfcolor.studio.routes import colorize as colorize_route
from tfcolor.studio.settings import StudioSettings

HEIGHT, WIDTH = 64, 96
COLOUR = (16, 128, 240)
BRUSH = 5
STROKE = ((20.0, 30.0), (70.0, 40.0))  # line art pixels


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
  run = export_testlib.shared_run(tmp_path_factory)
  recorder = lib.RecordingBackend(backends.load_backend(run.saved_model))
  app = app_lib.create_app(recorder, StudioSettings(model=run.saved_model))
  with server.serve_in_thread(app) as url:
    yield url, recorder


def _distance_to_segment(height, width, start, end):
  """Distance of every pixel centre to the segment start-end, (H, W)."""
  rows, cols = np.mgrid[0:height, 0:width] + 0.5
  (x0, y0), (x1, y1) = start, end
  dx, dy = x1 - x0, y1 - y0
  t = np.clip(((cols - x0) * dx + (rows - y0) * dy) / (dx * dx + dy * dy), 0, 1)
  return np.hypot(cols - (x0 + t * dx), rows - (y0 + t * dy))


def _shown_result(page):
  values = page.evaluate("""() => {
      const canvas = document.getElementById("result-canvas");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      return [canvas.width, canvas.height, Array.from(data.data)];
  }""")
  width, height, data = values
  return np.array(data, np.uint8).reshape(height, width, 4)[..., :3]


def _wait_results(page, count):
  # Selectors, not wait_for_function: the page's CSP forbids evaluating strings.
  page.wait_for_selector(f'body[data-results="{count}"][data-busy="0"]', state="attached",
                         timeout=60_000)


def _to_page(box, point):
  x, y = point
  return box["x"] + x * box["width"] / WIDTH, box["y"] + y * box["height"] / HEIGHT


def _console_problems(page):
  """A list that collects the page's console errors and uncaught exceptions."""
  problems = []
  page.on("console", lambda message: problems.append(message.text)
          if message.type == "error" else None)
  page.on("pageerror", lambda error: problems.append(str(error)))
  return problems


def _paint_stroke(page):
  box = page.locator("#hint-canvas").bounding_box()
  page.mouse.move(*_to_page(box, STROKE[0]))
  page.mouse.down()
  page.mouse.move(*_to_page(box, STROKE[1]), steps=12)
  page.mouse.up()


@pytest.mark.large
def test_paint_a_stroke_undo_save_open_and_download(chromium, studio, tmp_path):
  url, recorder = studio
  lineart, _ = lib.page(HEIGHT, WIDTH, seed=3)
  Image.fromarray(lineart).save(tmp_path / "page.png")
  context = chromium.new_context(accept_downloads=True, viewport={"width": 1200,
                                                                  "height": 800})
  page = context.new_page()
  problems = _console_problems(page)
  page.goto(url)
  page.wait_for_selector('body[data-ready="1"]', state="attached")
  assert "saved_model" in page.inner_text("#model-info")

  # Opening colours the page at once, without hints.
  page.set_input_files("#open-lineart", str(tmp_path / "page.png"))
  _wait_results(page, 1)
  hintless = _shown_result(page)
  assert hintless.shape == (HEIGHT, WIDTH, 3)
  assert not recorder.calls[-1][1].any()

  # Pick a colour and a brush size, paint one stroke with the mouse.
  page.fill("#colour", "#%02x%02x%02x" % COLOUR)
  page.fill("#brush-size", str(BRUSH))
  _paint_stroke(page)
  _wait_results(page, 2)
  hints = recorder.calls[-1][1][0]
  distance = _distance_to_segment(HEIGHT, WIDTH, *STROKE)
  hinted = hints[..., 3] > 0
  assert hinted[distance <= BRUSH / 2 - 0.75].all()  # everything under the stroke
  assert not hinted[distance > BRUSH / 2 + 0.75].any()  # nothing else
  assert (hints[hinted] == COLOUR + (255,)).all()  # in the chosen colour
  painted = _shown_result(page)
  assert painted.shape == (HEIGHT, WIDTH, 3)
  assert np.abs(painted.astype(int) - hintless).max() > 0
  assert page.locator("#palette button").count() == 1

  # Undo brings the hintless result back; redo the stroke's.
  page.keyboard.press("Control+z")
  _wait_results(page, 3)
  np.testing.assert_array_equal(_shown_result(page), hintless)
  page.keyboard.press("Control+Shift+z")
  _wait_results(page, 4)
  np.testing.assert_array_equal(_shown_result(page), painted)

  # Save the hint layer, clear, open it again: the same hints, the same result.
  with page.expect_download() as download:
    page.click("#save-hints")
  download.value.save_as(tmp_path / "hints.png")
  saved = np.asarray(Image.open(tmp_path / "hints.png").convert("RGBA"))
  np.testing.assert_array_equal(saved, hints)
  page.click("#clear")
  _wait_results(page, 5)
  np.testing.assert_array_equal(_shown_result(page), hintless)
  page.set_input_files("#open-hints", str(tmp_path / "hints.png"))
  _wait_results(page, 6)
  np.testing.assert_array_equal(recorder.calls[-1][1][0], hints)
  np.testing.assert_array_equal(_shown_result(page), painted)

  # The downloaded PNG is what the CLI makes of the same line art and hint layer.
  with page.expect_download() as download:
    page.click("#download-result")
  download.value.save_as(tmp_path / "studio.png")
  colorize_files.colorize_files(colorize_files.ColorizeConfig(
      model=recorder.path, lineart=str(tmp_path / "page.png"),
      hints=str(tmp_path / "hints.png"), output=str(tmp_path / "cli.png")))
  np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "studio.png")),
                                np.asarray(Image.open(tmp_path / "cli.png")))

  # A hint layer of another size is refused with a message on the page.
  Image.fromarray(np.zeros((10, 10, 4), np.uint8), "RGBA").save(tmp_path / "small.png")
  page.set_input_files("#open-hints", str(tmp_path / "small.png"))
  page.wait_for_selector("#message:not([hidden])")
  assert "must have the line art's size" in page.inner_text("#message")
  assert not problems, problems
  context.close()


@pytest.mark.large  # a second server and model (the run's Keras generator, traced)
def test_attention_view_overlays_the_csa_maps(chromium, tmp_path_factory, tmp_path):
  run = export_testlib.shared_run(tmp_path_factory)
  backend = backends.load_backend(run.model_dir)
  lineart, _ = lib.page(HEIGHT, WIDTH, seed=4)
  Image.fromarray(lineart).save(tmp_path / "page.png")
  app = app_lib.create_app(backend, StudioSettings(model=run.model_dir))
  with server.serve_in_thread(app) as url:
    page = chromium.new_page()
    page.goto(url)
    page.wait_for_selector('body[data-ready="1"]', state="attached")
    assert page.locator("#attention-block option").count() == 3  # mean + 2 blocks
    page.set_input_files("#open-lineart", str(tmp_path / "page.png"))
    _wait_results(page, 1)
    page.check("#attention")
    # A model call, like a result: the same 60 s as _wait_results (the 30 s
    # default ran out under load with two test processes on two cores).
    page.wait_for_selector("#attention-canvas:not([hidden])", timeout=60_000)
    alpha = np.array(page.evaluate("""() => {
        const canvas = document.getElementById("attention-canvas");
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        return Array.from(data.data).filter((_, i) => i % 4 === 3);
    }"""), np.float64).reshape(HEIGHT, WIDTH)
    page.close()
  # What the server sends for the page (mean of the blocks, no hints yet), made red
  # with opacity 0.7 x attention.
  maps = backend.attention_maps(lineart[..., None], np.zeros((HEIGHT, WIDTH, 4), np.uint8))
  gray = colorize_route.attention_picture(maps, -1, (HEIGHT, WIDTH), (HEIGHT, WIDTH))
  assert gray.max() > gray.min()
  np.testing.assert_array_equal(alpha, np.floor(gray.astype(np.float64) * 0.7 + 0.5))


@pytest.mark.large
def test_two_tabs_work_side_by_side(chromium, studio, tmp_path):
  url, _ = studio
  lineart, _ = lib.page(HEIGHT, WIDTH, seed=6)
  Image.fromarray(lineart).save(tmp_path / "page.png")
  context = chromium.new_context()
  tabs = [context.new_page(), context.new_page()]
  for tab in tabs:
    tab.goto(url)
    tab.wait_for_selector('body[data-ready="1"]', state="attached")
  for tab in tabs:  # Both ask before either has its answer.
    tab.set_input_files("#open-lineart", str(tmp_path / "page.png"))
  for tab in tabs:
    _wait_results(tab, 1)
  first, second = (_shown_result(tab) for tab in tabs)
  assert first.shape == (HEIGHT, WIDTH, 3)
  np.testing.assert_array_equal(first, second)
  context.close()


@pytest.mark.large  # a second server on the shared SavedModel
def test_server_side_model_works_without_litertjs(chromium, tmp_path_factory, tmp_path,
                                                  monkeypatch):
  # node_modules without @litertjs, as in a checkout where `npm ci` never ran: the
  # on-device module (which imports LiteRT.js) must not be loaded by the page.
  monkeypatch.setattr(vendor, "NODE_MODULES", tmp_path / "node_modules")
  (tmp_path / "node_modules").mkdir()
  run = export_testlib.shared_run(tmp_path_factory)
  backend = backends.load_backend(run.saved_model)
  recorder = lib.RecordingBackend(backend)
  app = app_lib.create_app(recorder, StudioSettings(model=run.saved_model))
  lineart, _ = lib.page(HEIGHT, WIDTH, seed=5)
  Image.fromarray(lineart).save(tmp_path / "page.png")
  with server.serve_in_thread(app) as url:
    with pytest.raises(urllib.error.HTTPError, match="404"):  # really not served
      urllib.request.urlopen(url.rstrip("/") + f"{vendor.URL_PREFIX}/{vendor.FILES[0]}")
    page = chromium.new_page()
    problems = _console_problems(page)
    page.goto(url)
    page.wait_for_selector('body[data-ready="1"]', state="attached")
    page.set_input_files("#open-lineart", str(tmp_path / "page.png"))
    _wait_results(page, 1)
    hintless = _shown_result(page)
    page.fill("#colour", "#%02x%02x%02x" % COLOUR)
    _paint_stroke(page)
    _wait_results(page, 2)
    painted = _shown_result(page)
    page.close()
  assert len(recorder.calls) == 2 and recorder.calls[-1][1][..., 3].any()
  expected = backend.colorize_batch(*recorder.calls[-1])[0]
  np.testing.assert_array_equal(painted, expected)
  assert np.abs(painted.astype(int) - hintless).max() > 0
  assert not problems, problems
