"""GAN, feature matching and perceptual losses (paper Eq. 1-4, pix2pixHD weights).

Every function returns PER-EXAMPLE losses, shape (B,), float32: each term is a
mean over the spatial positions and channels of one example. The trainer turns
them into a scalar with `tf.nn.compute_average_loss(per_example, global_batch_size)`
so the result does not depend on the number of replicas.

`real_outputs` / `fake_outputs` are what `MultiScaleDiscriminator` returns: a
list (one per discriminator) of lists of feature maps whose last map is the
logits (for a WGAN critic, its score map).

`gradient_penalty` differentiates the critic, so it needs TensorFlow's tape;
everything else is written in `keras.ops`.
"""

from keras import ops
import tensorflow as tf

from tfcolor.config import ADVERSARIAL_LOSSES


def _per_example_mean(values):
  """(B, ...) -> (B,) float32 mean over everything but the batch."""
  values = ops.cast(values, "float32")
  return ops.mean(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


def _logits(outputs):
  return [ops.cast(features[-1], "float32") for features in outputs]


def _check_kind(kind):
  if kind not in ADVERSARIAL_LOSSES:
    raise ValueError(f"--adversarial_loss must be one of {ADVERSARIAL_LOSSES}, "
                     f"got {kind!r}")


def discriminator_adversarial_loss(real_outputs, fake_outputs, kind="bce"):
  """The discriminators' loss, real + fake term, summed over the discriminators.

  bce:   softplus(-D(real)) + softplus(D(fake))  (log loss on logits, Eq. 1)
  lsgan: (D(real) - 1)^2 + D(fake)^2
  hinge: relu(1 - D(real)) + relu(1 + D(fake))
  wgan_gp: D(fake) - D(real)  (the critic's Wasserstein estimate; add
           `gradient_penalty` and `drift_penalty`, weighted, for WGAN-GP)
  """
  _check_kind(kind)
  total = 0.0
  for real, fake in zip(_logits(real_outputs), _logits(fake_outputs), strict=True):
    if kind == "bce":
      loss_map_real, loss_map_fake = ops.softplus(-real), ops.softplus(fake)
    elif kind == "lsgan":
      loss_map_real, loss_map_fake = ops.square(real - 1.0), ops.square(fake)
    elif kind == "hinge":
      loss_map_real, loss_map_fake = ops.relu(1.0 - real), ops.relu(1.0 + fake)
    else:  # wgan_gp
      loss_map_real, loss_map_fake = -real, fake
    total += _per_example_mean(loss_map_real) + _per_example_mean(loss_map_fake)
  return total


def generator_adversarial_loss(fake_outputs, kind="bce"):
  """The generator's adversarial loss, summed over the discriminators.

  bce:   softplus(-D(fake))  (non-saturating log loss)
  lsgan: (D(fake) - 1)^2
  hinge, wgan_gp: -D(fake)
  """
  _check_kind(kind)
  total = 0.0
  for fake in _logits(fake_outputs):
    if kind == "bce":
      loss_map = ops.softplus(-fake)
    elif kind == "lsgan":
      loss_map = ops.square(fake - 1.0)
    else:
      loss_map = -fake
    total += _per_example_mean(loss_map)
  return total


def drift_penalty(real_outputs):
  """WGAN-GP drift term (Karras et al. 2018, used by Ci et al.): mean D(real)^2.

  Keeps the critic's scores near zero; summed over the critics.
  """
  return sum(_per_example_mean(ops.square(real)) for real in _logits(real_outputs))


def gradient_penalty(critic, lineart, real, fake, alpha):
  """WGAN-GP gradient penalty (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2.

  x_hat = alpha * real + (1 - alpha) * fake per example, with the example's own
  line art as the condition; the gradient is taken with respect to the image
  channels of x_hat. Each critic of a multi-scale discriminator is penalised on
  its own score and the penalties are summed, like the adversarial terms.
  Call inside the critic's tape: the penalty is differentiated again.

  Args:
    critic: callable (B, H, W, 1 + 3) -> discriminator outputs (see module doc).
    lineart: (B, H, W, 1) condition.
    real, fake: (B, H, W, 3) images; `fake` should not carry generator gradients.
    alpha: (B,) interpolation weights in [0, 1].

  Returns:
    (B,) float32 per-example penalty.
  """
  real = tf.cast(real, tf.float32)
  alpha = tf.reshape(tf.cast(alpha, tf.float32), (-1, 1, 1, 1))
  x_hat = alpha * real + (1.0 - alpha) * tf.cast(fake, tf.float32)
  with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
    tape.watch(x_hat)
    outputs = critic(tf.concat([tf.cast(lineart, x_hat.dtype), x_hat], axis=-1))
    # The sum over the batch of each example's mean score: its gradient with
    # respect to x_hat[i] is example i's own gradient (critics are per-example).
    scores = [ops.sum(_per_example_mean(logits)) for logits in _logits(outputs)]
  total = 0.0
  for score in scores:
    grads = tf.cast(tape.gradient(score, x_hat), tf.float32)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    total += tf.square(norms - 1.0)
  del tape
  return total


def feature_matching_loss(real_outputs, fake_outputs):
  """pix2pixHD feature matching (Eq. 3): L1 between real and fake D features.

  Over every discriminator i and every layer j but the logits: mean |D_i^j(real)
  - D_i^j(fake)|, weighted 4 / (n_layers + 1) per layer (n_layers + 1 = the
  number of feature maps before the logits, so 1 for the standard PatchGAN) and
  1 / num_D per discriminator. The real features are constants: the loss trains
  G only.
  """
  num_discriminators = len(real_outputs)
  if num_discriminators != len(fake_outputs):
    raise ValueError(f"feature_matching_loss: {num_discriminators} real and "
                     f"{len(fake_outputs)} fake discriminator outputs")
  total = 0.0
  for real_features, fake_features in zip(real_outputs, fake_outputs):
    num_feature_maps = len(real_features) - 1
    if num_feature_maps < 1:
      raise ValueError("feature_matching_loss: a discriminator output has no feature "
                       "maps before its logits")
    weight = 4.0 / num_feature_maps / num_discriminators
    for real, fake in zip(real_features[:-1], fake_features[:-1], strict=True):
      real = ops.stop_gradient(ops.cast(real, "float32"))
      total += weight * _per_example_mean(ops.abs(real - ops.cast(fake, "float32")))
  return total


def perceptual_loss(real_features, fake_features, layer_weights):
  """VGG19 perceptual loss (Eq. 4): sum_k w_k mean |F_k(real) - F_k(fake)|.

  `*_features` are `PerceptualFeatures` outputs (relu1_1 .. relu5_1); the real
  ones are constants.
  """
  if not len(real_features) == len(fake_features) == len(layer_weights):
    raise ValueError(f"perceptual_loss: {len(real_features)} real and "
                     f"{len(fake_features)} fake feature maps for "
                     f"{len(layer_weights)} layer weights")
  total = 0.0
  for real, fake, weight in zip(real_features, fake_features, layer_weights):
    if not weight:
      # Left out of the graph, so a traced step does not compute the VGG
      # layers that only feed it (the demo's zero-weight deep layers).
      continue
    real = ops.stop_gradient(ops.cast(real, "float32"))
    total += float(weight) * _per_example_mean(ops.abs(real - ops.cast(fake, "float32")))
  return total
