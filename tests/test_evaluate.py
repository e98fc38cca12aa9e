"""`tfcolor.evaluation.evaluator` and `python -m tfcolor.evaluate` on tiny runs."""

import json
import math
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from evaluation_testlib import TinyFeatures, make_run
from tfcolor.config import EvalConfig
from tfcolor.evaluation import evaluator
from tfcolor.evaluation import plan as plan_lib
from trainer_testlib import REPO_ROOT, TINY_FLAGS, python_env

STEP = 5
NUMBERS = ("num_examples", "fid", "psnr", "ssim")
HINT_NUMBERS = ("pixel_error", "region_error", "ground_truth_pixel_error",
                "ground_truth_region_error", "examples_with_hints",
                "examples_with_hinted_regions", "examples_without_hints")


@pytest.fixture(scope="module")
def runs(sample_dataset, tmp_path_factory):
  root = tmp_path_factory.mktemp("eval_runs")
  train_files = sample_dataset.train_files
  make_run(root / "csa", train_files, "csa", step=STEP, seed=0)
  make_run(root / "resnet", train_files, "resnet", step=STEP, seed=1)
  return {"csa": str(root / "csa"), "resnet": str(root / "resnet")}


def _assert_same_numbers(first, second, tolerance=1e-5):
  pairs = [(name, first[name], second[name]) for name in NUMBERS]
  pairs += [(name, first["hint_fidelity"][name], second["hint_fidelity"][name])
            for name in HINT_NUMBERS]
  for name, value, other in pairs:
    if value is None or other is None:
      assert value is other, name
    else:
      assert value == pytest.approx(other, rel=tolerance, abs=tolerance), name


@pytest.mark.large
def test_report_grid_and_fid_with_keras_inception(runs):
  config = EvalConfig(split="test", fid_inception="keras", grid_rows=2, eval_batch_size=2)
  report = evaluator.evaluate(runs["csa"], config, keras_weights=None)  # no download

  path = os.path.join(runs["csa"], "eval", "test", f"{STEP}.json")
  with open(path) as f:
    assert json.load(f) == report
  assert {"step", "checkpoint", "split", "files", "num_examples", "fid", "fid_inception",
          "comparable_with_papers", "psnr", "ssim", "hint_fidelity", "inputs_sha256",
          "settings", "grid"} <= set(report)
  assert report["step"] == STEP and report["generator"] == "csa"
  assert report["checkpoint"].endswith(f"ckpt-{STEP}")
  assert [os.path.basename(f) for f in report["files"]] == ["test-00000-of-00001.tfrecord"]
  assert report["num_examples"] == 3 == report["fid_num_real"] == report["fid_num_fake"]
  assert math.isfinite(report["fid"]) and report["fid"] >= 0
  assert report["fid_inception"] == "keras" and report["comparable_with_papers"] is False
  assert report["settings"]["fid_keras_weights"] == "None"
  assert 0 < report["psnr"] < 100 and -1 <= report["ssim"] <= 1
  hints = report["hint_fidelity"]
  assert hints["examples_with_hints"] + hints["examples_without_hints"] == 3
  # Hints are the ground truth's patch means: the truth is close to them, an
  # untrained generator is not.
  assert hints["ground_truth_pixel_error"] < hints["pixel_error"]

  with Image.open(report["grid"]) as grid:
    assert report["grid"] == path[:-len(".json")] + ".png"
    tile = 128  # 32-px crops are enlarged 4x; two rows of tiles, titles on top
    assert grid.size[1] == 14 + 2 * (tile + 2) + 2 and grid.size[0] == 4 * (tile + 2) + 2


@pytest.mark.large
def test_results_do_not_depend_on_batch_size(runs, sample_dataset):
  files = ",".join(sample_dataset.val_files + sample_dataset.test_files)  # 10 examples
  reports = []
  for batch_size in (1, 3):
    extractor = TinyFeatures()
    config = EvalConfig(eval_files=files, fid_inception="tiny", grid_rows=0,
                        eval_batch_size=batch_size)
    reports.append(evaluator.evaluate(runs["resnet"], config, feature_extractor=extractor))
    assert extractor.calls == [10, 10]  # real and fake, in chunks of FID_CHUNK
  assert reports[0]["num_examples"] == 10 and reports[0]["fid"] is not None
  _assert_same_numbers(*reports)
  assert reports[0]["inputs_sha256"] == reports[1]["inputs_sha256"]
  assert reports[0]["settings"] == reports[1]["settings"]  # the batch size is not a setting
  assert reports[1]["grid"] is None


@pytest.fixture(scope="module")
def default_reports(runs):
  """Both runs evaluated on the test split with default settings, no FID."""
  config = EvalConfig(split="test", grid_rows=0)
  return {name: evaluator.evaluate(model_dir, config) for name, model_dir in runs.items()}


@pytest.mark.large
def test_fixed_hints_identical_across_models(default_reports):
  # Across processes and other hints: see the CLI test below.
  csa, resnet = default_reports["csa"], default_reports["resnet"]
  assert csa["fid"] is None and csa["comparable_with_papers"] is None  # FID skipped
  assert csa["inputs_sha256"] == resnet["inputs_sha256"]
  assert csa["psnr"] != resnet["psnr"]  # two different generators


def test_missing_files_and_bad_settings_are_named(runs):
  with pytest.raises(ValueError, match=r"--split=nosuch: no files match .*nosuch-\*"):
    plan_lib.plan_evaluation(runs["csa"], EvalConfig(split="nosuch"))
  with pytest.raises(ValueError, match="--eval_files"):
    plan_lib.plan_evaluation(runs["csa"], EvalConfig(eval_files="/nonexistent/*.tfrecord"))
  with pytest.raises(ValueError, match="--eval_batch_size"):
    plan_lib.plan_evaluation(runs["csa"], EvalConfig(eval_batch_size=0))
  with pytest.raises(ValueError, match="unknown DataConfig fields"):
    plan_lib.plan_evaluation(runs["csa"], EvalConfig(), {"crop": 32})
  with pytest.raises(ValueError, match="--crop_size"):
    plan_lib.plan_evaluation(runs["csa"], EvalConfig(), {"crop_size": 30})


@pytest.mark.large
def test_capped_count_and_reuse_of_reports(runs):
  config = EvalConfig(split="test", max_eval_examples=2, eval_batch_size=3, grid_rows=5)
  assert plan_lib.reusable_report(plan_lib.plan_evaluation(runs["resnet"], config)) is None
  report = evaluator.evaluate(runs["resnet"], config)
  assert report["num_examples"] == 2
  with Image.open(report["grid"]) as grid:
    assert grid.size[1] == 14 + 2 * (128 + 2) + 2  # only the 2 evaluated examples
  assert plan_lib.reusable_report(plan_lib.plan_evaluation(runs["resnet"], config)) == report
  # The batch size and the grid do not change the numbers: still reusable.
  same = EvalConfig(split="test", max_eval_examples=2, eval_batch_size=1, grid_rows=0)
  assert plan_lib.reusable_report(plan_lib.plan_evaluation(runs["resnet"], same)) == report
  for changed in (EvalConfig(split="test", max_eval_examples=3),
                  EvalConfig(split="test", max_eval_examples=2, hint_region_threshold=100),
                  EvalConfig(split="test", max_eval_examples=2, fid_inception="keras")):
    assert plan_lib.reusable_report(plan_lib.plan_evaluation(runs["resnet"], changed)) is None


@pytest.mark.large
def test_cli_uses_the_run_architecture_and_given_data_flags(runs, default_reports,
                                                           tmp_path):
  # The flagfile asks for another generator (ignored: the run is csa) and
  # denser hints (a data flag: overrides the run's).
  flagfile = tmp_path / "eval.cfg"
  flagfile.write_text("\n".join(TINY_FLAGS + ["--generator=resnet",
                                              "--hint_geometric_p=0.04"]) + "\n")
  result = subprocess.run(
      [sys.executable, "-m", "tfcolor.evaluate", f"--flagfile={flagfile}",
       f"--model_dir={runs['csa']}", "--split=test", "--eval_batch_size=2",
       "--grid_rows=1"],
      cwd=REPO_ROOT, env=python_env(), capture_output=True, text=True, timeout=180,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "3 examples of test" in result.stdout and "FID skipped" in result.stdout
  with open(os.path.join(runs["csa"], "eval", "test", f"{STEP}.json")) as f:
    report = json.load(f)
  assert report["generator"] == "csa" and report["eval_batch_size"] == 2
  assert report["settings"]["data"]["hint_geometric_p"] == 0.04
  assert report["settings"]["data"]["crop_size"] == 32  # the run's (also the flagfile's)
  # Another process, same settings: the same inputs and numbers.
  in_process = evaluator.evaluate(runs["csa"], EvalConfig(split="test", grid_rows=0),
                                  {"hint_geometric_p": 0.04})
  assert in_process["inputs_sha256"] == report["inputs_sha256"]
  _assert_same_numbers(in_process, report)
  # The fingerprint covers the hints: denser hints are other inputs.
  assert report["inputs_sha256"] != default_reports["csa"]["inputs_sha256"]
