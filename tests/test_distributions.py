"""``experiments.distributions`` gives exactly what ``scipy.stats`` gives, without importing it."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from experiments.distributions import (
    chisquare_p_value,
    norm_cdf,
    norm_pdf,
    norm_ppf,
    t_cdf,
    t_ppf,
    t_ppf_array,
    t_sf,
    t_sf_array,
)
from experiments.spec import ExperimentSpec, write_experiment
from tests.fixtures import ROOT
from tests.test_experiments_analysis import spec_dict
from tests.test_metrics_reference import random_session, write_events

DOFS = [1, 2.5, 4, 9.7, 30, 1e6, math.inf]


@pytest.mark.parametrize("dof", DOFS)
def test_t_matches_scipy_to_the_bit(dof):
    for x in [0.0, 0.3, 1.96, 4.0, 40.0, math.inf]:
        assert t_sf(x, dof) == stats.t.sf(x, dof)
    for x in [-40.0, -1.96, 0.0, 0.3, 4.0, math.inf]:
        assert t_cdf(x, dof) == stats.t.cdf(x, dof)
    for q in [0.5, 0.9, 0.975, 0.995, 0.9995]:
        assert t_ppf(q, dof) == stats.t.ppf(q, dof)


def test_t_on_arrays_matches_scipy_to_the_bit():
    """The sequential test's arrays: NaN stays NaN, infinite dof is the normal."""
    dof = np.array([1.0, 2.5, 9.7, 1e6, np.inf, 30.0, 4.0])
    x = np.array([0.3, 1.96, np.nan, 4.0, 2.0, np.inf, 0.0])
    assert np.array_equal(t_sf_array(x, dof), stats.t.sf(x, dof), equal_nan=True)
    assert np.array_equal(t_ppf_array(0.975, dof), stats.t.ppf(0.975, dof))


def test_normal_matches_scipy_to_the_bit():
    for mu in np.linspace(-8, 8, 401):
        for sd in (0.01, 0.7, 1.0, 3.0):
            z = float(mu / sd)
            assert norm_cdf(z) == stats.norm.cdf(z)
            assert norm_pdf(z) == stats.norm.pdf(z)
            # the chance-to-win form used by experiments.bayesian
            assert norm_cdf(float(mu) / sd) == stats.norm.sf(0.0, loc=float(mu), scale=sd)


def test_normal_quantile_matches_scipy_to_the_bit():
    for q in (0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.9999):
        assert norm_ppf(q) == stats.norm.ppf(q)


def test_chisquare_matches_scipy_to_the_bit():
    rng = np.random.default_rng(3)
    for _ in range(300):
        k = int(rng.integers(2, 13))
        observed = rng.integers(0, 60, k).astype(float)
        if observed.sum() == 0:
            continue
        expected = list(rng.dirichlet(np.ones(k)) * observed.sum())
        want = stats.chisquare(list(observed), expected).pvalue
        assert chisquare_p_value(list(observed), expected) == want


def test_analyze_json_imports_neither_scipy_stats_nor_pandas(lab):
    """`experiment analyze --json` pays neither import (0.45 s and 0.25 s of its time)."""
    spec = ExperimentSpec.model_validate(spec_dict("exp-imports", "store"))
    write_experiment(lab, spec)
    rng = random.Random(5)
    write_events(lab, [e for _ in range(60) for e in random_session(rng, spec.id)], spec.id)
    code = (
        "import json, sys, runpy\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "cli = sys.argv[3]\n"
        "sys.argv = ['cli.py', 'experiment', 'analyze', 'exp-imports', '--lab', sys.argv[2],"
        " '--json']\n"
        "try:\n"
        "    runpy.run_path(cli, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m for m in ('scipy.stats', 'pandas') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(lab.root), str(ROOT / "cli.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"experiment": "exp-imports"' in out.stdout  # the analysis ran
    assert out.stdout.strip().splitlines()[-1] == "[]"
