"""Tests for tfcolor.evaluation.fid: the distance, streaming statistics, .npz files."""

import json

import numpy as np
import pytest
from absl.testing import flagsaver

from tfcolor.evaluation import fid


def _random_psd(rng, dim, rank=None):
  factor = rng.normal(size=(dim, rank or dim))
  return factor @ factor.T


def _diagonal_closed_form(mu1, var1, mu2, var2):
  return np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))


def test_diagonal_gaussians_match_closed_form():
  rng = np.random.default_rng(0)
  mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
  var1, var2 = rng.uniform(0.1, 3, 16), rng.uniform(0.1, 3, 16)
  value = fid.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
  np.testing.assert_allclose(value, _diagonal_closed_form(mu1, var1, mu2, var2), rtol=1e-6)


def test_commuting_covariances_match_closed_form():
  # Same eigenvectors: sqrt(s1 s2) = Q sqrt(l1 l2) Q^T.
  rng = np.random.default_rng(1)
  basis, _ = np.linalg.qr(rng.normal(size=(12, 12)))
  eig1, eig2 = rng.uniform(0.1, 5, 12), rng.uniform(0.1, 5, 12)
  sigma1, sigma2 = (basis * eig1) @ basis.T, (basis * eig2) @ basis.T
  mu1, mu2 = rng.normal(size=12), rng.normal(size=12)
  value = fid.frechet_distance(mu1, sigma1, mu2, sigma2)
  np.testing.assert_allclose(value, _diagonal_closed_form(mu1, eig1, mu2, eig2), rtol=1e-6)


def test_rank_deficient_covariances_match_closed_form():
  rng = np.random.default_rng(2)
  basis, _ = np.linalg.qr(rng.normal(size=(10, 10)))
  eig1 = np.r_[rng.uniform(0.5, 4, 4), np.zeros(6)]
  eig2 = np.r_[rng.uniform(0.5, 4, 7), np.zeros(3)]
  sigma1, sigma2 = (basis * eig1) @ basis.T, (basis * eig2) @ basis.T
  mu1, mu2 = rng.normal(size=10), rng.normal(size=10)
  value = fid.frechet_distance(mu1, sigma1, mu2, sigma2)
  np.testing.assert_allclose(value, _diagonal_closed_form(mu1, eig1, mu2, eig2), rtol=1e-6)


def test_general_covariances_match_eigenvalue_formula_and_are_symmetric():
  rng = np.random.default_rng(3)
  sigma1, sigma2 = _random_psd(rng, 8), _random_psd(rng, 8)
  mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
  # tr sqrt(s1 s2) = sum sqrt(eig(s1 s2)); s1 s2 has real non-negative eigenvalues.
  trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(sigma1 @ sigma2).real))
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) - 2 * trace_sqrt
  value = fid.frechet_distance(mu1, sigma1, mu2, sigma2)
  np.testing.assert_allclose(value, expected, rtol=1e-6)
  np.testing.assert_allclose(fid.frechet_distance(mu2, sigma2, mu1, sigma1), value, rtol=1e-9)
  assert abs(fid.frechet_distance(mu1, sigma1, mu1, sigma1)) < 1e-8 * np.trace(sigma1)


def test_singular_covariance_does_not_crash():
  rng = np.random.default_rng(4)
  features = rng.normal(size=(5, 32))  # 5 samples in 32 dims: rank 4.
  sigma = np.cov(features, rowvar=False)
  value = fid.frechet_distance(features.mean(0), sigma, np.zeros(32), np.zeros((32, 32)))
  np.testing.assert_allclose(value, np.sum(features.mean(0) ** 2) + np.trace(sigma), rtol=1e-6)


def test_significant_imaginary_component_raises():
  sigma_bad = np.diag([1.0, -1.0])  # Not PSD: sqrt(s1 s2) is far from real.
  with pytest.raises(ValueError, match="imaginary"):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), sigma_bad)


def test_bad_inputs_are_named():
  with pytest.raises(ValueError, match="mean vectors"):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
  with pytest.raises(ValueError, match="sigma2"):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.full((2, 2), np.nan))


def test_streaming_statistics_equal_batch_statistics_for_uneven_chunks():
  rng = np.random.default_rng(5)
  features = rng.normal(loc=100.0, size=(53, 6)) * rng.uniform(0.1, 10, 6)
  stats = fid.StreamingStatistics()
  start = 0
  for size in (1, 7, 0, 20, 2, 23):
    stats.update(features[start:start + size].astype(np.float32))
    start += size
  assert stats.num == 53
  np.testing.assert_allclose(stats.mean, features.astype(np.float32).mean(0, dtype=np.float64),
                             rtol=1e-12)
  np.testing.assert_allclose(stats.covariance, np.cov(features.astype(np.float32), rowvar=False),
                             rtol=1e-9)

  first, second = fid.StreamingStatistics(), fid.StreamingStatistics()
  first.update(features[:10])
  second.update(features[10:])
  first.merge(second)
  np.testing.assert_allclose(first.covariance, np.cov(features, rowvar=False), rtol=1e-9)


def test_streaming_statistics_reject_wrong_dims_and_too_few_samples():
  stats = fid.StreamingStatistics()
  stats.update(np.zeros((1, 4)))
  with pytest.raises(ValueError, match="at least 2"):
    _ = stats.covariance
  with pytest.raises(ValueError, match="expected 4"):
    stats.update(np.zeros((2, 5)))


def test_stats_round_trip_and_reference_format(tmp_path):
  rng = np.random.default_rng(6)
  mu, sigma = rng.normal(size=4), _random_psd(rng, 4)
  fid.save_stats(str(tmp_path / "a.npz"), mu, sigma, 17)
  loaded = fid.load_stats(str(tmp_path / "a.npz"))
  np.testing.assert_array_equal(loaded.mu, mu)
  np.testing.assert_array_equal(loaded.sigma, sigma)
  assert loaded.num == 17
  np.savez(tmp_path / "ttur.npz", mu=mu, sigma=sigma)  # The reference tools write no count.
  assert fid.load_stats(str(tmp_path / "ttur.npz")).num is None
  np.savez(tmp_path / "bad.npz", mean=mu)
  with pytest.raises(ValueError, match="bad.npz.*sigma"):
    fid.load_stats(str(tmp_path / "bad.npz"))


def test_folder_reading_is_recursive_and_skips_bad_files(tmp_path):
  from PIL import Image  # pylint: disable=import-outside-toplevel

  (tmp_path / "sub").mkdir()
  Image.new("RGB", (8, 6), (10, 20, 30)).save(tmp_path / "a.png")
  Image.new("L", (5, 5), 200).save(tmp_path / "sub" / "b.jpg")
  (tmp_path / "broken.png").write_bytes(b"not a png")
  (tmp_path / "notes.txt").write_text("ignored")

  def extractor(images):
    return np.stack([image.reshape(-1, 3).mean(0) for image in images])

  stats = fid.statistics_from_folder(str(tmp_path), extractor, batch_size=1)
  assert stats.num == 2
  np.testing.assert_allclose(stats.mu, [(10 + 200) / 2, (20 + 200) / 2, (30 + 200) / 2], atol=2)


def test_cli_with_npz_inputs(tmp_path, capsys, fid_cli):
  rng = np.random.default_rng(7)
  mu1, mu2 = rng.normal(size=3), rng.normal(size=3)
  var1, var2 = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 2, 3)
  fid.save_stats(str(tmp_path / "real.npz"), mu1, np.diag(var1), 11)
  np.savez(tmp_path / "fake.npz", mu=mu2, sigma=np.diag(var2))
  argv = ["fid", str(tmp_path / "real.npz"), str(tmp_path / "fake.npz"), "--json"]
  with flagsaver.flagsaver():
    fid_cli.main(fid_cli.FLAGS(argv))
  report = json.loads(capsys.readouterr().out)
  assert report["num_real"] == 11 and report["num_fake"] is None
  np.testing.assert_allclose(report["fid"], _diagonal_closed_form(mu1, var1, mu2, var2),
                             rtol=1e-6)


def test_a_set_against_itself_is_zero_not_negative(caplog):
  # 30 samples in 64 dims: the rounding of sqrt(sigma sigma) puts the raw
  # formula slightly below 0 (about -1.5e-6 here).
  features = np.random.default_rng(0).normal(size=(30, 64))
  sigma, mu = np.cov(features, rowvar=False), features.mean(0)
  trace_sqrt, _ = fid._trace_sqrt_product(sigma, sigma)  # pylint: disable=protected-access
  assert 2 * np.trace(sigma) - 2 * trace_sqrt < 0
  # The absl logger's own level, not only the root's: a library that sets absl's
  # verbosity earlier in the process (an export in another test file) would
  # otherwise drop this INFO line.
  with caplog.at_level("INFO", logger="absl"):
    assert fid.frechet_distance(mu, sigma, mu, sigma) == 0.0
  assert "rounded to 0" in caplog.text
