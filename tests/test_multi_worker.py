"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 train in lockstep.

Each worker runs this file as a script (`python test_multi_worker.py CONFIG
OUTPUT`) with its own TF_CONFIG, trains a few steps through the same loop as
`python -m tfcolor.train --strategy=multi_worker`, and saves its final
weights and metrics; the test compares the two workers.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import trainer_testlib as testlib

NUM_WORKERS = 2
STEPS = 3


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _worker_main(config_path, output_path):
  # pylint: disable=import-outside-toplevel
  import dataclasses
  from absl import logging
  from tfcolor import config as config_lib
  from tfcolor.training import loop

  logging.set_verbosity(logging.INFO)
  with open(config_path) as f:
    sections = json.load(f)
  config = config_lib.ExperimentConfig(**{
      name: config_lib.SECTIONS[name](**{
          key: tuple(value) if isinstance(value, list) else value
          for key, value in values.items()})
      for name, values in sections.items()})
  trainer = loop.Trainer(config)
  result = trainer.run()
  weights = testlib.model_variables(trainer.gan)
  np.savez(output_path, **{name.replace("/", "|"): value
                           for name, value in weights.items()})
  with open(output_path + ".json", "w") as f:
    json.dump({**dataclasses.asdict(result), "is_chief": trainer.is_chief,
               "replicas": trainer.strategy.num_replicas_in_sync}, f)


@pytest.mark.large
def test_two_workers_train_in_lockstep(tmp_path, sample_dataset):
  assert len(sample_dataset.train_files) >= NUM_WORKERS  # One shard per worker.
  model_dir = tmp_path / "run"
  config = testlib.tiny_config(model_dir, sample_dataset.train_files,
                               train_steps=STEPS, global_batch_size=2,
                               strategy="multi_worker", checkpoint_every=2)
  config_path = tmp_path / "config.json"
  from tfcolor import config as config_lib  # pylint: disable=import-outside-toplevel
  config_path.write_text(json.dumps(config_lib.to_dict(config)))
  cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(NUM_WORKERS)]}
  processes, outputs = [], []
  for index in range(NUM_WORKERS):
    env = testlib.python_env()
    env["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                   "task": {"type": "worker", "index": index}})
    output = str(tmp_path / f"worker{index}")
    log = open(tmp_path / f"worker{index}.log", "w")  # pylint: disable=consider-using-with
    processes.append((subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), str(config_path), output],
        cwd=testlib.REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    outputs.append(output)
  try:
    for process, log in processes:
      process.wait(timeout=400)
      log.close()
  finally:
    for process, _ in processes:
      if process.poll() is None:
        process.kill()
  for index, (process, _) in enumerate(processes):
    log_text = (tmp_path / f"worker{index}.log").read_text()
    assert process.returncode == 0, log_text[-4000:]

  results = []
  for output in outputs:
    with open(output + ".json") as f:
      results.append(json.load(f))
  assert [r["is_chief"] for r in results] == [True, False]
  assert all(r["replicas"] == NUM_WORKERS and r["step"] == STEPS for r in results)
  assert results[0]["metrics"] == results[1]["metrics"]  # Reduced over both workers.
  chief = np.load(outputs[0] + ".npz")
  worker = np.load(outputs[1] + ".npz")
  assert chief.files == worker.files
  for name in chief.files:
    np.testing.assert_array_equal(chief[name], worker[name], err_msg=name)

  # Only the chief keeps checkpoints and samples; the worker's copy is gone.
  assert sorted(os.listdir(model_dir / "checkpoints")) == sorted([
      "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
      "ckpt-3.data-00000-of-00001", "ckpt-3.index"])
  assert not [name for name in os.listdir(model_dir) if name.startswith(".tmp")]
  assert (model_dir / "samples" / "final.png").exists()


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  _worker_main(sys.argv[1], sys.argv[2])
