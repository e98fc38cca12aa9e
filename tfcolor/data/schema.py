"""TFRecord feature names shared by `data_tools` (writer) and `tfcolor.data` (reader).

One tf.train.Example per illustration. Keep these names stable: datasets built
by one version must stay readable by the next.
"""

KEY = "key"  # bytes: unique id of the illustration (its path relative to the input dir).
IMAGE = "image"  # bytes: encoded RGB PNG or JPEG.
LINEART_PREFIX = "lineart/"  # + kind: encoded grayscale PNG, same size as IMAGE.


def lineart_feature(kind):
  """Feature name of one line art kind, e.g. 'lineart/xdog'."""
  return LINEART_PREFIX + kind
