"""`tfcolor.export --web_demo`: a static folder that colours in the browser, on a plain server."""

import json

import numpy as np
import pytest

import browser_testlib
import export_testlib
from tfcolor.serving import export
from tfcolor.studio import browser_harness, web_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
  browser_testlib.require_vendor()
  run = export_testlib.shared_run(tmp_path_factory)
  folder = tmp_path_factory.mktemp("web") / "demo"
  result = export.run_export(export.ExportConfig(
      model_dir=run.model_dir, web_demo=str(folder),
      tflite_size=export_testlib.SharedRun.TFLITE_SIZE), web_demo_writer=web_demo)
  assert result["web_demo"] == str(folder)
  return folder


def test_refuses_a_folder_in_use(tmp_path):
  (tmp_path / "keep.txt").write_text("mine")
  with pytest.raises(FileExistsError, match="--web_demo=.* not an empty folder"):
    web_demo.check_destination(tmp_path)
  assert (tmp_path / "keep.txt").read_text() == "mine"
  export.validate_export_config(export.ExportConfig(model_dir="run", web_demo="demo"))


@pytest.mark.large
def test_static_folder_colours_the_sample_in_the_browser(demo, chromium):
  health = json.loads((demo / "api" / "health").read_text())
  assert health["static"] and health["sample"] == web_demo.SAMPLE_NAME
  assert health["on_device"]["model_bytes"] == (demo / "api" / "model.tflite").stat().st_size
  size_mb = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file()) / 1e6
  print(f"web demo folder: {size_mb:.1f} MB")

  with browser_harness.static_server(demo) as (origin, served_paths):  # no COOP/COEP
    page = chromium.new_page(viewport={"width": 1200, "height": 800})
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(origin + "/")
    page.wait_for_selector('body[data-results="1"][data-busy="0"]', state="attached",
                           timeout=120_000)
    mode = page.inner_text("#mode")
    assert "on this device" in mode and "single-threaded" in mode, mode
    result = browser_testlib.canvas_pixels(page, "result-canvas")
    assert result.shape == (web_demo.SAMPLE_SIZE, web_demo.SAMPLE_SIZE, 4)
    assert np.ptp(result[..., :3]) > 0

    box = page.locator("#hint-canvas").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 90, box["y"] + 60, steps=8)
    page.mouse.up()
    page.wait_for_selector('body[data-results="2"][data-busy="0"]', state="attached",
                           timeout=120_000)
    page.close()
  assert not problems, problems
  assert all(url.startswith(origin + "/") for url in requests), requests
  assert "/vendor/litertjs/core/wasm/litert_wasm_internal.wasm" in served_paths
  assert not [path for path in served_paths if path.startswith("/api/colorize")]
