r"""The studio's own cost: one 512x512 colouring through HTTP next to the bare model call.

  nice -n 10 python -m tfcolor.benchmarks.studio --flagfile=configs/demo.cfg \
      [--size=512] [--repeats=5] [--screenshot=docs/studio.png] \
      [--screenshot_model=runs/demo]

Random weights at the ModelConfig flags' widths (demo.cfg: the demo's), exported
as a SavedModel the way `tfcolor.export` does. Times, after `--warmup` untimed
calls:

  model   the SavedModel's serving_default on uint8 arrays (what the studio calls)
  studio  POST /api/colorize to the studio on a loopback port with the line art
          and hint layer PNGs, and decoding the PNG answer, as the page does
  instant the same round trip with a backend that answers at once with the
          model's image: the server's own cost (multipart parsing, PNG decode
          and encode, HTTP) without the model's noise

Goal: the server's cost under 10% of the model call at the demo widths. Figures
are printed, never asserted.

--screenshot=PATH also saves a picture of the page in headless Chromium
(Debian's /usr/bin/chromium) after opening synthesized line art and painting
two strokes; with --screenshot_model the page serves that model instead (e.g.
the demo run, whose attention view is then shown).
"""

import dataclasses
import logging
import os
import tempfile

from absl import flags
import numpy as np

from tfcolor import cli
from tfcolor import flags as tfcolor_flags
from tfcolor.config import field


@dataclasses.dataclass(frozen=True)
class StudioBenchmarkSettings:
  """The flags of `python -m tfcolor.benchmarks.studio` besides the model's."""

  size: int = field(512, "Square page side in pixels.")
  warmup: int = field(1, "Untimed calls of each before timing.")
  repeats: int = field(5, "Timed calls of each.")
  screenshot: str = field("", "Also save a screenshot of the page here.")
  screenshot_model: str = field("", "Model the screenshot's page serves ('' = the "
                                "benchmark's random SavedModel).")
  json_out: str = field("", "Also write the figures here as JSON.")


def define_flags():
  """Every config flag (so experiment flagfiles load) and the benchmark's own."""
  tfcolor_flags.define_flags()
  tfcolor_flags.define_dataclass_flags(StudioBenchmarkSettings)
  flags.adopt_module_key_flags(tfcolor_flags)  # Listed by --help.


def page_inputs(size, seed=0):
  """Line art of a synthesized illustration (XDoG) and a hint layer with two strokes."""
  # pylint: disable=import-outside-toplevel
  from data_tools import synthesize
  from data_tools.extractors import create_extractor
  illustration = synthesize.render_illustration(synthesize.image_rng(seed, 0), size)
  lineart = create_extractor("xdog").extract(illustration)
  hints = np.zeros((size, size, 4), np.uint8)
  hints[size // 4:size // 4 + 6, size // 4:size // 2] = (224, 64, 64, 255)
  hints[size // 2:size // 2 + 6, size // 2:size * 3 // 4] = (48, 96, 224, 255)
  return lineart, hints


def time_round_trip(url, files, warmup, repeats):
  """Median seconds of POST /api/colorize + decoding the PNG answer."""
  # pylint: disable=import-outside-toplevel
  import httpx
  from tfcolor.benchmarks import common
  from tfcolor.studio import uploads

  with httpx.Client(base_url=url, timeout=600) as client:
    def round_trip():
      answer = client.post("api/colorize", files=files)
      answer.raise_for_status()
      return uploads.open_image(answer.content, "answer", 10 ** 9)
    return common.time_call(round_trip, warmup=warmup, repeats=repeats)


class _AnsweredBackend:
  """A backend that answers with a stored image at once: the studio's own cost alone."""

  def __init__(self, backend, image):
    self._backend, self._image = backend, image

  def __getattr__(self, name):
    return getattr(self._backend, name)

  def colorize_batch(self, lineart, hints):
    del lineart, hints
    return self._image


def take_screenshot(url, lineart_png, path):
  """The page with the line art open and two strokes painted, saved to `path`."""
  # pylint: disable=import-outside-toplevel
  from playwright.sync_api import sync_playwright
  from tfcolor.benchmarks import chromium
  from tfcolor import io_utils

  problem = chromium.missing()
  if problem:
    raise RuntimeError(f"--screenshot: {problem}")
  with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
    lineart_path = os.path.join(folder, "page.png")
    with open(lineart_path, "wb") as f:
      f.write(lineart_png)
    browser = chromium.launch(playwright)
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    page.goto(url)
    page.wait_for_selector('body[data-ready="1"]', state="attached")
    page.set_input_files("#open-lineart", lineart_path)
    page.wait_for_selector('body[data-results="1"][data-busy="0"]', state="attached",
                           timeout=600_000)
    box = page.locator("#hint-canvas").bounding_box()
    for count, (colour, y) in enumerate((("#e04040", 0.3), ("#3060e0", 0.7)), 2):
      page.fill("#colour", colour)
      page.fill("#brush-size", "8")
      page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * y)
      page.mouse.down()
      page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * y, steps=10)
      page.mouse.up()
      page.wait_for_selector(f'body[data-results="{count}"][data-busy="0"]',
                             state="attached", timeout=600_000)
    if page.locator("#attention-control").is_visible():
      page.check("#attention")
      page.wait_for_selector("#attention-canvas:not([hidden])", timeout=600_000)
    io_utils.atomic_write_bytes(path, page.screenshot(full_page=True))
    browser.close()
  return path


def main(argv):
  # pylint: disable=import-outside-toplevel
  from tfcolor import config as config_lib
  from tfcolor.benchmarks import common
  from tfcolor.models import factory
  from tfcolor.serving import saved_model_export
  from tfcolor.studio import app as app_lib
  from tfcolor.studio import backends, server, uploads
  from tfcolor.studio.settings import StudioSettings

  del argv
  logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
  settings = tfcolor_flags.dataclass_from_flags(StudioBenchmarkSettings)
  model_config = dataclasses.replace(
      tfcolor_flags.dataclass_from_flags(config_lib.ModelConfig), vgg_weights="none")
  generator = factory.build_generator(model_config)
  lineart, hints = page_inputs(settings.size)
  files = {"lineart": ("page.png", uploads.png_bytes(lineart), "image/png"),
           "hints": ("hints.png", uploads.png_bytes(hints), "image/png")}
  with tempfile.TemporaryDirectory(prefix="tfcolor_studio_bench_") as folder:
    path = saved_model_export.export_saved_model(generator, folder, 1)
    backend = backends.load_backend(path)
    model = common.time_call(backend.colorize_batch, lineart[None, ..., None], hints[None],
                             warmup=settings.warmup, repeats=settings.repeats)
    studio_app = app_lib.create_app(backend, StudioSettings(model=path))
    with server.serve_in_thread(studio_app) as url:
      studio = time_round_trip(url, files, settings.warmup, settings.repeats)
      if settings.screenshot and not settings.screenshot_model:
        take_screenshot(url, files["lineart"][1], settings.screenshot)
    answered = _AnsweredBackend(backend, backend.colorize_batch(lineart[None, ..., None],
                                                                hints[None]))
    with server.serve_in_thread(app_lib.create_app(answered,
                                                   StudioSettings(model=path))) as url:
      server_only = time_round_trip(url, files, settings.warmup, settings.repeats)
  if settings.screenshot_model:
    shown = backends.load_backend(settings.screenshot_model)
    with server.serve_in_thread(app_lib.create_app(
        shown, StudioSettings(model=settings.screenshot_model))) as url:
      take_screenshot(url, files["lineart"][1], settings.screenshot)
  overhead = studio.median_s - model.median_s
  load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
  print(f"studio round trip vs model call, {settings.size}x{settings.size}, batch 1, "
        f"{parameter_count(generator)} parameters, median of {settings.repeats} "
        f"(load average {load}, {os.cpu_count()} CPUs)")
  print(f"  model call (SavedModel)   {model.median_s * 1e3:9.1f} ms")
  print(f"  studio round trip (HTTP)  {studio.median_s * 1e3:9.1f} ms")
  print(f"  difference                {overhead * 1e3:9.1f} ms "
        f"({100 * overhead / model.median_s:.1f}% of the model call)")
  print(f"  studio with an instant model {server_only.median_s * 1e3:6.1f} ms "
        f"({100 * server_only.median_s / model.median_s:.1f}% of the model call): the "
        "server's own cost (multipart, PNG decode/encode, HTTP)")
  if settings.screenshot:
    print(f"screenshot: {settings.screenshot}")
  if settings.json_out:
    from tfcolor import io_utils  # pylint: disable=import-outside-toplevel
    io_utils.atomic_write_json(settings.json_out, {
        "size": settings.size, "parameters": parameter_count(generator),
        "model_s": model.median_s, "studio_s": studio.median_s,
        "instant_model_studio_s": server_only.median_s})


def parameter_count(generator):
  return f"{sum(int(np.prod(w.shape)) for w in generator.weights) / 1e6:.2f}M"


if __name__ == "__main__":
  define_flags()
  cli.run(main)
