"""Loss functions: per-example shapes, known values, formulas, gradients."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfcolor.training import losses


def _outputs(logits_value, batch=2, num_discriminators=3, feature_value=0.0):
  """A discriminator output list-of-lists: 4 feature maps + logits per D."""
  return [[tf.fill((batch, 4, 4, 2), feature_value) for _ in range(4)]
          + [tf.fill((batch, 3, 3, 1), logits_value)]
          for _ in range(num_discriminators)]


def test_bce_on_zero_logits_is_log2_per_term_and_discriminator():
  zeros = _outputs(0.0)
  d_loss = losses.discriminator_adversarial_loss(zeros, zeros, "bce")
  g_loss = losses.generator_adversarial_loss(zeros, "bce")
  assert d_loss.shape == (2,) and g_loss.shape == (2,) and d_loss.dtype == tf.float32
  np.testing.assert_allclose(d_loss, [3 * 2 * math.log(2)] * 2, rtol=1e-6)
  np.testing.assert_allclose(g_loss, [3 * math.log(2)] * 2, rtol=1e-6)


def test_bce_is_stable_for_large_logits():
  confident = losses.discriminator_adversarial_loss(_outputs(100.0), _outputs(-100.0), "bce")
  np.testing.assert_allclose(confident, 0.0, atol=1e-6)
  fooled = losses.generator_adversarial_loss(_outputs(-100.0), "bce")
  np.testing.assert_allclose(fooled, 3 * 100.0, rtol=1e-6)


@pytest.mark.parametrize("kind,real,fake,d_expected,g_expected", [
    ("lsgan", 0.5, 0.25, (0.5 - 1) ** 2 + 0.25 ** 2, (0.25 - 1) ** 2),
    ("hinge", 0.5, 0.25, (1 - 0.5) + (1 + 0.25), -0.25),
    ("hinge", 2.0, -3.0, 0.0, 3.0),
])
def test_lsgan_and_hinge_formulas(kind, real, fake, d_expected, g_expected):
  d_loss = losses.discriminator_adversarial_loss(_outputs(real), _outputs(fake), kind)
  g_loss = losses.generator_adversarial_loss(_outputs(fake), kind)
  np.testing.assert_allclose(d_loss, [3 * d_expected] * 2, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(g_loss, [3 * g_expected] * 2, rtol=1e-6, atol=1e-7)


def test_losses_are_per_example():
  logits = tf.concat([tf.zeros((1, 3, 3, 1)), tf.fill((1, 3, 3, 1), 2.0)], axis=0)
  fake = [[logits]]  # one discriminator, logits only
  np.testing.assert_allclose(losses.generator_adversarial_loss(fake, "lsgan"), [1.0, 1.0])
  np.testing.assert_allclose(losses.generator_adversarial_loss(fake, "hinge"), [0.0, -2.0])
  # Mean over positions: one logit of 9 at 3 -> hinge 3/9 for that example only.
  spot = np.zeros((2, 3, 3, 1), "float32")
  spot[1, 0, 0, 0] = -3.0
  np.testing.assert_allclose(losses.generator_adversarial_loss([[spot]], "hinge"),
                             [0.0, 3.0 / 9], rtol=1e-6)


def test_unknown_kind_is_named():
  with pytest.raises(ValueError, match="--adversarial_loss"):
    losses.generator_adversarial_loss(_outputs(0.0), "wgan")


def test_feature_matching_zero_for_identical_and_pix2pixhd_weights():
  real = _outputs(0.0, feature_value=0.7)
  np.testing.assert_allclose(losses.feature_matching_loss(real, real), [0.0, 0.0])
  # |1 - 0| in every map: per D, 4 maps x 4/4 weight x 1/3 -> total 4; logits ignored.
  fake = _outputs(5.0, feature_value=0.0)
  ones = _outputs(-5.0, feature_value=1.0)
  np.testing.assert_allclose(losses.feature_matching_loss(ones, fake), [4.0, 4.0], rtol=1e-6)
  # Two D's with 2 feature maps each: weight 4/2 per layer, 1/2 per D.
  short = lambda value: [[tf.fill((1, 2, 2, 1), value)] * 2 + [tf.zeros((1, 1, 1, 1))]] * 2
  np.testing.assert_allclose(losses.feature_matching_loss(short(0.5), short(0.0)),
                             [2 * 2 * (4 / 2) * 0.5 / 2], rtol=1e-6)


def test_feature_matching_gradient_flows_to_fake_only():
  real = [[tf.Variable(tf.ones((1, 2, 2, 1))), tf.zeros((1, 1, 1, 1))]]
  fake = [[tf.Variable(tf.zeros((1, 2, 2, 1))), tf.zeros((1, 1, 1, 1))]]
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(losses.feature_matching_loss(real, fake))
  real_grad, fake_grad = tape.gradient(loss, [real[0][0], fake[0][0]])
  assert real_grad is None and fake_grad is not None


def test_perceptual_loss_weights_layers():
  real = [tf.ones((2, 4, 4, 3)), tf.ones((2, 2, 2, 5))]
  fake = [tf.zeros((2, 4, 4, 3)), tf.concat([tf.zeros((1, 2, 2, 5)), tf.ones((1, 2, 2, 5))], 0)]
  loss = losses.perceptual_loss(real, fake, (0.25, 1.0))
  np.testing.assert_allclose(loss, [0.25 + 1.0, 0.25], rtol=1e-6)
  with pytest.raises(ValueError, match="layer weights"):
    losses.perceptual_loss(real, fake, (1.0,))


def test_a_zero_weight_perceptual_layer_is_left_out_of_the_loss():
  """Not multiplied by 0 but dropped: its features are not needed at all (so a
  traced step skips the VGG layers that only feed it), and even non-finite
  features there cannot reach the loss or the gradient."""
  real = [tf.ones((2, 4, 4, 3)), tf.ones((2, 2, 2, 5))]
  fake_first = tf.Variable(tf.zeros((2, 4, 4, 3)))
  fake_second = tf.Variable(tf.fill((2, 2, 2, 5), float("inf")))
  with tf.GradientTape() as tape:
    loss = losses.perceptual_loss(real, [fake_first, fake_second], (0.5, 0.0))
    total = tf.reduce_sum(loss)
  np.testing.assert_allclose(loss, [0.5, 0.5], rtol=1e-6)
  first_grad, second_grad = tape.gradient(total, [fake_first, fake_second])
  assert second_grad is None and np.all(np.isfinite(first_grad))


def test_bfloat16_inputs_give_float32_losses():
  outputs = [[tf.zeros((2, 2, 2, 3), tf.bfloat16), tf.zeros((2, 2, 2, 1), tf.float32)]]
  assert losses.feature_matching_loss(outputs, outputs).dtype == tf.float32
  assert losses.generator_adversarial_loss(outputs).dtype == tf.float32


def test_wgan_critic_and_generator_terms_are_the_raw_scores():
  real, fake = _outputs(2.0), _outputs(-0.5)
  np.testing.assert_allclose(losses.discriminator_adversarial_loss(real, fake, "wgan_gp"),
                             [3 * (-0.5 - 2.0)] * 2, rtol=1e-6)
  np.testing.assert_allclose(losses.generator_adversarial_loss(fake, "wgan_gp"),
                             [3 * 0.5] * 2, rtol=1e-6)
  np.testing.assert_allclose(losses.drift_penalty(real), [3 * 4.0] * 2, rtol=1e-6)


def _linear_critic(weights):
  """A 1x1-conv critic on the image channels: its input gradient is known."""
  kernel = tf.constant(np.reshape(weights, (1, 1, 3, 1)), tf.float32)

  def critic(pairs):
    score_map = tf.nn.conv2d(pairs[..., 1:], kernel, strides=1, padding="VALID")
    return [[pairs, score_map]]
  return critic


def test_gradient_penalty_of_a_linear_critic_has_the_closed_form():
  # D(x) = mean over H*W pixels of w . x: the gradient at every pixel is w/(H*W),
  # so its norm over the image is |w| / sqrt(H*W), whatever x_hat is.
  rng = np.random.default_rng(0)
  weights = np.array([3.0, -4.0, 12.0])  # |w| = 13
  size = 4
  real = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
  fake = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
  lineart = np.ones((2, size, size, 1), np.float32)
  penalty = losses.gradient_penalty(_linear_critic(weights), lineart, real, fake,
                                    tf.constant([0.3, 0.9]))
  expected = (13.0 / size - 1.0) ** 2
  np.testing.assert_allclose(penalty, [expected, expected], rtol=1e-5)


def test_gradient_penalty_is_per_example_and_differentiable_in_the_critic():
  kernel = tf.Variable(tf.random.stateless_normal((3, 3, 4, 1), seed=(1, 2)))

  def critic(pairs):
    hidden = tf.nn.conv2d(pairs, kernel, strides=1, padding="SAME")
    return [[hidden, tf.square(hidden)]]  # non-linear: the gradient depends on x

  rng = np.random.default_rng(1)
  real = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
  fake = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
  lineart = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
  alpha = tf.constant([0.2, 0.5, 0.7])
  with tf.GradientTape() as tape:
    together = losses.gradient_penalty(critic, lineart, real, fake, alpha)
    total = tf.reduce_sum(together)
  alone = losses.gradient_penalty(critic, lineart[1:2], real[1:2], fake[1:2], alpha[1:2])
  np.testing.assert_allclose(together[1:2], alone, rtol=1e-5)
  grad = tape.gradient(total, kernel)
  assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0
