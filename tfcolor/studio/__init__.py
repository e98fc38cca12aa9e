"""The colouring studio: a local web page to paint hints on line art and see the colours.

  python -m tfcolor.studio --model=runs/demo

  settings   StudioSettings: every setting of the server (each is also a flag)
  backends   one small class per model kind (model_dir, SavedModel, .tflite)
  uploads    uploaded bytes -> line art / hint arrays, PNG answers
  gate       one model call at a time, a few waiting, the rest answered "busy"
  app        create_app(backend, settings): the FastAPI app, its middleware
  routes/    the API by concern: colorize (+ attention), lineart, health
  static/    the page: plain ES modules, no build step
  server     uvicorn on a host and port (foreground, or a thread for tests)
"""
