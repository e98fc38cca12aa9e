"""The studio's HTTP API through Starlette's TestClient, on tiny random models."""

import dataclasses
import os
import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import export_testlib
import studio_testlib as lib
from data_tools.extractors import create_extractor
from tfcolor.serving import colorize_files, page_scaling
from tfcolor.studio import app as app_lib
from tfcolor.studio import backends, security
from tfcolor.studio.settings import StudioSettings, validate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  return export_testlib.shared_run(tmp_path_factory)


@pytest.fixture(scope="module")
def saved_model_backend(run):
  return backends.load_backend(run.saved_model)


@pytest.fixture(scope="module")
def model_dir_backend(run):
  return backends.load_backend(run.model_dir)


def _client(backend, **settings):
  return TestClient(app_lib.create_app(backend, StudioSettings(model=backend.path,
                                                               **settings)))


@pytest.fixture(scope="module")
def client(saved_model_backend):
  return _client(saved_model_backend)


@pytest.mark.large
def test_result_equals_the_colorize_cli_bit_for_bit(client, saved_model_backend, tmp_path):
  _assert_answers_like_the_colorize_cli(client, saved_model_backend, tmp_path)


def _assert_answers_like_the_colorize_cli(client, backend, tmp_path):
  lineart, hints = lib.page()
  Image.fromarray(lineart).save(tmp_path / "page.png")
  Image.fromarray(hints, "RGBA").save(tmp_path / "hints.png")
  colorize_files.colorize_files(colorize_files.ColorizeConfig(
      model=backend.path, lineart=str(tmp_path / "page.png"),
      hints=str(tmp_path / "hints.png"), output=str(tmp_path / "cli.png")))
  answer = client.post("/api/colorize", files=lib.files(
      (tmp_path / "page.png").read_bytes(), (tmp_path / "hints.png").read_bytes()))
  assert answer.status_code == 200, answer.text
  assert answer.headers["content-type"] == "image/png"
  assert answer.headers["x-studio-scaled"] == "0"
  assert answer.headers["x-studio-model-size"] == "50x37"
  np.testing.assert_array_equal(lib.decode(answer.content),
                                np.asarray(Image.open(tmp_path / "cli.png")))


def test_no_hint_layer_is_no_hints_and_hints_change_the_result(client):
  lineart, hints = lib.page()
  plain = lib.decode(client.post("/api/colorize", files=lib.files(lineart)).content)
  empty = lib.decode(client.post("/api/colorize", files=lib.files(
      lineart, np.zeros_like(hints))).content)
  hinted = lib.decode(client.post("/api/colorize", files=lib.files(lineart, hints)).content)
  assert plain.shape == (37, 50, 3)
  np.testing.assert_array_equal(plain, empty)
  assert np.abs(plain.astype(int) - hinted).max() > 0


def test_colour_line_art_is_converted_like_the_cli(client):
  lineart, _ = lib.page()
  rgb = np.stack([lineart] * 3, -1)
  gray = client.post("/api/colorize", files=lib.files(lineart)).content
  colour = client.post("/api/colorize", files=lib.files(rgb)).content
  np.testing.assert_array_equal(lib.decode(gray), lib.decode(colour))


_NOISE_PNG = lib.png(np.random.default_rng(0).integers(0, 256, (40, 40), np.uint8))


@pytest.mark.parametrize("parts, status, words", [
    ({"lineart": ("a.png", b"not an image at all", "image/png")}, 400, "line art: not a"),
    ({"lineart": ("a.png", _NOISE_PNG[:len(_NOISE_PNG) // 2], "image/png")}, 400,
     "line art: not a readable image"),
    ({"lineart": ("a.png", b"", "image/png")}, 400, "line art: the upload is empty"),
    ({"lineart": ("a.png", lib.png(np.zeros((37, 50), np.uint8)), "image/png"),
      "hints": ("h.png", lib.png(np.zeros((30, 50, 4), np.uint8)), "image/png")}, 422,
     "hint layer: 50x30 but the line art is 50x37"),
    ({"lineart": ("a.png", lib.png(np.zeros((37, 50), np.uint8)), "image/png"),
      "hints": ("h.png", b"GIF89a broken", "image/png")}, 400, "hint layer: not a"),
    ({"hints": ("h.png", lib.png(np.zeros((37, 50, 4), np.uint8)), "image/png")}, 422,
     "lineart: Field required"),
])
def test_bad_uploads_get_a_4xx_with_a_one_line_message(client, parts, status, words):
  answer = client.post("/api/colorize", files=parts)
  assert answer.status_code == status
  detail = answer.json()["detail"]
  assert words in detail and "\n" not in detail


def test_bodies_over_max_upload_mb_get_413(saved_model_backend):
  small = _client(saved_model_backend, max_upload_mb=0.01)
  big = np.random.default_rng(0).integers(0, 256, (120, 120), np.uint8)  # ~14 kB PNG
  answer = small.post("/api/colorize", files=lib.files(big))
  assert answer.status_code == 413
  assert "larger than the studio takes (0.01 MB" in answer.json()["detail"]
  # Without Content-Length (a chunked body) the limit holds while reading.
  body = b"x" * 20_000
  answer = small.post("/api/colorize", content=iter([body[:5000], body[5000:]]),
                      headers={"content-type": "multipart/form-data; boundary=b"})
  assert answer.status_code == 413
  ok = small.post("/api/colorize", files=lib.files(np.zeros((20, 20), np.uint8)))
  assert ok.status_code == 200


def test_images_over_max_pixels_get_413(saved_model_backend):
  answer = _client(saved_model_backend, max_pixels=1000).post(
      "/api/colorize", files=lib.files(np.zeros((37, 50), np.uint8)))
  assert answer.status_code == 413
  assert "50x37 is larger than the studio takes (1000 pixels)" in answer.json()["detail"]


class _HeldBackend(lib.RecordingBackend):
  """A real backend whose calls wait for `release` (to hold the model busy)."""

  def __init__(self, backend):
    super().__init__(backend)
    self.entered, self.release = threading.Event(), threading.Event()

  def colorize_batch(self, lineart, hints):
    self.entered.set()
    assert self.release.wait(30)
    return super().colorize_batch(lineart, hints)


def test_busy_model_answers_503_beyond_the_waiting_line(saved_model_backend):
  held = _HeldBackend(saved_model_backend)
  client = _client(held, max_waiting=0)
  parts = lib.files(np.full((20, 20), 255, np.uint8))
  first = {}
  thread = threading.Thread(
      target=lambda: first.update(answer=client.post("/api/colorize", files=parts)))
  thread.start()
  assert held.entered.wait(30)
  busy = client.post("/api/colorize", files=parts)
  assert busy.status_code == 503 and busy.json()["detail"].startswith("busy")
  held.release.set()
  thread.join(30)
  assert first["answer"].status_code == 200
  assert client.post("/api/colorize", files=parts).status_code == 200


def test_waiting_requests_are_served_in_turn(saved_model_backend):
  held = _HeldBackend(saved_model_backend)
  client = _client(held, max_waiting=2)
  parts = lib.files(np.full((20, 20), 255, np.uint8))
  answers = []
  threads = [threading.Thread(target=lambda: answers.append(
      client.post("/api/colorize", files=parts).status_code)) for _ in range(3)]
  for thread in threads:
    thread.start()
  assert held.entered.wait(30)
  held.release.set()
  for thread in threads:
    thread.join(30)
  assert answers == [200, 200, 200]
  assert len(held.calls) == 3


class _FailingOnceBackend(lib.RecordingBackend):
  def __init__(self, backend):
    super().__init__(backend)
    self.failures = 1

  def colorize_batch(self, lineart, hints):
    if self.failures:
      self.failures -= 1
      raise RuntimeError("out of memory in conv2d\nlong TensorFlow trace")
    return super().colorize_batch(lineart, hints)


def test_a_failing_model_call_is_a_500_and_the_next_is_served(saved_model_backend):
  client = _client(_FailingOnceBackend(saved_model_backend))
  parts = lib.files(np.full((20, 20), 255, np.uint8))
  failed = client.post("/api/colorize", files=parts)
  assert failed.status_code == 500
  assert failed.json() == {"detail": "colouring failed: RuntimeError: out of memory in "
                                     "conv2d"}
  assert client.post("/api/colorize", files=parts).status_code == 200


def test_pages_over_max_side_are_scaled_for_the_model_and_back(saved_model_backend):
  recorder = lib.RecordingBackend(saved_model_backend)
  client = _client(recorder, max_side=32)
  lineart, hints = lib.page()
  answer = client.post("/api/colorize", files=lib.files(lineart, hints))
  assert answer.status_code == 200
  assert answer.headers["x-studio-scaled"] == "1"
  assert answer.headers["x-studio-model-size"] == "32x24"
  assert lib.decode(answer.content).shape == (37, 50, 3)
  seen_lineart, seen_hints = recorder.calls[-1]
  assert seen_lineart.shape == (1, 24, 32, 1) and seen_hints.shape == (1, 24, 32, 4)
  expected, scaled = page_scaling.colorize_page(saved_model_backend, lineart[..., None],
                                                hints, 32)
  assert scaled
  np.testing.assert_array_equal(lib.decode(answer.content), expected)


@pytest.mark.large
def test_tflite_backend_runs_at_its_fixed_size(run):
  client = _client(backends.load_backend(run.tflite_path()))
  health = client.get("/api/health").json()
  assert health["kind"] == "tflite" and health["fixed_size"] == 32
  lineart, hints = lib.page()
  answer = client.post("/api/colorize", files=lib.files(lineart, hints))
  assert answer.status_code == 200
  assert answer.headers["x-studio-scaled"] == "1"
  assert answer.headers["x-studio-model-size"] == "32x32"
  assert lib.decode(answer.content).shape == (37, 50, 3)


def test_health_names_the_model_and_its_size_rules(client, saved_model_backend):
  assert client.get("/api/health").json() == {
      "status": "ok", "model": saved_model_backend.path, "kind": "saved_model",
      "max_side": 1024, "fixed_size": None, "max_upload_mb": 20.0, "attention_blocks": 0,
      "extractors": ["xdog"], "on_device": None, "static": False, "sample": None}


@pytest.mark.large
def test_model_dir_backend_colours_like_its_export(model_dir_backend, saved_model_backend):
  lineart, hints = lib.page()
  batch = lineart[None, ..., None], hints[None]
  difference = np.abs(model_dir_backend.colorize_batch(*batch).astype(int)
                      - saved_model_backend.colorize_batch(*batch))
  assert difference.max() <= 1


@pytest.mark.large
def test_a_bfloat16_export_serves_like_the_colorize_cli(run, tmp_path):
  backend = backends.load_backend(run.saved_model_bfloat16)
  _assert_answers_like_the_colorize_cli(_client(backend), backend, tmp_path)


@pytest.mark.large
def test_attention_maps_of_a_model_dir(model_dir_backend):
  client = _client(model_dir_backend)
  assert client.get("/api/health").json()["attention_blocks"] == 2
  lineart, hints = lib.page()
  maps = model_dir_backend.attention_maps(lineart[..., None], hints)
  assert maps.shape == (2, 3, 4) and 0 <= maps.min() and maps.max() <= 1
  for block, expected in ((-1, maps.mean(0)), (1, maps[1])):
    answer = client.post("/api/attention", files=lib.files(lineart, hints),
                         data={"block": str(block)})
    assert answer.status_code == 200, answer.text
    picture = lib.decode(answer.content)
    assert picture.shape == (37, 50)
    # The map scaled up 16x: the first cell's corner keeps the cell's value.
    assert abs(int(picture[7, 7]) - round(expected[0, 0] * 255)) <= 2
  without = model_dir_backend.attention_maps(lineart[..., None], np.zeros_like(hints))
  assert np.abs(without - maps).max() > 0  # The maps look at the hints.
  bad = client.post("/api/attention", files=lib.files(lineart), data={"block": "2"})
  assert bad.status_code == 422 and "0..1" in bad.json()["detail"]


def test_attention_of_an_export_is_a_404_naming_the_reason(client):
  answer = client.post("/api/attention", files=lib.files(np.zeros((20, 20), np.uint8)))
  assert answer.status_code == 404
  assert "training run folder of a CSA model" in answer.json()["detail"]


def test_lineart_from_a_colour_picture_uses_the_builders_xdog(client):
  rng = np.random.default_rng(1)
  picture = np.kron(rng.integers(0, 256, (6, 8, 3)), np.ones((8, 8, 1))).astype(np.uint8)
  answer = client.post("/api/lineart", files={"image": ("p.png", lib.png(picture),
                                                        "image/png")})
  assert answer.status_code == 200
  np.testing.assert_array_equal(lib.decode(answer.content),
                                create_extractor("xdog").extract(picture))
  unknown = client.post("/api/lineart", data={"extractor": "sketchkeras"},
                        files={"image": ("p.png", lib.png(picture), "image/png")})
  assert unknown.status_code == 422
  assert "this server has ['xdog']" in unknown.json()["detail"]
  junk = client.post("/api/lineart", files={"image": ("p.png", b"junk", "image/png")})
  assert junk.status_code == 400 and junk.json()["detail"].startswith("picture:")


def test_page_and_api_answers_carry_the_content_security_policy(client):
  page = client.get("/")
  assert page.status_code == 200 and "text/html" in page.headers["content-type"]
  for answer in (page, client.get("/api/health"),
                 client.post("/api/colorize", files=lib.files(b"junk"))):
    assert answer.headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY
  assert "default-src 'self'" in security.CONTENT_SECURITY_POLICY


def test_load_backend_kinds_and_errors(run, tmp_path):
  folder = backends.load_backend(os.path.dirname(run.saved_model))  # the export folder
  assert folder.kind == "saved_model" and folder.path == run.saved_model
  with pytest.raises(ValueError, match="is none of: a training run folder"):
    backends.load_backend(str(tmp_path))
  with pytest.raises(FileNotFoundError, match="no such .tflite file"):
    backends.load_backend(str(tmp_path / "x.tflite"))


@pytest.mark.parametrize("field, value, words", [
    ("model", "", "--model is required"), ("port", 70000, "--port must be in 0..65535"),
    ("max_side", -1, "--max_side must be 0 \\(never scale\\) or >= 16"), ("max_upload_mb", 0, "--max_upload_mb"),
    ("max_waiting", -1, "--max_waiting must be >= 0")])
def test_settings_that_cannot_work_name_the_flag(field, value, words):
  settings = StudioSettings(model="m")
  with pytest.raises(ValueError, match=words):
    validate(dataclasses.replace(settings, **{field: value}))
