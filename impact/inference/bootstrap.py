"""The wild cluster bootstrap-t of the CAAR (Cameron, Gelbach & Miller 2008) for
events that hit many assets on the same date.

One announcement moves every asset of its day-0 session together, so the CARs of
that date are correlated and a cross-sectional t (Brown & Warner 1985) overstates
precision. Here the CAAR is the intercept of a regression of the pairs' CARs on a
constant, tested with a cluster-robust t,

    CAAR = (1/N) sum_i car_i,   e_i = car_i - CAAR,   S_g = sum_{i in g} e_i,
    se^2 = G/(G-1) * sum_g S_g^2 / N^2,   t = CAAR / se,

(the CR1 small-sample factor G/(G-1) (N-1)/(N-K) with K = 1, as Stata and
statsmodels' ``cov_type="cluster"``), and the distribution of t under the null is
drawn by the wild cluster bootstrap: one weight w_g per cluster,

    car*_i = w_g(i) e_i   (mean zero: the null CAAR = 0 holds in the bootstrap world),

and t* is recomputed on car* exactly as t on car. The two-sided p-value is

    p = (1 + #{b : |t*_b| >= |t|}) / (1 + B)

(B = ``draws``; the Monte Carlo p-value of Davison & Hinkley 1997, never 0).

Weights: ``"rademacher"`` +1 or -1 with probability 1/2 (Cameron, Gelbach & Miller
2008), or ``"mammen"`` -(sqrt5-1)/2 with probability (sqrt5+1)/(2 sqrt5), else
(sqrt5+1)/2 (Mammen 1993: mean 0, variance 1, third moment 1).

Clusters: ``"date"`` the day-0 session (all assets of one date together, robust to
same-date correlation), ``"event"`` the event id, ``"pair"`` each pair alone (the
per-pair wild bootstrap of peers such as R's EventStudy; with G = N its t is the
cross-sectional t, and it is *not* robust to same-date correlation).

References: Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008), "Bootstrap-based
improvements for inference with clustered errors", REStat 90(3); Mammen, E. (1993),
"Bootstrap and wild bootstrap for high dimensional linear models", Annals of
Statistics 21(1); Davison, A. C. & Hinkley, D. V. (1997), Bootstrap Methods and
their Application, ch. 4.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..study.extensions import extend
from ..study.windows import Window

WEIGHTS = ("rademacher", "mammen")
CLUSTERS = ("date", "event", "pair")
COLUMNS = ["window", "caar", "t", "p_value", "draws", "clusters", "cluster", "weights", "seed"]

_SQRT5 = np.sqrt(5.0)
#: Mammen's (1993) two-point distribution: the low value, its probability, the high value.
MAMMEN = (-(_SQRT5 - 1) / 2, (_SQRT5 + 1) / (2 * _SQRT5), (_SQRT5 + 1) / 2)
_BUDGET = 2_000_000  # weights drawn at a time


def draw_weights(rng: np.random.Generator, draws: int, n_clusters: int, weights: str = "rademacher") -> np.ndarray:
    """(draws, n_clusters) wild-bootstrap weights, one per cluster and draw."""
    u = rng.random((draws, n_clusters))
    if weights == "rademacher":
        return np.where(u < 0.5, 1.0, -1.0)
    low, p_low, high = MAMMEN
    return np.where(u < p_low, low, high)


def cluster_t(sums: np.ndarray, sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """t = mean / cluster-robust s.e. from cluster sums (..., G) of y_i and their means (...).

    ``sums`` holds sum_{i in g} y_i; the residual sums are S_g - n_g mean, so
    se^2 = G/(G-1) sum_g (S_g - n_g mean)^2 / N^2 (CR1 with one regressor)."""
    n_clusters = sums.shape[-1]
    n = sizes.sum()
    resid = sums - sizes * np.asarray(means)[..., None]
    var = n_clusters / (n_clusters - 1) * np.sum(resid**2, axis=-1) / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(means) / np.sqrt(var)


def bootstrap_t(sums: np.ndarray, sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """t*_b for weight rows w (B, G) on residual cluster sums S_g: car*_i = w_g e_i, so the
    bootstrap cluster sums are w_g S_g and their mean sum_g w_g S_g / N."""
    star = w * sums
    return cluster_t(star, sizes, star.sum(axis=-1) / sizes.sum())


def bootstrap_p_values(cars: np.ndarray, codes: np.ndarray, draws: int = 999, seed: int = 0,
                       weights: str = "rademacher") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(caar, t, p) of S CAR vectors (S, N) sharing one cluster structure ``codes`` (N,), each
    with ``draws`` wild-bootstrap draws from ``np.random.default_rng(seed)`` (a few million
    weights at a time). Vectorised: the size simulations run it on thousands of
    null samples (benchmarks/bootstrap_size.py); :func:`wild_bootstrap` on one."""
    cars = np.atleast_2d(np.asarray(cars, dtype=float))
    n_clusters = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_clusters).astype(float)
    raw = np.zeros((len(cars), n_clusters))  # cluster sums of every vector, (S, G)
    np.add.at(raw.T, codes, cars.T)
    return bootstrap_from_sums(raw, sizes, draws, seed, weights, caar=cars.mean(axis=1))


def bootstrap_from_sums(raw: np.ndarray, sizes: np.ndarray, draws: int = 999, seed: int = 0,
                        weights: str = "rademacher", caar: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`bootstrap_p_values` from the cluster sums (S, G) of the CARs and the cluster sizes (G,):
    all it needs, so partitions of a study (e.g. Dask tasks, benchmarks/dask_bench.py) can send
    one sum per date and the client draws the same bootstrap as from every CAR (``caar``, the
    CARs' means when known, else sum / N: equal up to rounding)."""
    raw = np.atleast_2d(np.asarray(raw, dtype=float))
    sizes = np.asarray(sizes, dtype=float)
    n_clusters = len(sizes)
    caar = raw.sum(axis=1) / sizes.sum() if caar is None else caar
    t = cluster_t(raw, sizes, caar)
    resid = raw - sizes * caar[:, None]  # cluster sums of e_i = car_i - CAAR
    rng = np.random.default_rng(seed)
    hits = np.zeros(len(raw))
    # At most ~2 million weights at a time (a million pairs with cluster="pair" would
    # otherwise need draws x 1e6 of them); consecutive blocks continue one random stream.
    block = max(1, _BUDGET // (draws * n_clusters))
    for lo in range(0, len(raw), block):
        hi = min(lo + block, len(raw))
        step = max(1, _BUDGET // ((hi - lo) * n_clusters))
        for d0 in range(0, draws, step):
            d1 = min(d0 + step, draws)
            w = draw_weights(rng, (hi - lo) * (d1 - d0), n_clusters, weights).reshape(hi - lo, d1 - d0, n_clusters)
            t_star = bootstrap_t(resid[lo:hi, None, :], sizes, w)
            hits[lo:hi] += np.sum(np.abs(t_star) >= np.abs(t[lo:hi])[:, None], axis=1)
    p = np.where(np.isnan(t), np.nan, (1.0 + hits) / (1.0 + draws))  # t undefined (all CARs equal): p too
    return caar, t, p


def cluster_codes(result, cluster: str) -> np.ndarray:
    """(P,) cluster number of every pair: its day-0 date, its event id, or itself."""
    if cluster == "date":
        return pd.factorize(pd.to_datetime(result.day0))[0] if len(result.pairs) else np.zeros(0, dtype=np.int64)
    if cluster == "event":
        return pd.factorize(result.pairs["event_id"].astype(str))[0]
    return np.arange(len(result.pairs))


def check_options(draws: int, weights: str, cluster: str) -> None:
    if weights not in WEIGHTS:
        raise ImpactError(f"unknown bootstrap weights {weights!r} (choose from {', '.join(WEIGHTS)})")
    if cluster not in CLUSTERS:
        raise ImpactError(f"unknown bootstrap cluster {cluster!r} (choose from {', '.join(CLUSTERS)})")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ImpactError(f"bootstrap draws must be a whole number >= 1, not {draws!r}")


def wild_bootstrap(result, window: Window = (-1, 1), draws: int = 999, seed: int = 0, weights: str = "rademacher",
                   cluster: str = "date", aligned: bool = False, by: str | None = None) -> pd.DataFrame:
    """Wild cluster bootstrap-t of the CAAR over ``window`` (Cameron, Gelbach & Miller 2008;
    Mammen 1993 weights with ``weights="mammen"``); see the module docs for the formulas.

    One row: ``window, caar, t`` (the cluster-robust t), ``p_value`` (two-sided,
    (1 + #{|t*| >= |t|}) / (1 + draws)), ``draws``, ``clusters`` (their number),
    ``cluster``, ``weights``, ``seed``. The draws come from ``np.random.default_rng(seed)``:
    the same seed gives the same p-value.

    ``aligned=True`` bootstraps the sign-aligned CAAR of :meth:`EventStudyResult.caar_aligned`
    (CARs of assets expected to rise on an escalation flipped; pairs without a hypothesis,
    such as mixed bundles, left out): pooled over assets that react in opposite directions,
    or over escalations and de-escalations, the plain CAAR cancels and says "no effect".
    ``by`` (e.g. ``"direction"``) gives one row per group, the group first; each group is
    drawn from the same seed, and a group with fewer than 2 clusters gets NaN t and p.
    """
    check_options(draws, weights, cluster)
    cars = result.car(window)
    label = cars["window"].iloc[0] if len(cars) else ""
    car = cars["car"].to_numpy(dtype=float)
    codes = cluster_codes(result, cluster)
    keep = np.isfinite(car)
    if aligned:
        flip = result.risk_signs
        car, keep = flip * car, keep & (flip != 0)
    if by is None:
        car, codes = car[keep], pd.factorize(codes[keep])[0]
        n_clusters = int(codes.max()) + 1 if len(codes) else 0
        if n_clusters < 2:
            raise ImpactError(f"the bootstrap needs at least 2 clusters ({cluster}), this result has {n_clusters}")
        return pd.DataFrame([_row(label, car, codes, draws, seed, weights, cluster)], columns=COLUMNS)
    groups = result._with_attributes(cars[["event_id", "asset"]], [by])[by].to_numpy()
    rows = []
    for group in pd.unique(groups[keep]):
        use = keep & (groups == group)
        rows.append([group, *_row(label, car[use], pd.factorize(codes[use])[0], draws, seed, weights, cluster)])
    return pd.DataFrame(rows, columns=[by, *COLUMNS])


def _row(label: str, car: np.ndarray, codes: np.ndarray, draws: int, seed: int, weights: str, cluster: str) -> list:
    """One output row; t and p are NaN with fewer than 2 clusters."""
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    if n_clusters < 2:
        t = p = np.full(1, np.nan)
        caar = np.array([car.mean() if len(car) else np.nan])
    else:
        caar, t, p = bootstrap_p_values(car[None, :], codes, int(draws), seed, weights)
    return [label, float(caar[0]), float(t[0]), float(p[0]), int(draws), n_clusters, cluster, weights, seed]


extend("bootstrap", wild_bootstrap)  # result.bootstrap(): the date-clustered wild bootstrap
