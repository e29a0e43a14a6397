"""The counter-based streams: deterministic per copy, independent of the batch, well distributed.

Float comparisons: uniforms are built exactly from integer hashes (a float32 mantissa and one exact
subtraction), so they are equal bit for bit on every CPU and across batch sizes; the statistical
checks run on these fixed samples (normals add a few ULPs of log/cos/sin), with the measured values
stated at each.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from semcom_envs import streams


def test_copy_draws_do_not_depend_on_batch_size_or_neighbours():
    big = streams.uniforms(streams.episode_key(streams.seed_key(np.arange(10, 50)), 0), np.arange(40), 3, 16)
    one = streams.uniforms(streams.episode_key(streams.seed_key([17]), 0), [7], 3, 16)
    np.testing.assert_array_equal(big[7], one[0])


def test_domains_slots_and_episodes_give_different_numbers():
    k = streams.episode_key(streams.seed_key([1]), 0)
    base = streams.uniforms(k, [0], 0, 8)
    assert not np.array_equal(base, streams.uniforms(k, [0], 1, 8))
    assert not np.array_equal(base, streams.uniforms(k, [1], 0, 8))
    k2 = streams.episode_key(streams.seed_key([1]), 1)
    assert not np.array_equal(base, streams.uniforms(k2, [0], 0, 8))


def test_uniforms_pass_kolmogorov_smirnov_and_lie_in_open_unit_interval():
    u = streams.uniforms(streams.episode_key(streams.seed_key(np.arange(100)), 0), np.zeros(100, np.int64), 0, 500)
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3  # measured 0.63
    # neighbouring copies (seeds s, s+1) are uncorrelated: measured 0.0024; the standard error of a
    # correlation of 99,000 pairs is 0.0032, so 0.01 is 3.1 standard errors.
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 0.01


def test_normals_are_standard_normal():
    z = streams.normals(streams.episode_key(streams.seed_key(np.arange(50)), 0), np.zeros(50, np.int64), 2, 1001)
    assert z.shape == (50, 1001)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3  # measured 0.88


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, "3"])
def test_invalid_seeds_raise(seed):
    with pytest.raises(ValueError, match="seed"):
        streams.seed_key(np.array([seed]))
