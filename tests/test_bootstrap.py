"""The wild cluster bootstrap-t of the CAAR (impact/inference/bootstrap.py; Cameron, Gelbach
& Miller 2008): the t statistic against a hand calculation and statsmodels, the bootstrap
distribution against an exact enumeration of the sign patterns, reproducibility, the
same-date correlation it is built for, and its size under the null."""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact import EventStudy, datasets, load_catalog
from impact.errors import ImpactError
from impact.inference import bootstrap
from impact.inference.bootstrap import (
    MAMMEN,
    bootstrap_from_sums,
    bootstrap_p_values,
    bootstrap_t,
    draw_weights,
    wild_bootstrap,
)
from impact.report.research import research_sections


@pytest.fixture(scope="module")
def real():
    """Real bundled data: four assets and the 2025 events, the market model on the S&P 500."""
    prices = datasets.load_prices(["GSPC", "SPY", "SOXX", "NVDA", "HG_F"])
    return EventStudy(prices, load_catalog().filter(start="2025-01-01", end="2025-12-31"), market="GSPC").fit()


def same_date_panel(n_assets: int = 20, n_dates: int = 10, seed: int = 0, shock: float = 0.005,
                    big: float = 0.06, noise: float = 0.01) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC returns: R_it = beta_i m_t + e_it, e ~ N(0, noise^2), plus on each event date
    a shock u_g ~ N(0, shock^2) common to every asset (not in the market MKT), and ``big``
    more on the fourth date: no true mean effect, one large date."""
    rng = np.random.default_rng(seed)
    first, gap = 280, 15
    T = first + gap * n_dates + 20
    dates = pd.bdate_range("2001-01-02", periods=T)
    m = rng.normal(0.0, 0.01, T)
    beta = rng.uniform(0.5, 1.5, n_assets)
    R = m[:, None] * beta[None, :] + rng.normal(0.0, noise, (T, n_assets))
    rows = first + gap * np.arange(n_dates)
    u = rng.normal(0.0, shock, n_dates)
    u[3] += big
    R[rows, :] += u[:, None]
    frame = pd.DataFrame(R, index=dates, columns=[f"A{i:02d}" for i in range(n_assets)])
    frame["MKT"] = m
    events = pd.DataFrame({"event_id": [f"E{j:02d}" for j in range(n_dates)], "date": dates[rows]})
    return frame, events


def synthetic_result(**options):
    frame, events = same_date_panel(**options)
    return EventStudy.from_returns(frame, events, market="MKT", model="market", estimation_window=(-260, -11),
                                   event_window=(-5, 5), contamination="ignore").fit()


def hand_t(car: np.ndarray, groups: np.ndarray) -> float:
    """Cluster-robust t of the mean by hand: e = car - mean, S_g the cluster sums,
    se^2 = G/(G-1) sum S_g^2 / N^2."""
    mean = car.mean()
    labels = list(dict.fromkeys(groups.tolist()))
    S = np.array([np.sum(car[groups == g] - mean) for g in labels])
    G, N = len(labels), len(car)
    return mean / np.sqrt(G / (G - 1) * np.sum(S**2) / N**2)


@pytest.mark.parametrize("cluster", ["date", "event", "pair"])
def test_t_is_the_cluster_robust_t_by_hand_and_by_statsmodels(real, cluster):
    car = real.car((-1, 1))["car"].to_numpy()
    groups = {"date": pd.to_datetime(real.day0).astype(str).to_numpy(),
              "event": real.pairs["event_id"].astype(str).to_numpy(),
              "pair": np.arange(len(car)).astype(str)}[cluster]
    out = real.bootstrap((-1, 1), draws=99, cluster=cluster)
    assert len(out) == 1 and list(out.columns) == ["window", "caar", "t", "p_value", "draws", "clusters", "cluster",
                                                    "weights", "seed"]
    row = out.iloc[0]
    assert row["caar"] == pytest.approx(car.mean(), abs=1e-15)
    assert row["t"] == pytest.approx(hand_t(car, groups), rel=1e-12)
    assert row["clusters"] == len(set(groups)) and row["window"] == "[-1,1]"
    codes = pd.factorize(groups)[0]
    ols = sm.OLS(car, np.ones(len(car))).fit(cov_type="cluster", cov_kwds={"groups": codes})
    assert row["t"] == pytest.approx(float(ols.tvalues[0]), rel=1e-10)
    if cluster == "pair":  # G = N: the cross-sectional t of Brown & Warner (1985)
        assert row["t"] == pytest.approx(real.caar((-1, 1))["t"].iloc[0], rel=1e-12)
    if cluster == "date":
        assert 2 <= row["clusters"] < len(car)  # assets of one date share a cluster


def test_bootstrap_distribution_is_the_exact_enumeration_of_sign_patterns(real):
    """3 day-0 dates -> 2^3 = 8 Rademacher patterns: every draw's t* is one of the 8 exact
    values, each pattern comes up about 1/8 of the time, and the p-value converges to the
    share of patterns with |t*| >= |t|."""
    dates = pd.to_datetime(real.day0)
    picked = np.flatnonzero(np.isin(dates, pd.unique(dates)[[0, 5, 9]]))
    small = real.take(picked)
    car = small.car((-1, 1))["car"].to_numpy()
    codes = pd.factorize(pd.to_datetime(small.day0))[0]
    assert codes.max() == 2 and len(car) >= 6
    t = hand_t(car, codes)
    exact = []
    for signs in itertools.product([1.0, -1.0], repeat=3):  # car*_i = w_g e_i, t* by hand
        exact.append(hand_t(np.asarray(signs)[codes] * (car - car.mean()), codes))
    exact = np.array(exact)
    sizes = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=car - car.mean())
    patterns = np.array(list(itertools.product([1.0, -1.0], repeat=3)))
    np.testing.assert_allclose(bootstrap_t(sums, sizes, patterns), exact, rtol=1e-12, atol=1e-12)
    share = float(np.mean(np.abs(exact) >= abs(t) - 1e-12))
    draws = 20_000
    w = draw_weights(np.random.default_rng(3), draws, 3)
    hits = (w[:, None, :] == patterns[None, :, :]).all(axis=2)
    assert hits.sum(axis=1).tolist() == [1] * draws  # every draw is one of the 8 patterns
    np.testing.assert_allclose(hits.mean(axis=0), 1 / 8, atol=0.01)
    out = small.bootstrap((-1, 1), draws=draws, seed=3).iloc[0]
    assert out["t"] == pytest.approx(t, rel=1e-12) and out["clusters"] == 3
    assert out["p_value"] == pytest.approx((1 + hits[:, np.abs(exact) >= abs(t) - 1e-12].any(axis=1).sum())
                                           / (1 + draws), abs=1e-12)
    assert abs(out["p_value"] - share) < 0.015  # 4 Monte Carlo standard errors at 20,000 draws


def test_mammen_weights_have_mean_zero_variance_one_third_moment_one():
    low, p_low, high = MAMMEN
    assert low == pytest.approx(-(np.sqrt(5) - 1) / 2) and high == pytest.approx((np.sqrt(5) + 1) / 2)
    assert p_low == pytest.approx((np.sqrt(5) + 1) / (2 * np.sqrt(5)))
    for k, moment in ((1, 0.0), (2, 1.0), (3, 1.0)):
        assert p_low * low**k + (1 - p_low) * high**k == pytest.approx(moment, abs=1e-14)
    w = draw_weights(np.random.default_rng(0), 200_000, 1, "mammen").ravel()
    assert set(np.unique(w)) == {low, high}
    assert np.mean(w == low) == pytest.approx(p_low, abs=0.004)


def test_seeded_reruns_are_identical(real):
    a = real.bootstrap((-1, 1), draws=299, seed=11, weights="mammen")
    pd.testing.assert_frame_equal(a, real.bootstrap((-1, 1), draws=299, seed=11, weights="mammen"))
    pd.testing.assert_frame_equal(a, wild_bootstrap(real, (-1, 1), draws=299, seed=11, weights="mammen"))
    assert a.iloc[0]["seed"] == 11 and a.iloc[0]["weights"] == "mammen" and a.iloc[0]["draws"] == 299
    assert 1 / 300 <= a.iloc[0]["p_value"] <= 1


def test_date_clusters_see_the_same_date_correlation_per_pair_does_not():
    """SYNTHETIC: 20 assets x 10 event dates, a common shock per date and one large date, no
    true effect. Per pair the 200 CARs look like 200 independent draws and the CAAR is
    'significant'; clustered by date there are 10 observations and it is not."""
    result = synthetic_result(seed=0)
    assert len(result.pairs) == 200
    by_date = result.bootstrap((0, 0), draws=999).iloc[0]
    by_pair = result.bootstrap((0, 0), draws=999, cluster="pair").iloc[0]
    assert by_date["clusters"] == 10 and by_pair["clusters"] == 200
    assert by_date["caar"] == by_pair["caar"]
    # Measured (seed 0, 999 draws): date p 0.511 (t 0.85), per-pair p 0.002 (t 3.31).
    assert by_pair["p_value"] < 0.01 < 0.2 < by_date["p_value"]
    assert by_date["p_value"] > by_pair["p_value"]
    assert abs(by_date["t"]) < abs(by_pair["t"]) / 3


def null_cars(n_sims: int, n_dates: int, per_date: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC null CARs: car_ig = u_g + e_ig, u ~ N(0, 1) per date, e ~ N(0, 1): no effect,
    intra-date correlation 0.5. Returns (n_sims, N) CARs and the date of every pair."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(n_dates), per_date)
    return rng.normal(0, 1, (n_sims, n_dates))[:, codes] + rng.normal(0, 1, (n_sims, len(codes))), codes


def test_size_of_the_date_clustered_bootstrap_is_near_nominal():
    """500 SYNTHETIC null samples (10 dates x 20 assets, common date shocks), 199 draws each:
    date-clustered rejections at 5% near 5%, per-pair ones far above (benchmarks/BOOTSTRAP_SIZE.md)."""
    cars, codes = null_cars(500, 10, 20, seed=2026)
    _, _, p_date = bootstrap_p_values(cars, codes, draws=199, seed=1)
    _, _, p_pair = bootstrap_p_values(cars, np.arange(len(codes)), draws=199, seed=1)
    size_date, size_pair = float(np.mean(p_date <= 0.05)), float(np.mean(p_pair <= 0.05))
    # Measured: date 0.042, per pair 0.552 (the first row of benchmarks/BOOTSTRAP_SIZE.md).
    assert 0.02 <= size_date <= 0.09, size_date
    assert size_pair > 0.3, size_pair


def test_vectorised_p_values_equal_the_verb_on_one_sample(real):
    car = real.car((-1, 1))["car"].to_numpy()
    codes = pd.factorize(pd.to_datetime(real.day0))[0]
    caar, t, p = bootstrap_p_values(car[None, :], codes, draws=499, seed=5)
    row = real.bootstrap((-1, 1), draws=499, seed=5).iloc[0]
    assert (caar[0], t[0], p[0]) == (row["caar"], row["t"], row["p_value"])


def test_an_undefined_t_has_an_undefined_p():
    """All CARs equal: se = 0 and t = 0/0 is NaN, so is p (not 1/(1 + draws))."""
    caar, t, p = bootstrap_p_values(np.zeros((1, 6)), np.array([0, 0, 1, 1, 2, 2]), draws=9)
    assert caar[0] == 0 and np.isnan(t[0]) and np.isnan(p[0])


def test_weights_drawn_in_blocks_continue_one_stream(real, monkeypatch):
    """A million pairs with cluster="pair" cannot hold draws x pairs weights at once: the
    weights come in blocks, and one sample's blocks continue one random stream."""
    car = real.car((-1, 1))["car"].to_numpy()
    codes = np.arange(len(car))
    whole = bootstrap_p_values(car[None, :], codes, draws=301, seed=4)
    monkeypatch.setattr(bootstrap, "_BUDGET", 7 * len(car) + 3)  # 7 draws per block
    np.testing.assert_array_equal(bootstrap_p_values(car[None, :], codes, draws=301, seed=4)[2], whole[2])


BAD = [
    (dict(weights="normal"), "unknown bootstrap weights 'normal' (choose from rademacher, mammen)"),
    (dict(cluster="asset"), "unknown bootstrap cluster 'asset' (choose from date, event, pair)"),
    (dict(draws=0), "bootstrap draws must be a whole number >= 1, not 0"),
    (dict(draws=9.5), "bootstrap draws must be a whole number >= 1, not 9.5"),
    (dict(window=(-9, 1)), "window (-9, 1) lies outside the event window (-5, 5)"),
]


@pytest.mark.parametrize("options,message", BAD)
def test_bad_options_are_refused_in_one_line(real, options, message):
    with pytest.raises(ImpactError) as err:
        real.bootstrap(**options)
    assert str(err.value) == message


def test_one_cluster_is_refused(real):
    dates = pd.to_datetime(real.day0)
    one = real.take(np.flatnonzero(dates == dates[0]))
    with pytest.raises(ImpactError) as err:
        one.bootstrap()
    assert str(err.value) == "the bootstrap needs at least 2 clusters (date), this result has 1"
    with pytest.raises(ImpactError) as err:
        real.take([0]).bootstrap(cluster="pair")
    assert str(err.value) == "the bootstrap needs at least 2 clusters (pair), this result has 1"


def test_the_report_section_shows_date_and_pair_clusters(real):
    """A spec's ``bootstrap:`` field (impact/report/research.py) runs this verb on the
    sign-aligned CAAR by direction (the headline's pooled effect), clustered by date and per
    pair; the table is the verb's rows."""
    tables: dict = {}
    out = SimpleNamespace(table=lambda name, frame: tables.__setitem__(name, frame))
    spec = SimpleNamespace(bootstrap={"draws": 99, "seed": 3}, car_windows=[(-1, 1)])
    sections = research_sections(spec, real, real, out)
    assert [s["id"] for s in sections] == ["bootstrap"]
    expected = pd.concat([real.bootstrap((-1, 1), draws=99, seed=3, aligned=True, by="direction"),
                          real.bootstrap((-1, 1), draws=99, seed=3, cluster="pair", aligned=True, by="direction")],
                         ignore_index=True)
    assert set(expected["direction"]) == {"escalation", "de-escalation"}
    assert "sign-aligned" in sections[0]["title"]
    pd.testing.assert_frame_equal(tables["bootstrap"], expected)


@pytest.mark.parametrize("cluster", ["date", "pair"])
def test_sign_aligned_bootstrap_by_direction_by_hand(cluster):
    """Real bundled data, October 2025, bundled sessions: ``aligned=True, by="direction"``
    tests the headline's pooled effect. Per direction the CAAR is caar_aligned's mean (VIX
    and gold flipped, mixed bundles left out), t is the cluster-robust t by hand, and p is
    the bootstrap of that subset alone with the same seed. The plain CAAR over everything
    mixes escalations and de-escalations and is a different (smaller) number."""
    prices = datasets.load_prices(["GSPC", "SOXX", "KWEB", "HG_F", "GC_F", "VIX", "ZS_F"])
    events = load_catalog().filter(start="2025-10-09", end="2025-10-30")
    res = EventStudy(prices, events, market="GSPC", model={"default": "constant_mean", "equity": "market"}).fit()
    res = res.by_bundle()
    out = res.bootstrap((0, 0), draws=499, seed=7, cluster=cluster, aligned=True, by="direction")
    assert list(out["direction"]) == ["escalation", "de-escalation"]
    assert list(out.columns[1:]) == ["window", "caar", "t", "p_value", "draws", "clusters", "cluster", "weights", "seed"]
    cars = res.car((0, 0))
    signs = res.hypotheses
    aligned = (-signs["escalation_sign"] * cars["car"]).to_numpy()
    direction = res.events_frame.set_index("event_id")["direction"].reindex(cars["event_id"]).to_numpy()
    want = res.caar_aligned((0, 0), by="direction").set_index("direction")["caar_aligned"]
    groups = {"date": pd.to_datetime(res.day0).astype(str).to_numpy(),
              "pair": np.arange(len(cars)).astype(str)}[cluster]
    for _, row in out.iterrows():
        use = (direction == row["direction"]) & (signs["hypothesis"].to_numpy() != 0)
        assert row["caar"] == pytest.approx(want[row["direction"]], abs=1e-15)
        assert row["caar"] == pytest.approx(aligned[use].mean(), abs=1e-15)
        assert row["t"] == pytest.approx(hand_t(aligned[use], groups[use]), rel=1e-12)
        assert row["clusters"] == len(set(groups[use]))
        _, _, p = bootstrap_p_values(aligned[use][None, :], pd.factorize(groups[use])[0], draws=499, seed=7)
        assert row["p_value"] == p[0]
    escalation = out.set_index("direction").loc["escalation"]
    assert escalation["caar"] < -0.01            # 10 October: a broad risk-off move
    plain = res.bootstrap((0, 0), draws=499, seed=7, cluster=cluster).iloc[0]
    assert abs(plain["caar"]) < abs(escalation["caar"]) / 2


def test_a_group_with_one_cluster_gets_nan_t_and_p():
    """SYNTHETIC: grouping by event id with date clusters leaves one cluster per group."""
    res = synthetic_result(n_assets=4, n_dates=4)
    out = res.bootstrap((0, 0), draws=9, by="event_id")
    assert len(out) == 4 and (out["clusters"] == 1).all()
    assert out["t"].isna().all() and out["p_value"].isna().all()
    np.testing.assert_allclose(out["caar"], res.caar((0, 0), by="event_id")["caar"], atol=1e-15)


def test_bootstrap_from_per_date_sums_equals_the_bootstrap_on_every_car():
    """The reduce of a partitioned (Dask) study: one CAR sum per date gives the same t and
    p-value as all the CARs (SYNTHETIC CARs with a date effect, 40 dates of uneven size)."""
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 40, 900)
    cars = 0.004 + rng.normal(0, 0.01, 40)[codes] + rng.normal(0, 0.02, 900)
    caar, t, p = bootstrap_p_values(cars, codes, draws=499, seed=5)
    sums, sizes = np.bincount(codes, cars, 40), np.bincount(codes, minlength=40)
    caar2, t2, p2 = bootstrap_from_sums(sums, sizes, draws=499, seed=5)
    np.testing.assert_allclose([caar2[0], t2[0]], [caar[0], t[0]], rtol=1e-12)
    assert p2[0] == p[0] and 0.002 < p[0] < 0.5  # a real effect, not a degenerate p
