"""data_tools.extract_lineart: file -> file, folder -> folder, bad files, usage errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from data_tools import extract_lineart
from trainer_testlib import REPO_ROOT, python_env


def _run(*args):
  return subprocess.run([sys.executable, "-m", "data_tools.extract_lineart", *args],
                        cwd=REPO_ROOT, env=python_env(), capture_output=True, text=True,
                        timeout=120, check=False)


def _illustration(height=48, width=64):
  """A light blue page with a 2-px black square outline (rows and columns 16..33)."""
  image = np.zeros((height, width, 3), np.uint8)
  image[:] = (170, 200, 230)
  image[16:34, 16:34] = (20, 20, 20)
  image[18:32, 18:32] = (230, 120, 90)  # a filled shape inside the outline
  return image


@pytest.mark.large
def test_file_to_file_is_grayscale_white_paper_with_dark_lines(tmp_path):
  Image.fromarray(_illustration()).save(tmp_path / "drawing.jpg", quality=95)
  output = tmp_path / "page.png"
  run = _run(f"--input={tmp_path / 'drawing.jpg'}", f"--output={output}")
  assert run.returncode == 0, run.stderr[-2000:]
  assert run.stdout.split() == [str(output)]
  with Image.open(output) as page:
    assert page.format == "PNG" and page.mode == "L" and page.size == (64, 48)
    lineart = np.asarray(page)
  assert (lineart[:8] == 255).all() and (lineart[:, 40:] == 255).all()  # paper
  assert lineart[16, 20:30].max() < 64 and lineart[20:30, 16].max() < 64  # outline
  assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]  # atomic


@pytest.mark.large
def test_folder_to_folder_skips_and_names_a_bad_file(tmp_path):
  pages, out = tmp_path / "pages", tmp_path / "out" / "lineart"
  (pages / "nested").mkdir(parents=True)
  Image.fromarray(_illustration()).save(pages / "a.png")
  Image.fromarray(_illustration(40, 30)).save(pages / "b.jpeg")
  Image.fromarray(_illustration()).save(pages / "nested" / "c.png")  # not recursive
  (pages / "broken.png").write_text("not an image")
  (pages / ".hidden.png").write_text("ignored")
  run = _run(f"--input={pages}", f"--output={out}")
  assert run.returncode == 1, run.stderr[-2000:]
  assert f"skipping {pages / 'broken.png'}: unreadable" in run.stderr
  assert "1 of 3 files failed" in run.stderr
  assert run.stdout.split() == [str(out / "a.png"), str(out / "b.png")]
  assert sorted(os.listdir(out)) == ["a.png", "b.png"]
  with Image.open(out / "b.png") as page:
    assert page.mode == "L" and page.size == (30, 40)


@pytest.mark.parametrize("args, message", [
    (["--output=out.png"], "--input is required"),
    (["--input=missing.png", "--output=out.png"], "--input=missing.png does not exist"),
])
@pytest.mark.large
def test_usage_errors_name_the_flag(tmp_path, args, message):
  run = _run(*args)
  assert run.returncode != 0
  assert message in run.stderr


@pytest.mark.large
def test_neural_extractor_without_weights_names_its_flag(tmp_path):
  Image.fromarray(_illustration()).save(tmp_path / "a.png")
  run = _run(f"--input={tmp_path / 'a.png'}", f"--output={tmp_path / 'b.png'}",
             "--extractor=sketchkeras")
  assert run.returncode != 0
  assert "set --sketchkeras_weights=PATH" in run.stderr
  assert not (tmp_path / "b.png").exists()


def _config(**kwargs):
  return extract_lineart.ExtractLineartConfig(**kwargs)


def test_plan_refuses_to_overwrite_illustrations(tmp_path):
  Image.fromarray(_illustration()).save(tmp_path / "a.png")
  with pytest.raises(ValueError, match="--output must not be the --input folder"):
    extract_lineart.plan_files(_config(input=str(tmp_path), output=str(tmp_path)))
  with pytest.raises(ValueError, match="would overwrite --input"):
    extract_lineart.plan_files(_config(input=str(tmp_path / "a.png"),
                                       output=str(tmp_path / "a.png")))
  with pytest.raises(ValueError, match="must end in .png"):
    extract_lineart.plan_files(_config(input=str(tmp_path / "a.png"),
                                       output=str(tmp_path / "a.jpg")))


def test_library_into_an_existing_folder_shrinks_and_claims_names_once(tmp_path):
  pages, out = tmp_path / "pages", tmp_path / "out"
  pages.mkdir(), out.mkdir()
  Image.fromarray(_illustration(96, 128)).save(pages / "a.png")
  Image.fromarray(_illustration()).save(pages / "a.webp")  # same stem as a.png
  result = extract_lineart.extract_lineart_files(
      _config(input=str(pages / "a.png"), output=str(out), max_side=48))
  assert result == {"written": [str(out / "a.png")], "failed": {}}
  with Image.open(out / "a.png") as page:
    assert page.size == (64, 48)  # shorter side 96 -> 48
  result = extract_lineart.extract_lineart_files(
      _config(input=str(pages), output=str(out)))
  assert result["written"] == [str(out / "a.png")]
  assert list(result["failed"]) == [str(pages / "a.webp")]
  assert "already the line art of" in result["failed"][str(pages / "a.webp")]
