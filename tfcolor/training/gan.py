"""The colorization GAN as a `keras.Model` with one custom `train_step`.

One iteration (pix2pixHD's order of work, DESIGN.md "Training"):
1. The generator colours the batch once; this fake is reused by both updates.
2. Discriminator update: all discriminators see (line art, real) and
   (line art, stop_gradient(fake)) in one call; one Adam step on D.
3. Generator update: the freshly updated discriminators see (line art, real)
   and (line art, fake) again; G's loss is adversarial + feature matching
   (real features from the same, updated D) + VGG perceptual; one Adam step.
Step 3 re-runs D rather than reusing step 2's outputs so that G is trained
against the D it will next face (one more D forward and backward than
pix2pixHD's simultaneous update); the generator forward is not repeated because
its output is the same before and after the D update.

Two tapes, and each only watches its own network's variables, so nothing
toggles `trainable`. Every term is a per-example loss averaged over the GLOBAL
batch (`tf.nn.compute_average_loss`): the optimizers all-reduce gradients with
SUM over replicas, so the update does not depend on the number of replicas.
The returned metrics follow the same rule, so the trainer sums them over
replicas (`METRIC_REDUCTION`) to get the global-batch mean.
"""

import keras
import tensorflow as tf

from tfcolor.training import losses

# Metrics returned by `train_step`, in a fixed order. Per replica each is the
# replica's share of the global-batch mean: SUM over replicas gives the mean.
LOSS_TERMS = ("d_loss", "g_adversarial", "g_feature_matching", "g_perceptual", "g_loss")
WGAN_GP_TERMS = ("d_gradient_penalty", "d_drift")  # only with --adversarial_loss=wgan_gp
SCORE_TERMS = ("d_real_score", "d_fake_score")
METRIC_NAMES = LOSS_TERMS + SCORE_TERMS
METRIC_REDUCTION = tf.distribute.ReduceOp.SUM


def loss_terms(loss_config):
  """The loss metrics `train_step` returns under `loss_config`, in order."""
  if loss_config.adversarial_loss == "wgan_gp":
    return LOSS_TERMS + WGAN_GP_TERMS
  return LOSS_TERMS


def metric_names(loss_config):
  """Every metric `train_step` returns under `loss_config`, in order."""
  return loss_terms(loss_config) + SCORE_TERMS


def _split_outputs(outputs, batch_size):
  """Splits each feature map of a D called on concat([a, b]) into (a, b) parts."""
  first = [[feature[:batch_size] for feature in scale] for scale in outputs]
  second = [[feature[batch_size:] for feature in scale] for scale in outputs]
  return first, second


def discriminator_scores(outputs, adversarial_loss):
  """Per-example mean score of the discriminators' logits, averaged over D's.

  For the log loss (bce) the score is sigmoid(logit), the probability of
  "real" (1 = sure real). lsgan and hinge have no probability, so the score is
  the raw logit (lsgan's targets are 1 real / 0 fake; hinge's sign says which).
  """
  scores = []
  for scale in outputs:
    logits = tf.cast(scale[-1], tf.float32)
    if adversarial_loss == "bce":
      logits = tf.sigmoid(logits)
    scores.append(tf.reduce_mean(logits, axis=list(range(1, logits.shape.rank))))
  return tf.add_n(scores) / len(scores)


class ColorizationGAN(keras.Model):
  """Holds generator, multi-scale discriminator and VGG perceptual features.

  `call` is the generator, so the GAN colours `{"lineart", "hints"}` like it.
  The trainer (`tfcolor.training.loop`) drives `train_step` with
  `strategy.run` (not `model.fit`, which fails under multi-worker in Keras 3.15).
  """

  def __init__(self, generator, discriminator, perceptual, **kwargs):
    super().__init__(**kwargs)
    self.generator = generator
    self.discriminator = discriminator
    self.perceptual = perceptual

  def compile(self, g_optimizer, d_optimizer, loss_config, global_batch_size, **kwargs):
    """Sets both optimizers, the loss settings and the global batch size.

    Args:
      g_optimizer, d_optimizer: Keras optimizers (a LossScaleOptimizer each for
        mixed_float16), created in the strategy's scope.
      loss_config: `tfcolor.config.LossConfig`.
      global_batch_size: batch over all replicas, the divisor of every loss.
    """
    super().compile(**kwargs)
    self.g_optimizer = g_optimizer
    self.d_optimizer = d_optimizer
    self.loss_config = loss_config
    self.global_batch_size = int(global_batch_size)

  def call(self, inputs, training=False):
    return self.generator(inputs, training=training)

  def build_optimizers(self):
    """Creates the optimizer slots now (in the strategy scope), not in step 1.

    Needed so checkpoints restore optimizer state into existing variables and
    so no variables are created inside a distributed `tf.function`.
    """
    self.g_optimizer.build(self.generator.trainable_variables)
    self.d_optimizer.build(self.discriminator.trainable_variables)

  def _average(self, per_example):
    return tf.nn.compute_average_loss(
        tf.cast(per_example, tf.float32), global_batch_size=self.global_batch_size)

  def _discriminate(self, lineart, real, fake, training):
    """Runs D once on the stacked (real, fake) pairs; returns both halves."""
    batch_size = tf.shape(real)[0]
    pairs = tf.concat([tf.concat([lineart, real], axis=-1),
                       tf.concat([lineart, tf.cast(fake, real.dtype)], axis=-1)], axis=0)
    return _split_outputs(self.discriminator(pairs, training=training), batch_size)

  def train_step(self, batch):
    """One D update then one G update on a (per-replica) batch.

    Returns:
      dict name -> scalar for `metric_names(loss_config)`: each per-example value averaged
      over the global batch (sum these over replicas for the global mean).
    """
    config = self.loss_config
    lineart, image, hints = batch["lineart"], batch["image"], batch["hints"]
    g_vars = self.generator.trainable_variables
    d_vars = self.discriminator.trainable_variables

    with tf.GradientTape(watch_accessed_variables=False) as g_tape:
      g_tape.watch([v.value for v in g_vars])  # the tf.Variables
      fake = self.generator({"lineart": lineart, "hints": hints}, training=True)
      fake = tf.cast(fake, tf.float32)

      with tf.GradientTape(watch_accessed_variables=False) as d_tape:
        d_tape.watch([v.value for v in d_vars])
        real_out, fake_out = self._discriminate(
            lineart, image, tf.stop_gradient(fake), training=True)
        d_loss = self._average(losses.discriminator_adversarial_loss(
            real_out, fake_out, config.adversarial_loss))
        if config.adversarial_loss == "wgan_gp":
          alpha = tf.random.uniform((tf.shape(image)[0],))
          d_penalty = self._average(losses.gradient_penalty(
              lambda pairs: self.discriminator(pairs, training=True), lineart, image,
              tf.stop_gradient(fake), alpha))
          d_drift = self._average(losses.drift_penalty(real_out))
          d_loss += (config.gradient_penalty_weight * d_penalty
                     + config.drift_weight * d_drift)
        d_scaled = self.d_optimizer.scale_loss(d_loss)
      d_grads = d_tape.gradient(d_scaled, d_vars)
      self.d_optimizer.apply(d_grads, d_vars)

      # Separate calls: only the fake half needs a backward pass.
      real_out_g = tf.nest.map_structure(tf.stop_gradient, self.discriminator(
          tf.concat([lineart, image], axis=-1), training=True))
      fake_out_g = self.discriminator(tf.concat([lineart, fake], axis=-1), training=True)
      g_adversarial = self._average(losses.generator_adversarial_loss(
          fake_out_g, config.adversarial_loss))
      g_feature_matching = self._average(losses.feature_matching_loss(
          real_out_g, fake_out_g))
      real_features = [tf.stop_gradient(f) for f in self.perceptual(image)]
      fake_features = self.perceptual(fake)
      g_perceptual = self._average(losses.perceptual_loss(
          real_features, fake_features, config.perceptual_layer_weights))
      g_loss = (config.adversarial_weight * g_adversarial
                + config.feature_matching_weight * g_feature_matching
                + config.perceptual_weight * g_perceptual)
      g_scaled = self.g_optimizer.scale_loss(g_loss)
    g_grads = g_tape.gradient(g_scaled, g_vars)
    self.g_optimizer.apply(g_grads, g_vars)

    metrics = {
        "d_loss": d_loss,
        "g_adversarial": g_adversarial,
        "g_feature_matching": g_feature_matching,
        "g_perceptual": g_perceptual,
        "g_loss": g_loss,
        "d_real_score": self._average(
            discriminator_scores(real_out, config.adversarial_loss)),
        "d_fake_score": self._average(
            discriminator_scores(fake_out, config.adversarial_loss)),
    }
    if config.adversarial_loss == "wgan_gp":
      metrics.update(d_gradient_penalty=d_penalty, d_drift=d_drift)
    return {name: metrics[name] for name in metric_names(config)}
