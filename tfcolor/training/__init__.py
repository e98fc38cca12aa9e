"""Training: the GAN's train_step, strategies, checkpoints, summaries and the loop.

  gan.py            ColorizationGAN (keras.Model) and its train_step
  distribution.py   tf.distribute strategy from --strategy, batch split, chief
  checkpointing.py  CheckpointManager wrapper, config.json, resume checks
  summaries.py      TensorBoard scalars/images, sample grids, log lines
  preemption.py     SIGTERM / Ctrl+C -> save and stop
  preflight.py      fast flag checks before TensorFlow loads
  loop.py           Trainer and train(config), the library entry point
"""
