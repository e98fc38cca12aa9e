"""Learning-rate schedules of the optimizers (`--lr_decay_fraction`).

pix2pixHD-style GAN training keeps the rate constant and then lets it fall
linearly to 0, which steadies the end of a run. Keras schedules are functions
of the optimizer's `iterations` variable, which checkpoints save, so a resumed
run continues the schedule where it stopped.
"""

import keras


class ConstantThenLinearDecay(keras.optimizers.schedules.PolynomialDecay):
  """`initial_learning_rate` until `total_steps - decay_steps`, then linear to 0.

  Keras' linear `PolynomialDecay` (power 1, end 0) shifted by the constant part.
  """

  def __init__(self, initial_learning_rate, total_steps, decay_steps, name=None):
    super().__init__(initial_learning_rate, decay_steps, end_learning_rate=0.0,
                     power=1.0, name=name or "ConstantThenLinearDecay")
    self.total_steps = total_steps

  def __call__(self, step):
    hold_steps = self.total_steps - self.decay_steps
    step = keras.ops.cast(step, "float32")
    return super().__call__(keras.ops.maximum(step - hold_steps, 0.0))

  def get_config(self):
    return {"initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps, "decay_steps": self.decay_steps,
            "name": self.name}


def learning_rate(train_config):
  """The optimizers' learning rate: a float, or a schedule if it decays."""
  decay_steps = round(train_config.lr_decay_fraction * train_config.train_steps)
  if decay_steps < 1:
    return train_config.learning_rate
  return ConstantThenLinearDecay(train_config.learning_rate, train_config.train_steps,
                                 decay_steps)
