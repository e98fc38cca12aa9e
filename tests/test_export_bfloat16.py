"""tfcolor.export --precision=bfloat16: same uint8 signature, colours within tolerance."""

import os

import numpy as np
import pytest
import tensorflow as tf

import export_testlib as lib
from tfcolor.benchmarks import export_difference
from tfcolor.serving import export, precision, signature


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
  run = lib.shared_run(tmp_path_factory)
  return {name: tf.saved_model.load(path) for name, path in
          (("float32", run.saved_model), ("bfloat16", run.saved_model_bfloat16))}


def _interface(function):
  """(inputs, outputs) of a signature: name -> (dtype, shape)."""
  inputs = {name: (spec.dtype, spec.shape.as_list())
            for name, spec in function.structured_input_signature[1].items()}
  outputs = {name: (spec.dtype, spec.shape.as_list())
             for name, spec in function.structured_outputs.items()}
  return inputs, outputs


@pytest.mark.large
def test_signatures_are_the_float32_exports(exports):
  assert set(exports["bfloat16"].signatures) == set(exports["float32"].signatures)
  for name in (signature.SERVING_SIGNATURE, signature.FLOAT_SIGNATURE):
    assert (_interface(exports["bfloat16"].signatures[name])
            == _interface(exports["float32"].signatures[name]))
  inputs, outputs = _interface(exports["bfloat16"].signatures[signature.SERVING_SIGNATURE])
  assert inputs == {"lineart": (tf.uint8, [None, None, None, 1]),
                    "hints": (tf.uint8, [None, None, None, 4])}
  assert outputs == {"image": (tf.uint8, [None, None, None, 3])}


@pytest.mark.large
@pytest.mark.parametrize("batch_size,height,width", [(2, 32, 48), (1, 45, 77)])
def test_colours_stay_within_the_documented_tolerance(exports, batch_size, height, width):
  lineart, hints = lib.random_inputs(batch_size, height, width, seed=width)
  images = {name: loaded.signatures[signature.SERVING_SIGNATURE](
      lineart=lineart, hints=hints)["image"].numpy() for name, loaded in exports.items()}
  assert images["bfloat16"].shape == (batch_size, height, width, 3)
  difference = export_difference.uint8_difference(images["float32"], images["bfloat16"])
  assert difference["max"] > 0  # it did compute in bfloat16
  assert difference["mean"] <= precision.BFLOAT16_TOLERANCE["mean"], difference
  assert difference["p99"] <= precision.BFLOAT16_TOLERANCE["p99"], difference


@pytest.mark.large
def test_convolutions_store_bfloat16_and_the_vgg_float32(tmp_path_factory):
  run = lib.shared_run(tmp_path_factory)
  reader = tf.train.load_checkpoint(os.path.join(run.saved_model_bfloat16, "variables",
                                                 "variables"))
  dtypes = reader.get_variable_to_dtype_map()
  shapes = reader.get_variable_to_shape_map()
  kernels = {tuple(shapes[name]): dtypes[name] for name in dtypes if len(shapes[name]) == 4}
  vgg_block4_conv4 = (3, 3, 512, 512)  # the hint feature's layer, any model width
  assert kernels.pop(vgg_block4_conv4) == tf.float32
  stem_kernel = (7, 7, 5, lib.TINY_MODEL.stem_filters)
  assert kernels[stem_kernel] == tf.bfloat16


def test_precision_errors_name_the_flag(tmp_path):
  with pytest.raises(ValueError, match="--precision must be one of"):
    export.validate_export_config(export.ExportConfig(
        model_dir=str(tmp_path), export_dir=str(tmp_path / "out"), precision="float16"))
  with pytest.raises(ValueError, match="--precision=bfloat16 applies to the SavedModel"):
    export.validate_export_config(export.ExportConfig(
        model_dir=str(tmp_path), tflite=str(tmp_path / "m.tflite"), precision="bfloat16"))
