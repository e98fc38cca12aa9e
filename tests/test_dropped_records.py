"""Records without the configured line art kind: counted, reported, bounded."""

import dataclasses

import pytest
import tensorflow as tf

from evaluation_testlib import make_run
from tfcolor.config import DataConfig, EvalConfig
from tfcolor.data import input_pipeline, schema
from tfcolor.evaluation import evaluator

NUM_RECORDS = 150


def _write_records(path, source, missing):
  """NUM_RECORDS copies of `source`'s records; those at `missing` lose their line art."""
  originals = [tf.train.Example.FromString(r.numpy())
               for r in tf.data.TFRecordDataset(source)]
  with tf.io.TFRecordWriter(str(path)) as writer:
    for index in range(NUM_RECORDS):
      example = tf.train.Example()
      example.CopyFrom(originals[index % len(originals)])
      example.features.feature[schema.KEY].bytes_list.value[0] = f"{index}".encode()
      if index in missing:
        del example.features.feature[schema.lineart_feature("xdog")]
      writer.write(example.SerializeToString())
  return str(path)


def _data_config(**overrides):
  return DataConfig(crop_size=32, lineart_kinds=("xdog",), lineart_probs=(1.0,),
                    shuffle_buffer=8, **overrides)


@pytest.mark.large
def test_a_few_dropped_records_are_counted_and_reported(sample_dataset, tmp_path, capfd):
  path = _write_records(tmp_path / "a.tfrecord", sample_dataset.train_files[0], {7})
  config = _data_config()
  assert input_pipeline.count_dropped_records(config, path) == (NUM_RECORDS, 1)
  examples = sum(len(batch["key"]) for batch in
                 input_pipeline.make_eval_dataset(config, 16, files=path))
  assert examples == NUM_RECORDS - 1
  assert ("WARNING tfcolor.data: dropped 1 of 8 records so far: no line art of "
          "--lineart_kinds=xdog (files)") in capfd.readouterr().err


@pytest.mark.large
def test_more_than_the_allowed_share_stops_training_and_evaluation(sample_dataset,
                                                                   tmp_path):
  path = _write_records(tmp_path / "a.tfrecord", sample_dataset.train_files[0],
                        {3, 10, 20})
  message = (r"too many records dropped: 2 of (\d+) records so far: no line art of "
             r"--lineart_kinds=xdog.*--max_dropped_fraction=0.01")
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    for _ in input_pipeline.make_eval_dataset(_data_config(), 16, files=path):
      pass
  train = input_pipeline.make_train_dataset(_data_config(train_data=path), 8)
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    for _ in train.take(100):
      pass
  # A higher limit lets them through: 3 drops within the first 100 records are
  # 3% of the (at least) 100 records the share is taken over.
  allowed = _data_config(max_dropped_fraction=0.03)
  assert sum(len(batch["key"]) for batch in input_pipeline.make_eval_dataset(
      allowed, 16, files=path)) == NUM_RECORDS - 3


@pytest.mark.large
def test_evaluation_reports_the_skipped_records(sample_dataset, tmp_path):
  path = _write_records(tmp_path / "a.tfrecord", sample_dataset.test_files[0], {5})
  make_run(tmp_path / "run", sample_dataset.train_files)
  config = EvalConfig(eval_files=path, fid_inception="", max_eval_examples=2,
                      grid_rows=0)
  report = evaluator.evaluate(str(tmp_path / "run"), config)
  assert (report["records_read"], report["records_skipped"]) == (NUM_RECORDS, 1)
  assert "(1 records skipped" in evaluator.summary_line(report)
  worse = _write_records(tmp_path / "b.tfrecord", sample_dataset.test_files[0],
                         set(range(0, NUM_RECORDS, 2)) - {0})
  with pytest.raises(ValueError, match=r"74 of 150 records have no line art of "
                     r"--lineart_kinds=xdog: more than --max_dropped_fraction=0.01"):
    evaluator.evaluate(str(tmp_path / "run"), dataclasses.replace(config, eval_files=worse))
