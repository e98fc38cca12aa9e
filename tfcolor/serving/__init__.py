"""Deployment: load a trained generator, export it, and run the exports.

  model_loading  model_dir (config.json + checkpoints) -> Keras generator
  signature      the serving module: uint8 in, pad to the stride, crop, uint8 out
  export         SavedModel (TF Serving layout) and TFLite conversion
  tflite_runner  runs a .tflite export on images of any size
  hint_files     hint PNG layers and points files -> RGBA hint arrays
  page_scaling   pages over --max_side go through the model scaled down and back
"""
