"""Dataset building: sample data, line art extraction, sharded TFRecords."""
