"""Training: the losses, the GAN's train_step, strategies, checkpoints, progress, the loop.

  losses.py         adversarial, feature matching and perceptual losses
  gan.py            ColorizationGAN (keras.Model) and its train_step
  distribution.py   tf.distribute strategy from --strategy, batch split, chief
  checkpointing.py  CheckpointManager wrapper, resume checks
  progress.py       TensorBoard scalars/images, log lines, metric averages
  preemption.py     SIGTERM / Ctrl+C -> save and stop
  preflight.py      fast flag checks before TensorFlow loads
  gan_builder.py    the GAN and its optimizers from an ExperimentConfig
  schedules.py      learning-rate schedule of both optimizers (--lr_decay_fraction)
  nan_guard.py      stop on a NaN or infinite loss, without saving
  loop.py           Trainer and train(config), the library entry point
"""
