"""On-device colouring: LiteRT.js in a real headless Chromium against the Python interpreter.

The page loads tfcolor/studio/static/ondevice/*.js and LiteRT.js from its own
loopback origin (vendor files from `npm ci`). Tolerance: the browser's result
equals tflite_runner.TFLiteColorizer's within MAX_UINT8_DIFFERENCE; the pre-
and post-processing are bit-exact (test_model_io_matches_python), so the
difference is the model's float output on two XNNPack builds, rounded to
uint8 on different sides of a .5 (measured 0-1 on the tiny model).
"""

import pathlib
import shutil

import numpy as np
import pytest
from PIL import Image

import browser_testlib
import export_testlib as lib
from tfcolor.serving import tflite_runner
from tfcolor.studio import browser_harness, vendor

MAX_UINT8_DIFFERENCE = 2
# (height, width): shrink both axes, grow both axes, no resize, same aspect.
SIZES = [(45, 21), (20, 13), (32, 20), (40, 40)]

@pytest.fixture(scope="module")
def run(tmp_path_factory):
  return lib.shared_run(tmp_path_factory)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
  """The harness site without a model (the model tests add theirs)."""
  browser_testlib.require_vendor()
  return browser_harness.write_site(tmp_path_factory.mktemp("ondevice_site"))


@pytest.fixture(scope="module")
def model_site(site, run):
  shutil.copyfile(run.tflite_path(), site / browser_harness.MODEL_NAME)
  return site


@pytest.fixture(scope="module")
def browser(chromium):
  return chromium


def test_vendor_missing_names_npm_ci(tmp_path):
  with pytest.raises(vendor.VendorMissingError, match=r"run `npm ci` in"):
    vendor.vendor_dir(tmp_path / "node_modules")


def test_vendor_copy_and_import_map(tmp_path):
  browser_testlib.require_vendor()
  total = vendor.copy_to(tmp_path)
  copied = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")
                  if path.is_file())
  assert copied == sorted(vendor.FILES)
  assert total == sum((tmp_path / name).stat().st_size for name in vendor.FILES)
  assert vendor.import_map_csp_hash().startswith("'sha256-")
  assert vendor.import_map_csp_hash("{}") != vendor.import_map_csp_hash()


def _pillow_nearest(image, height, width):
  return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.NEAREST))


@pytest.mark.large  # starts Chromium
def test_model_io_matches_python(site, browser):
  """model_io.js's resizing and value conversions equal the Python runner's, bit for bit."""
  rng = np.random.default_rng(0)
  cases = []
  for (height, width, out_height, out_width, channels, resample) in [
      (45, 21, 32, 15, 1, "box"), (20, 13, 32, 21, 1, "bicubic"),
      (32, 15, 45, 21, 3, "bicubic"), (40, 40, 32, 32, 3, "bicubic"),
      (300, 7, 43, 1, 1, "box"), (45, 21, 32, 15, 4, "nearest"),
      (13, 20, 21, 32, 4, "nearest")]:
    image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    if channels == 1:
      image = image[..., 0]
    if resample == "nearest":
      expected = _pillow_nearest(image, out_height, out_width)
    else:
      expected = tflite_runner.resize_separable(
          image, out_height, out_width, getattr(Image.Resampling, resample.upper()))
    cases.append((image, expected, [image.ravel().tolist(), width, height, channels,
                                    out_width, out_height, resample]))
  with browser_harness.static_server(site) as (origin, _):
    page, _ = browser_harness.open_harness(browser, origin)
    resized = page.evaluate("""(cases) => cases.map(([src, w, h, c, ow, oh, filter]) =>
        Array.from(filter === 'nearest'
          ? tfcolor.modelIo.resizeNearest(Uint8Array.from(src), w, h, c, ow, oh)
          : tfcolor.modelIo.resizeFiltered(Uint8Array.from(src), w, h, c, ow, oh, filter)))""",
                            [case[2] for case in cases])
    for (_, expected, args), got in zip(cases, resized):
      np.testing.assert_array_equal(np.array(got, np.uint8).reshape(expected.shape),
                                    expected, err_msg=str(args[1:]))

    lineart, hints = lib.random_inputs(1, 9, 7, seed=4, hint_fraction=0.5)
    floats = np.linspace(-1.3, 1.3, 1001, dtype=np.float32)
    details = {"dtype": np.uint8, "quantization": (0.0078125, 128)}
    converted = page.evaluate("""([lineart, hints, floats]) => {
      const io = tfcolor.modelIo;
      const q = {scale: 0.0078125, zeroPoint: 128};
      return {
        lineart: Array.from(io.lineartToModel(Uint8Array.from(lineart))),
        hints: Array.from(io.hintsToModel(Uint8Array.from(hints))),
        image: Array.from(io.imageToUint8(Float32Array.from(floats))),
        quantized: Array.from(io.quantize(Float32Array.from(floats), q)),
        dequantized: Array.from(io.dequantize(io.quantize(Float32Array.from(floats), q), q)),
        fits: [[45, 21], [21, 45], [7, 300], [33, 33], [5, 3]].map(
            ([h, w]) => io.fitInside(h, w, 32)),
      };
    }""", [lineart.ravel().tolist(), hints.ravel().tolist(), floats.tolist()])
  np.testing.assert_array_equal(np.float32(converted["lineart"]),
                                tflite_runner.lineart_to_model(lineart).ravel())
  np.testing.assert_array_equal(np.float32(converted["hints"]),
                                tflite_runner.hints_to_model(hints).ravel())
  np.testing.assert_array_equal(converted["image"], tflite_runner.image_to_uint8(floats))
  quantized = tflite_runner.quantize(floats, details)
  np.testing.assert_array_equal(converted["quantized"], quantized)
  np.testing.assert_array_equal(np.float32(converted["dequantized"]),
                                tflite_runner.dequantize(quantized, details))
  for fit, (height, width) in zip(converted["fits"], [(45, 21), (21, 45), (7, 300), (33, 33),
                                                       (5, 3)]):
    scale = min(32 / height, 32 / width)
    assert (fit["fitHeight"], fit["fitWidth"]) == (max(1, round(height * scale)),
                                                   max(1, round(width * scale)))


@pytest.mark.large
@pytest.mark.parametrize("isolated", [True, False], ids=["threaded", "single_threaded"])
def test_browser_colours_like_the_python_interpreter(model_site, browser, run, isolated):
  colorizer = tflite_runner.TFLiteColorizer(model_path=run.tflite_path())
  inputs = [lib.random_inputs(1, height, width, seed=height, hint_fraction=0.1)
            for height, width in SIZES]
  with browser_harness.static_server(model_site, isolated) as (origin, served_paths):
    page, requests = browser_harness.open_harness(browser, origin)
    answer = browser_harness.colorize_in_page(
        page, [(lineart[0, ..., 0], hints[0]) for lineart, hints in inputs], repeats=1)
    page.close()
  assert answer["isolated"] is isolated and answer["threaded"] is isolated
  assert answer["size"] == lib.SharedRun.TFLITE_SIZE and answer["ioType"] == "float32"
  assert answer["downloadBytes"] == pathlib.Path(run.tflite_path()).stat().st_size
  assert len(answer["latenciesMs"]) == len(SIZES) and min(answer["latenciesMs"]) > 0
  build = "litert_wasm_threaded_internal" if isolated else "litert_wasm_internal"
  wasm_paths = [path for path in served_paths if path.endswith(".wasm")]
  assert wasm_paths == [f"/vendor/litertjs/core/wasm/{build}.wasm"]
  assert served_paths.count("/model.tflite") == 1
  # Every request of the page went to its own origin.
  assert requests and all(url.startswith(origin + "/") for url in requests), requests

  differences = []
  for (lineart, hints), got in zip(inputs, answer["results"]):
    expected = colorizer.colorize(lineart[0], hints[0])
    assert got.shape == expected.shape
    differences.append(int(np.abs(got.astype(np.int32) - expected).max()))
  print(f"max |browser - python| per size {dict(zip(map(str, SIZES), differences))}")
  assert max(differences) <= MAX_UINT8_DIFFERENCE


@pytest.mark.large
def test_browser_benchmark_times_every_variant(site, browser, run):
  from tfcolor.benchmarks import browser_tflite  # pylint: disable=import-outside-toplevel
  results = browser_tflite.run_benchmark(run.tflite_path(), height=40, width=24, repeats=1,
                                         browser=browser)
  assert set(results["variants"]) == set(browser_tflite.VARIANTS)
  for name in browser_tflite.VARIANTS:
    assert results["variants"][name]["median_ms"] > 0
  for name in ("browser_threaded", "browser_single_threaded"):
    assert results["variants"][name]["max_diff_vs_python"] <= MAX_UINT8_DIFFERENCE
  report = browser_tflite.format_report(results)
  assert all(name in report for name in browser_tflite.VARIANTS)


@pytest.mark.large
def test_browser_runs_a_uint8_io_model(site, browser, run, tmp_path):
  """int8 with --int8_io=uint8: the page quantises with the scales io_spec gives it."""
  from tfcolor.serving import tflite_export  # pylint: disable=import-outside-toplevel

  def representative():  # random calibration inputs: the values do not matter here
    for seed in range(2):
      lineart, hints = lib.random_inputs(1, lib.SharedRun.TFLITE_SIZE,
                                         lib.SharedRun.TFLITE_SIZE, seed=seed + 10)
      yield {"lineart": tflite_runner.lineart_to_model(lineart),
             "hints": tflite_runner.hints_to_model(hints)}

  model_bytes = tflite_export.convert_tflite(
      run.generator, lib.SharedRun.TFLITE_SIZE, "int8", representative, int8_io="uint8")
  colorizer = tflite_runner.TFLiteColorizer(model_content=model_bytes)
  spec = colorizer.io_spec()
  uint8_site = tmp_path / "site"
  shutil.copytree(site, uint8_site)
  (uint8_site / browser_harness.MODEL_NAME).write_bytes(model_bytes)
  lineart, hints = lib.random_inputs(1, 45, 21, seed=6, hint_fraction=0.1)
  with browser_harness.static_server(uint8_site) as (origin, _):
    page, _ = browser_harness.open_harness(browser, origin)
    answer = browser_harness.colorize_in_page(page, [(lineart[0, ..., 0], hints[0])],
                                              quantization=spec["quantization"])
    page.close()
  assert answer["ioType"] == "uint8"
  expected = colorizer.colorize(lineart[0], hints[0])
  difference = int(np.abs(answer["results"][0].astype(np.int32) - expected).max())
  print(f"uint8 I/O: max |browser - python| {difference}")
  assert difference <= MAX_UINT8_DIFFERENCE
