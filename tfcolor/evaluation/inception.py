"""Inception pool3 feature extractors for FID, two sources behind one interface.

`extractor(images) -> (B, D) float32 numpy`, where `images` is a uint8
(B, H, W, 3) array or a list of uint8 (H, W, 3) arrays of any sizes.

The one resize: every image is resized to 299 x 299 with
`tf.image.resize(..., "bilinear")` (half-pixel centres, no antialiasing) on
[0, 255] float values, before either network sees it.

- `GraphInception(path)`: the frozen 2015 graph `classify_image_graph_def.pb`
  that the TTUR reference FID code uses. As there, the graph is imported under
  the name `FID_Inception_Net`, [0, 255] float images are fed in place of
  `ExpandDims:0` and `FID_Inception_Net/pool_3:0` (B, 1, 1, 2048) is read. The
  graph resizes to 299 itself; on 299 x 299 input that resize is the identity,
  so our resize is the only one. These numbers are comparable with papers.
- `KerasInception(weights="imagenet")`: `keras.applications.InceptionV3`
  (include_top=False, pooling="avg") with its own preprocessing. Its weights
  differ from the 2015 graph: results are NOT comparable with published FIDs.
"""

import os

import numpy as np
import tensorflow as tf

INPUT_SIZE = 299
GRAPH_SCOPE = "FID_Inception_Net"
GRAPH_INPUT = "ExpandDims:0"  # name inside the GraphDef (fed through input_map)
GRAPH_OUTPUT = GRAPH_SCOPE + "/pool_3:0"
KERAS_LABEL = "keras"


def resize_to_input(images):
  """uint8 images (array or list of arrays) -> float32 (B, 299, 299, 3) in [0, 255]."""
  if isinstance(images, np.ndarray) and images.ndim == 4:
    batches = [images]
  else:
    batches = [np.asarray(image)[None] for image in images]
  resized = []
  for batch in batches:
    if batch.ndim != 4 or batch.shape[-1] != 3:
      raise ValueError(f"images must be (B, H, W, 3) RGB, got shape {batch.shape}")
    if batch.dtype != np.uint8:
      raise ValueError(f"images must be uint8 in [0, 255], got {batch.dtype}")
    resized.append(tf.image.resize(tf.cast(batch, tf.float32), (INPUT_SIZE, INPUT_SIZE),
                                   method="bilinear"))
  return tf.concat(resized, axis=0)


class GraphInception:
  """Features from a frozen GraphDef with the TTUR input and pool3 tensor names.

  The feature size is whatever `pool_3` holds (2048 in the real graph; tests
  write a small graph with the same names).
  """

  comparable_with_papers = True

  def __init__(self, path):
    if not os.path.isfile(path):
      raise ValueError(f"--fid_inception={path}: no such file (expected the frozen "
                       "classify_image_graph_def.pb of the 2015 Inception release, or 'keras')")
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
      try:
        graph_def.ParseFromString(f.read())
      except Exception as error:  # protobuf's DecodeError has no stable import path.
        raise ValueError(f"{path}: not a frozen GraphDef ({error})") from error
    node_names = {node.name for node in graph_def.node}
    for tensor in (GRAPH_INPUT, GRAPH_OUTPUT[len(GRAPH_SCOPE) + 1:]):
      if tensor.split(":")[0] not in node_names:
        raise ValueError(f"{path}: the graph has no tensor {tensor!r}; is it the 2015 "
                         "Inception graph (classify_image_graph_def.pb)?")

    def import_graph(images):
      tf.compat.v1.import_graph_def(graph_def, input_map={GRAPH_INPUT: images},
                                    name=GRAPH_SCOPE)

    wrapped = tf.compat.v1.wrap_function(
        import_graph, [tf.TensorSpec([None, INPUT_SIZE, INPUT_SIZE, 3], tf.float32)])
    self._function = wrapped.prune(wrapped.inputs[0],
                                   wrapped.graph.get_tensor_by_name(GRAPH_OUTPUT))
    self.name = path

  def __call__(self, images):
    pool3 = self._function(resize_to_input(images))
    return tf.reshape(pool3, (tf.shape(pool3)[0], -1)).numpy()


class KerasInception:
  """Features from Keras' InceptionV3; `weights=None` gives a random network (tests)."""

  comparable_with_papers = False

  def __init__(self, weights="imagenet"):
    import keras  # pylint: disable=import-outside-toplevel

    self._preprocess = keras.applications.inception_v3.preprocess_input
    self._model = keras.applications.InceptionV3(
        include_top=False, pooling="avg", weights=weights,
        input_shape=(INPUT_SIZE, INPUT_SIZE, 3))
    self._function = tf.function(lambda x: self._model(self._preprocess(x), training=False))
    self.name = KERAS_LABEL

  def __call__(self, images):
    return self._function(resize_to_input(images)).numpy()


def create_feature_extractor(fid_inception, keras_weights="imagenet"):
  """`fid_inception` is 'keras' or the path of classify_image_graph_def.pb."""
  if not fid_inception:
    raise ValueError("--fid_inception is required: the path of classify_image_graph_def.pb "
                     "(comparable with papers) or 'keras'")
  if fid_inception == KERAS_LABEL:
    return KerasInception(keras_weights)
  return GraphInception(fid_inception)
