"""tfcolor.colorize: hint layers, points files, folders, bad files."""

import logging as std_logging
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import export_testlib as lib
from tfcolor.benchmarks import export_difference
from tfcolor.serving import colorize_files, hint_files, precision

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  run = lib.shared_run(tmp_path_factory)
  return {"generator": run.generator, "saved_model": run.saved_model,
          "tflite": run.tflite_path()}


def _write_lineart(path, height=37, width=50, mode="L"):
  lineart, _ = lib.random_inputs(1, height, width, seed=height)
  Image.fromarray(lineart[0, ..., 0]).convert(mode).save(path)
  return lineart[0, ..., 0]


def _config(**kwargs):
  return colorize_files.ColorizeConfig(**kwargs)


@pytest.mark.large
def test_hint_layer_matches_the_model(models, tmp_path):
  lineart = _write_lineart(tmp_path / "page.png")
  layer = np.zeros((37, 50, 4), np.uint8)
  layer[5:10, 5:10] = (255, 0, 0, 255)
  Image.fromarray(layer, "RGBA").save(tmp_path / "hints.png")
  result = colorize_files.colorize_files(_config(
      model=models["saved_model"], lineart=str(tmp_path / "page.png"),
      hints=str(tmp_path / "hints.png"), output=str(tmp_path / "out.png")))
  assert result == {"written": [str(tmp_path / "out.png")], "failed": {}}
  image = np.asarray(Image.open(tmp_path / "out.png"))
  reference = lib.keras_reference(models["generator"], lineart[None, ..., None],
                                  layer[None])[0]
  assert image.shape == (37, 50, 3)
  assert np.abs(image - np.round((reference + 1) * 127.5)).max() <= 1


@pytest.mark.large
def test_a_bfloat16_export_colours_within_its_tolerance(models, tmp_path_factory, tmp_path):
  bfloat16_model = lib.shared_run(tmp_path_factory).saved_model_bfloat16
  _write_lineart(tmp_path / "page.png")
  (tmp_path / "hints.txt").write_text("5 5 #ff0000 3\n30 20 #2040e0 4\n")
  for name, model in (("float32", models["saved_model"]), ("bfloat16", bfloat16_model)):
    result = colorize_files.colorize_files(_config(
        model=model, lineart=str(tmp_path / "page.png"),
        hints=str(tmp_path / "hints.txt"), output=str(tmp_path / f"{name}.png")))
    assert result["written"] == [str(tmp_path / f"{name}.png")]
  images = [np.asarray(Image.open(tmp_path / f"{name}.png")) for name in ("float32",
                                                                          "bfloat16")]
  assert images[1].shape == (37, 50, 3)
  difference = export_difference.uint8_difference(*images)
  assert difference["mean"] <= precision.BFLOAT16_TOLERANCE["mean"], difference
  assert difference["p99"] <= precision.BFLOAT16_TOLERANCE["p99"], difference


def test_points_file_pixels_and_fractions():
  hints = hint_files.parse_points("# comment\n2 3 #ff8000\n0.5 1.0 #0000ff 1\n", 10, 20)
  np.testing.assert_array_equal(hints[2:5, 1:4], np.full((3, 3, 4), [255, 128, 0, 255]))
  assert tuple(hints[9, 10]) == (0, 0, 255, 255)  # (0.5, 1.0) of 20x10, 1 px
  assert (hints[..., 3] > 0).sum() == 10
  with pytest.raises(ValueError, match="line 1: colour 'red'"):
    hint_files.parse_points("1 1 red", 10, 10, "p.txt")
  with pytest.raises(ValueError, match="outside"):
    hint_files.parse_points("30 1 #ffffff", 10, 10)


@pytest.mark.large
def test_points_file_through_tflite(models, tmp_path):
  _write_lineart(tmp_path / "page.jpg", mode="RGB")  # colour line art -> gray
  (tmp_path / "hints.txt").write_text("10 10 #00ff00 4\n0.8 0.2 #ff00ff\n")
  result = colorize_files.colorize_files(_config(
      model=models["tflite"], lineart=str(tmp_path / "page.jpg"),
      hints=str(tmp_path / "hints.txt"), output=str(tmp_path) + os.sep))
  assert result["written"] == [str(tmp_path / "page.png")]
  assert np.asarray(Image.open(tmp_path / "page.png")).shape == (37, 50, 3)


@pytest.mark.large
def test_folder_skips_bad_files_and_resizes_hints(models, tmp_path, caplog):
  pages, hints, out = tmp_path / "pages", tmp_path / "hints", tmp_path / "out"
  pages.mkdir(), hints.mkdir()
  for name in ("a", "b", "c"):
    _write_lineart(pages / f"{name}.png")
  _write_lineart(pages / "d.png", height=20, width=16)
  (pages / "broken.png").write_text("not an image")
  Image.fromarray(np.full((10, 12, 4), 200, np.uint8), "RGBA").save(hints / "a.png")
  with caplog.at_level(std_logging.INFO, logger="absl"):
    result = colorize_files.colorize_files(_config(
        model=models["saved_model"], lineart=str(pages), hints=str(hints),
        output=str(out), batch_size=2))
  assert sorted(os.listdir(out)) == ["a.png", "b.png", "c.png", "d.png"]
  assert list(result["failed"]) == [str(pages / "broken.png")]
  assert "not an image PIL can read" in result["failed"][str(pages / "broken.png")]
  assert "resizing the hints" in caplog.text
  assert np.asarray(Image.open(out / "d.png")).shape == (20, 16, 3)
  # Progress (log lines off a terminal), per batch and per failure: sorted names
  # a, b, broken, c, d; batches of up to 2 of one size: [a, b], broken fails,
  # [c] (d has another size), [d].
  assert f"skipping {pages / 'broken.png'}" in caplog.text
  progress = [r.getMessage() for r in caplog.records
              if r.getMessage().startswith("colorized ")]
  assert progress == ["colorized 2/5 files (2 written, 0 failed)",
                      "colorized 3/5 files (2 written, 1 failed)",
                      "colorized 4/5 files (3 written, 1 failed)",
                      "colorized 5/5 files (4 written, 1 failed)"]


def test_progress_bar_on_a_terminal(capsys):
  progress = colorize_files.Progress(3, interactive=True)
  progress.update(written=2, failed=0)
  progress.update(written=2, failed=1)
  progress.update(written=2, failed=1)  # unchanged: not drawn again
  output = capsys.readouterr().out
  assert "3/3" in output and "failed: 1" in output and output.count("3/3") == 1


@pytest.mark.large
def test_missing_or_unreadable_files_are_named(models, tmp_path):
  with pytest.raises(FileNotFoundError, match="nope.png"):
    colorize_files.colorize_files(_config(
        model=models["saved_model"], lineart=str(tmp_path / "nope.png"),
        output=str(tmp_path / "o.png")))
  with pytest.raises(FileNotFoundError, match="--model"):
    colorize_files.load_colorizer(str(tmp_path))
  _write_lineart(tmp_path / "page.png")
  (tmp_path / "notes.png").write_text("not an image either")
  for hints, message in (("missing_hints.png", "missing_hints.png does not exist"),
                         ("notes.png", "notes.png is neither an image nor a points")):
    result = colorize_files.colorize_files(_config(
        model=models["saved_model"], lineart=str(tmp_path / "page.png"),
        hints=str(tmp_path / hints), output=str(tmp_path / "o.png")))
    assert message in result["failed"][str(tmp_path / "page.png")]
    assert not result["written"] and not (tmp_path / "o.png").exists()


@pytest.mark.large
def test_cli_folder_with_hint_layer_points_file_and_a_bad_file(models, tmp_path):
  pages, hints, out = tmp_path / "pages", tmp_path / "hints", tmp_path / "out"
  pages.mkdir(), hints.mkdir()
  lineart = {name: _write_lineart(pages / f"{name}.png") for name in ("a", "b")}
  (pages / "c.png").write_text("not an image")
  layer = np.zeros((37, 50, 4), np.uint8)
  layer[20:30, 30:40] = (0, 0, 255, 255)
  Image.fromarray(layer, "RGBA").save(hints / "a.png")
  points = "5 5 #ff0000 6\n0.5 0.5 #00ff00\n"
  (hints / "b.txt").write_text(points)
  run = subprocess.run(
      [sys.executable, "-m", "tfcolor.colorize", f"--model={models['saved_model']}",
       f"--lineart={pages}", f"--hints={hints}", f"--output={out}"],
      cwd=REPO_ROOT, capture_output=True, text=True, check=False)
  assert run.returncode == 1, run.stderr[-2000:]  # c.png failed
  assert f"skipping {pages / 'c.png'}" in run.stderr
  assert run.stdout.split() == [str(out / "a.png"), str(out / "b.png")]
  for name, name_hints in (("a", layer), ("b", hint_files.parse_points(points, 37, 50))):
    reference = lib.keras_reference(models["generator"], lineart[name][None, ..., None],
                                    name_hints[None])[0]
    unhinted = lib.keras_reference(models["generator"], lineart[name][None, ..., None],
                                   np.zeros_like(name_hints)[None])[0]
    assert np.abs(reference - unhinted).max() * 127.5 > 2  # the hints matter
    image = np.asarray(Image.open(out / f"{name}.png"))
    assert np.abs(image - np.round((reference + 1) * 127.5)).max() <= 1, name


def _damaged_copy(saved_model, target, damage):
  import shutil  # pylint: disable=import-outside-toplevel
  shutil.copytree(saved_model, target)
  if damage == "variables":
    path = target / "variables" / "variables.data-00000-of-00001"
  else:
    path = target / "saved_model.pb"
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  return str(target)


@pytest.mark.large
@pytest.mark.parametrize("damage, reason", [("variables", "a data file is truncated"),
                                            ("graph", "Cannot parse file")])
def test_a_damaged_export_is_named_in_one_line(models, tmp_path, damage, reason):
  path = _damaged_copy(models["saved_model"], tmp_path / "7", damage)
  with pytest.raises(ValueError) as error:
    colorize_files.load_colorizer(path)
  message = str(error.value)
  assert message.startswith(f"--model={path}: the SavedModel is damaged or incomplete (")
  assert reason in message and "\n" not in message


@pytest.mark.large
def test_max_side_scales_a_large_page_and_says_so(models, tmp_path, caplog):
  _write_lineart(tmp_path / "page.png", height=70, width=50)
  with caplog.at_level(std_logging.INFO, logger="absl"):
    result = colorize_files.colorize_files(_config(
        model=models["saved_model"], lineart=str(tmp_path / "page.png"),
        output=str(tmp_path / "out.png"), max_side=32))
  assert result["written"] == [str(tmp_path / "out.png")]
  assert Image.open(tmp_path / "out.png").size == (50, 70)
  assert "50x70 page colourised at 23x32 (--max_side=32) and scaled back" in caplog.text
  with pytest.raises(ValueError, match="--max_side"):
    colorize_files.colorize_files(_config(model=models["saved_model"], lineart="x",
                                          output="y", max_side=8))
