"""SavedModel export: layout, signatures, agreement with Keras, input checks."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import export_testlib as lib
from tfcolor import config as config_lib
from tfcolor.serving import export, model_loading, saved_model_export, signature


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  run = lib.shared_run(tmp_path_factory)
  return {"root": run.root, "model_dir": run.model_dir, "generator": run.generator,
          "result": run.export_result, "loaded": tf.saved_model.load(run.saved_model)}


def test_layout_is_version_folder_named_after_the_step(exported):
  serving = exported["root"] / "serving"
  assert exported["result"]["step"] == lib.STEP
  assert sorted(os.listdir(serving)) == [str(lib.STEP)]  # no temporary folder left
  assert saved_model_export.choose_version(str(serving), step=lib.STEP) == lib.STEP + 1
  assert saved_model_export.choose_version(str(serving), step=None) == lib.STEP + 1
  with pytest.raises(FileExistsError, match="never overwrite"):
    saved_model_export.choose_version(str(serving), version=lib.STEP)


@pytest.mark.parametrize("batch_size,height,width", [(2, 32, 48), (1, 45, 77)])
def test_saved_model_matches_keras(exported, batch_size, height, width):
  lineart, hints = lib.random_inputs(batch_size, height, width, seed=height)
  reference = lib.keras_reference(exported["generator"], lineart, hints)
  signatures = exported["loaded"].signatures
  image_float = signatures[signature.FLOAT_SIGNATURE](lineart=lineart, hints=hints)
  image_uint8 = signatures[signature.SERVING_SIGNATURE](lineart=lineart, hints=hints)
  image_float = image_float["image"].numpy()
  image_uint8 = image_uint8["image"].numpy()
  assert image_float.shape == (batch_size, height, width, 3)
  assert image_uint8.dtype == np.uint8 and image_uint8.shape == image_float.shape
  assert np.abs(image_float - reference).max() < 1e-4
  reference_uint8 = np.round((reference + 1) * 127.5).clip(0, 255)
  assert np.abs(image_uint8.astype(np.int32) - reference_uint8).max() <= 1


def test_each_weight_is_stored_once(exported):
  # keras.export.ExportArchive.track(model) made the SavedModel save every
  # weight twice (Keras variable and tf.Variable); only the used ones, once.
  stored = tf.train.list_variables(
      os.path.join(exported["result"]["saved_model"], "variables", "variables"))
  stored_values = sum(int(np.prod(shape)) for _, shape in stored)
  assert stored_values <= exported["generator"].count_params()


def test_odd_paper_size_comes_back_at_the_same_size(exported):
  lineart, hints = lib.random_inputs(1, 333, 517, seed=3)
  image = exported["loaded"].signatures[signature.SERVING_SIGNATURE](
      lineart=lineart, hints=hints)["image"]
  assert image.shape == (1, 333, 517, 3)


def test_hints_alpha_marks_hinted_pixels():
  hints = np.array([[[[255, 0, 0, 0], [255, 0, 0, 1], [0, 255, 255, 255]]]], np.uint8)
  model_hints = signature.hints_to_model(hints).numpy()[0, 0]
  np.testing.assert_allclose(model_hints, [[0, 0, 0, 0], [1, -1, -1, 1], [-1, 1, 1, 1]])
  lineart = signature.lineart_to_model(np.array([0, 255], np.uint8)).numpy()
  np.testing.assert_allclose(lineart, [-1, 1])


def test_mismatched_sizes_fail_naming_the_inputs(exported):
  lineart, hints = lib.random_inputs(1, 32, 32)
  serve = exported["loaded"].signatures[signature.SERVING_SIGNATURE]
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="inputs lineart and hints must have the same"):
    serve(lineart=lineart, hints=hints[:, :16])


def test_wrong_rank_or_channels_fail_naming_the_input(exported):
  lineart, hints = lib.random_inputs(1, 32, 32)
  serve = exported["loaded"].signatures[signature.SERVING_SIGNATURE]
  with pytest.raises((TypeError, ValueError), match="lineart"):
    serve(lineart=np.repeat(lineart, 3, -1), hints=hints)
  with pytest.raises((TypeError, ValueError), match="hints"):
    serve(lineart=lineart, hints=hints[0])
  # Looser traced specs hit the in-graph checks, with the same names.
  loose = tf.function(lambda a, b: signature.check_inputs(a, b))
  with pytest.raises(tf.errors.InvalidArgumentError, match="input lineart must have 1"):
    loose(np.repeat(lineart, 3, -1), hints)
  with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="hints"):
    loose(lineart, hints[0])


def test_rank_3_and_an_empty_batch_fail_in_the_graph_naming_the_input(exported):
  # Tensors reach the graph whatever the signature's specs say (as in TF
  # Serving); numpy arrays are checked against the specs first (above).
  lineart, hints = lib.random_inputs(1, 32, 32)
  serve = exported["loaded"].signatures[signature.SERVING_SIGNATURE]
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"input lineart must be \[batch, height, width, 1\].*32 32 1"):
    serve(lineart=tf.constant(lineart[0]), hints=tf.constant(hints))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"input hints must be \[batch, height, width, 4\]"):
    serve(lineart=tf.constant(lineart), hints=tf.constant(hints[0]))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"input lineart has an empty batch \(batch size 0\)"):
    serve(lineart=tf.constant(lineart[:0]), hints=tf.constant(hints[:0]))


@pytest.mark.large
def test_saved_model_cli_show_and_run(exported, tmp_path):
  path = exported["result"]["saved_model"]
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  shown = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True,
                         text=True, check=True).stdout
  serving = shown[shown.index("signature_def['serving_default']"):]
  for expected in ("inputs['lineart']", "inputs['hints']", "outputs['image']",
                   "DT_UINT8", "shape: (-1, -1, -1, 1)", "shape: (-1, -1, -1, 4)"):
    assert expected in serving, (expected, serving)
  assert "signature_def['colorize_float']" in shown

  np.save(tmp_path / "lineart.npy", np.full((1, 21, 35, 1), 255, np.uint8))
  np.save(tmp_path / "hints.npy", np.zeros((1, 21, 35, 4), np.uint8))
  outdir = tmp_path / "cli_out"
  run = subprocess.run(
      [cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
       "serving_default", "--inputs",
       f"lineart={tmp_path / 'lineart.npy'};hints={tmp_path / 'hints.npy'}",
       "--outdir", str(outdir)], capture_output=True, text=True, check=False)
  assert run.returncode == 0, run.stderr[-3000:]
  image = np.load(outdir / "image.npy")
  assert image.shape == (1, 21, 35, 3) and image.dtype == np.uint8


def test_config_from_dict_round_trips():
  config = config_lib.ExperimentConfig(model=lib.TINY_MODEL)
  values = json.loads(json.dumps(config_lib.to_dict(config)))
  assert config_lib.from_dict(values) == config


def test_load_generator_errors_name_the_problem(exported, tmp_path):
  with pytest.raises(FileNotFoundError, match="config.json"):
    model_loading.load_generator(str(tmp_path))
  with pytest.raises(FileNotFoundError, match="--checkpoint"):
    model_loading.load_generator(exported["model_dir"], str(tmp_path / "ckpt-1"))
  with pytest.raises(ValueError, match="nothing to do"):
    export.run_export(export.ExportConfig(model_dir=exported["model_dir"]))
