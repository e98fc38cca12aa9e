"""Evaluation: FID statistics and distance (`fid`), Inception feature extractors (`inception`).

`fid` needs only numpy, absl and Pillow; `inception` imports TensorFlow.
"""
