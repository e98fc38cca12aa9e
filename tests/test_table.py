"""`tfcolor.evaluation.table` and `python -m tfcolor.table` on tiny runs."""

import os
import subprocess
import sys

import pytest

from evaluation_testlib import TinyFeatures, make_run
from tfcolor.config import EvalConfig
from tfcolor.evaluation import evaluator
from tfcolor.evaluation import plan as plan_lib
from tfcolor.evaluation import inception
from tfcolor.evaluation import table
from trainer_testlib import REPO_ROOT, python_env


@pytest.fixture(scope="module")
def runs(sample_dataset, tmp_path_factory):
  root = tmp_path_factory.mktemp("table_runs")
  # Given in the opposite of the paper's row order.
  make_run(root / "ours", sample_dataset.train_files, "csa", step=7, seed=0)
  make_run(root / "no_csa", sample_dataset.train_files, "resnet", step=3, seed=1)
  return [str(root / "ours"), str(root / "no_csa")]


def _parse_markdown(text):
  """Header cells, separator cells and rows of the table at the top of `text`."""
  lines = text.splitlines()
  table_lines = []
  for line in lines:
    if not line.startswith("|"):
      break
    assert line.endswith("|"), line
    table_lines.append([cell.strip() for cell in line[1:-1].split("|")])
  header, separator, *rows = table_lines
  assert all(set(cell) <= set(":-") and "---" in cell for cell in separator)
  assert all(len(row) == len(header) for row in [separator] + rows)
  return header, rows, lines[len(table_lines):]


@pytest.mark.large
def test_table_in_the_paper_layout_with_shared_inception(runs, tmp_path, monkeypatch):
  built = []

  def fake_extractor(fid_inception, keras_weights="imagenet"):
    built.append((fid_inception, keras_weights))
    return TinyFeatures()

  monkeypatch.setattr(inception, "create_feature_extractor", fake_extractor)
  output = tmp_path / "table1.md"
  text = table.write_table(
      table.TableConfig(model_dirs=tuple(runs), output=str(output)),
      EvalConfig(split="test", fid_inception="keras", grid_rows=0), keras_weights=None)
  assert output.read_text() == text
  assert built == [("keras", None)]  # one network for every run

  header, rows, notes = _parse_markdown(text)
  assert header == list(table.COLUMNS)
  by_label = {row[0]: dict(zip(header, row)) for row in rows}
  assert [row[0] for row in rows] == ["Ours w/o module", "Ours"]  # the paper's order
  assert by_label["Ours"]["FID (paper)"] == "9.96"
  assert by_label["Ours w/o module"]["FID (paper)"] == "13.91"
  assert by_label["Ours"]["Step"] == "7" and by_label["Ours w/o module"]["Step"] == "3"
  for row in by_label.values():
    assert row["Examples"] == "3"
    for column in ("FID (ours)", "PSNR", "SSIM", "Hint error, pixels",
                   "Hint error, regions"):
      float(row[column])  # a number, not "—"
  notes = "\n".join(notes)
  assert "NOT comparable" in notes and "'keras'" in notes
  assert "ground truth itself scores" in notes and "WARNING" not in notes


@pytest.mark.large
def test_existing_reports_are_reused_unless_asked(runs, monkeypatch):
  config = EvalConfig(split="test", max_eval_examples=2, grid_rows=0)
  real_evaluate = evaluator.evaluate
  calls = []

  def spy(model_dir, *args, **kwargs):
    calls.append(model_dir)
    return real_evaluate(model_dir, *args, **kwargs)

  monkeypatch.setattr(evaluator, "evaluate", spy)
  first = table.write_table(table.TableConfig(model_dirs=tuple(runs)), config)
  assert sorted(calls) == sorted(runs)
  assert "not computed" in first  # --fid_inception=''

  calls.clear()
  assert table.write_table(table.TableConfig(model_dirs=tuple(runs)), config) == first
  assert not calls  # same steps and settings: nothing ran

  # --reevaluate, or other settings, evaluate again (a stub stands in here).
  monkeypatch.setattr(evaluator, "evaluate", lambda model_dir, *a, **k: calls.append(
      model_dir) or plan_lib.read_report(
          plan_lib.plan_evaluation(model_dir, config).report_path))
  table.write_table(table.TableConfig(model_dirs=tuple(runs), reevaluate=True), config)
  assert sorted(calls) == sorted(runs)
  calls.clear()
  table.write_table(table.TableConfig(model_dirs=runs[:1]),
                    EvalConfig(split="test", max_eval_examples=1, grid_rows=0))
  assert calls == runs[:1]


def _report(model_dir, generator, sha="same", fid=None):
  hints = {"pixel_error": 10.0, "region_error": 20.0, "ground_truth_pixel_error": 1.0,
           "ground_truth_region_error": 2.0}
  return {"model_dir": model_dir, "generator": generator, "step": 1, "split": "test",
          "num_examples": 4, "fid": fid, "fid_inception": "/m/classify_image_graph_def.pb",
          "comparable_with_papers": True, "psnr": 20.0, "ssim": 0.5,
          "hint_fidelity": hints, "inputs_sha256": sha}


def test_labels_for_other_generators_duplicates_and_different_inputs():
  text = table.format_table([
      _report("/runs/my_new_model/", "newgen", fid=3.14159),
      _report("/runs/a", "csa"), _report("/runs/b", "csa", sha="other"),
      _report("/runs/p2p", "pix2pixhd"), _report("/runs/ci", "ci2018")])
  _, rows, notes = _parse_markdown(text)
  assert [row[:3] for row in rows] == [
      ["pix2pixHD", "14.59", "—"], ["Ci et al.", "18.04", "—"], ["Ours (a)", "9.96", "—"],
      ["Ours (b)", "9.96", "—"], ["my_new_model", "—", "3.14"]]
  notes = "\n".join(notes)
  assert "comparable with the paper's figures" in notes and "NOT" not in notes
  assert "WARNING: the rows were scored on different inputs" in notes
  with pytest.raises(ValueError, match="at least one"):
    table.format_table([])


def test_bad_table_settings_are_named(runs):
  with pytest.raises(ValueError, match="--model_dirs is empty"):
    table.write_table(table.TableConfig(model_dirs=()), EvalConfig())
  with pytest.raises(ValueError, match="--checkpoint"):
    table.write_table(table.TableConfig(model_dirs=tuple(runs)),
                      EvalConfig(checkpoint=runs[0] + "/checkpoints/ckpt-7"))


@pytest.mark.large
def test_cli_writes_and_prints_the_table(runs, tmp_path):
  output = tmp_path / "out" / "table1.md"
  result = subprocess.run(
      [sys.executable, "-m", "tfcolor.table", f"--model_dirs={','.join(runs)}",
       f"--output={output}", "--split=test", "--max_eval_examples=1", "--grid_rows=0"],
      cwd=REPO_ROOT, env=python_env(), capture_output=True, text=True, timeout=180,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout == output.read_text()
  header, rows, _ = _parse_markdown(result.stdout)
  assert header[0] == "Method" and [row[0] for row in rows] == ["Ours w/o module", "Ours"]
  assert all(row[header.index("Examples")] == "1" for row in rows)
  assert os.path.exists(os.path.join(runs[0], "eval", "test", "7.json"))
