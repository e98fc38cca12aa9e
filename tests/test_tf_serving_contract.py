"""What docs/deployment.md promises TF Serving clients, tested with the real serving API.

No `tensorflow_model_server` binary can be installed here, so a small
`PredictionService` stands in for it: it loads the export with the
session-based loader TF Serving uses (`tf.compat.v1.saved_model.loader.load`,
feeding and fetching the signature's tensor names) and answers gRPC `Predict`
calls on a loopback port. The client side is exactly a TF Serving client:
`tensorflow-serving-api`'s `PredictRequest` and `PredictionServiceStub`.
"""

from concurrent import futures
import json
import os
import re

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

import export_testlib as lib

_DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "docs", "deployment.md")


class _SessionPredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
  """Predict through a TF1 session on the loaded SavedModel, as TF Serving does."""

  def __init__(self, export_dir):
    self._graph = tf.Graph()
    self._session = tf.compat.v1.Session(graph=self._graph)
    with self._graph.as_default():
      meta_graph = tf.compat.v1.saved_model.loader.load(
          self._session, [tf.compat.v1.saved_model.tag_constants.SERVING], export_dir)
    self._signatures = meta_graph.signature_def

  def Predict(self, request, context):  # pylint: disable=invalid-name
    name = request.model_spec.signature_name or "serving_default"
    signature = self._signatures[name]
    feeds = {signature.inputs[key].name: tf.make_ndarray(tensor)
             for key, tensor in request.inputs.items()}
    keys = sorted(signature.outputs)
    try:
      values = self._session.run([signature.outputs[key].name for key in keys], feeds)
    except tf.errors.OpError as error:
      context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for key, value in zip(keys, values):
      response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
    return response

  def close(self):
    self._session.close()


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
  run = lib.shared_run(tmp_path_factory)
  service = _SessionPredictionService(run.saved_model)
  server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
  prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
  port = server.add_insecure_port("127.0.0.1:0")
  server.start()
  channel = grpc.insecure_channel(f"127.0.0.1:{port}")
  yield {"stub": prediction_service_pb2_grpc.PredictionServiceStub(channel),
         "generator": run.generator}
  channel.close()
  server.stop(grace=None)
  service.close()


def _request(inputs):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = "tfcolor"
  request.model_spec.signature_name = "serving_default"
  for key, value in inputs.items():
    request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
  return request


def _assert_matches_keras(generator, inputs, response):
  image = tf.make_ndarray(response.outputs["image"])
  assert image.dtype == np.uint8 and image.shape == inputs["lineart"].shape[:3] + (3,)
  reference = lib.keras_reference(generator, inputs["lineart"], inputs["hints"])
  assert np.abs(image.astype(np.int32) - np.round((reference + 1) * 127.5)).max() <= 1


def test_grpc_predict_matches_the_keras_model(serving):
  lineart, hints = lib.random_inputs(2, 21, 35, seed=3)
  inputs = {"lineart": lineart, "hints": hints}
  response = serving["stub"].Predict(_request(inputs), timeout=120)
  _assert_matches_keras(serving["generator"], inputs, response)


def test_the_documented_rest_body_gives_the_same_call(serving):
  with open(_DOCS, encoding="utf-8") as f:
    docs = f.read()
  body = json.loads(re.search(r"REST request body.*?```json\n(.*?)```", docs,
                              re.DOTALL).group(1))
  assert body["signature_name"] == "serving_default"
  inputs = {key: np.asarray(value, np.uint8) for key, value in body["inputs"].items()}
  assert inputs["lineart"].shape == (1, 2, 2, 1) and inputs["hints"].shape == (1, 2, 2, 4)
  response = serving["stub"].Predict(_request(inputs), timeout=120)
  _assert_matches_keras(serving["generator"], inputs, response)


def test_an_input_error_is_named_over_grpc(serving):
  lineart, hints = lib.random_inputs(1, 16, 16)
  with pytest.raises(grpc.RpcError) as error:
    serving["stub"].Predict(_request({"lineart": lineart[:0], "hints": hints[:0]}),
                            timeout=120)
  assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert "input lineart has an empty batch (batch size 0)" in error.value.details()
