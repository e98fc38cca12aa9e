"""Config helpers shared by the functional-subclass models.

Their `get_config` returns the constructor arguments (the constructor rebuilds
the graph), not Functional's layer graph.
"""

import keras


def base_config(model):
  """The Model-level entries every tfcolor model config carries."""
  return {"name": model.name, "trainable": model.trainable,
          "dtype": keras.saving.serialize_keras_object(model.dtype_policy)}


def deserialize_dtype(config):
  """A copy of `config` with a serialised dtype policy turned back into one."""
  config = dict(config)
  if isinstance(config.get("dtype"), dict):
    config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
  return config
