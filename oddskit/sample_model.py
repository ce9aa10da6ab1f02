"""The score model of the sample generator: fair prices of 28 outcomes from goal rates.

Prices of every market come from one independent-Poisson score model, so they are
mutually consistent: 1x2 and double chance from the goal difference (Skellam),
over/under 0.5–4.5 from total goals, BTTS from P(0 goals) of each side, Asian handicap
with pushes and half wins/losses settled exactly. Also the generator's randomness:
seeded ``numpy`` streams and a counter-based hash. See :mod:`oddskit.sample`.

Examples
--------
>>> import numpy as np
>>> probs, decided = fair_probs(
...     np.array([1.5]), np.array([1.0]), np.zeros(1), np.zeros(1), np.array([[0.0] * 5])
... )
>>> [round(float(p), 3) for p in probs[0, :3]], round(float(probs[0, :3].sum()), 12)
([0.488, 0.26, 0.252], 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from oddskit.markets import MARKET_OUTCOMES, MARKETS_WITH_LINE

# --- market layout: 28 outcome slots per snapshot ------------------------------------
OU_LINES: tuple[float, ...] = (0.5, 1.5, 2.5, 3.5, 4.5)
AH_OFFSETS: tuple[float, ...] = (-0.5, -0.25, 0.0, 0.25, 0.5)
# (market, line index or -1, outcome)
_SLOTS: list[tuple[str, int, str]] = (
    [("1x2", -1, o) for o in MARKET_OUTCOMES["1x2"]]
    + [("double_chance", -1, o) for o in MARKET_OUTCOMES["double_chance"]]
    + [("over_under", i, o) for i in range(len(OU_LINES)) for o in MARKET_OUTCOMES["over_under"]]
    + [("btts", -1, o) for o in MARKET_OUTCOMES["btts"]]
    + [
        ("asian_handicap", i, o)
        for i in range(len(AH_OFFSETS))
        for o in MARKET_OUTCOMES["asian_handicap"]
    ]
)
N_SLOTS = len(_SLOTS)
SLOT_MARKET = pl.Series("market", [s[0] for s in _SLOTS], dtype=pl.String)
SLOT_OUTCOME = pl.Series("outcome", [s[2] for s in _SLOTS], dtype=pl.String)
#: margin multiplier, number of outcomes and fair-probability sum of each slot's market
_MARKET_MARGIN_FACTOR = {
    "1x2": 1.0,
    "double_chance": 1.0,
    "over_under": 1.0,
    "btts": 1.25,
    "asian_handicap": 0.9,
}
SLOT_FACTOR = np.array([_MARKET_MARGIN_FACTOR[s[0]] for s in _SLOTS])
SLOT_N = np.array([len(MARKET_OUTCOMES[s[0]]) for s in _SLOTS], dtype=np.float64)
SLOT_SUM = np.array([2.0 if s[0] == "double_chance" else 1.0 for s in _SLOTS])
AH_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "asian_handicap"])
OU_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "over_under"])
_BTTS_SLOTS = np.array([i for i, s in enumerate(_SLOTS) if s[0] == "btts"])
assert {s[0] for s in _SLOTS if s[1] >= 0} == MARKETS_WITH_LINE
ALPHA = 0.25  # share of the margin spread evenly over outcomes (long-shot loading)
#: Microseconds per second (times are integer microseconds since the epoch).
US = 1_000_000
G = 12  # most remaining goals per side modelled (tail mass folded into the last bucket)

# --- random helpers -------------------------------------------------------------------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (uint64 arrays wrap silently)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def hash_uniform(keys: Sequence[int | np.ndarray]) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on the integer keys (counter-based RNG)."""
    arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(k, dtype=np.int64)) for k in keys])
    h = np.zeros(arrays[0].shape, dtype=np.uint64)
    for a in arrays:
        h = _mix64(h ^ (a.astype(np.uint64) + _GOLDEN))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def seeded_rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


# --- the score model ---------------------------------------------------------------------


def _poisson_pmf(lam: np.ndarray) -> np.ndarray:
    """P(X = 0..G) for X ~ Poisson(lam), the tail folded into the last bucket."""
    out = np.empty((lam.shape[0], G + 1))
    out[:, 0] = np.exp(-lam)
    for i in range(1, G + 1):
        out[:, i] = out[:, i - 1] * lam / i
    out[:, G] += np.clip(1.0 - out.sum(axis=1), 0.0, None)
    return out


def _cdfs(ph: np.ndarray, pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CDFs of goal difference (value d at index d + G) and total goals (index t),
    each padded with a leading zero column so that index -1 means "below support"."""
    n = ph.shape[0]
    pd = np.zeros((n, 2 * G + 1))
    pt = np.zeros((n, 2 * G + 1))
    pa_rev = pa[:, ::-1]
    for i in range(G + 1):
        w = ph[:, i : i + 1]
        pd[:, i : i + G + 1] += w * pa_rev
        pt[:, i : i + G + 1] += w * pa
    zero = np.zeros((n, 1))
    return (
        np.concatenate([zero, np.cumsum(pd, axis=1)], axis=1),
        np.concatenate([zero, np.cumsum(pt, axis=1)], axis=1),
    )


def _p_le(cdf: np.ndarray, index: np.ndarray) -> np.ndarray:
    """P(X ≤ x) for integer index = x + offset (any shape (n, m)), outside support clipped."""
    idx = np.clip(index, -1, cdf.shape[1] - 2) + 1
    return np.take_along_axis(cdf, idx.astype(np.intp), axis=1)


def _ah_home(cdf_d: np.ndarray, shift: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Effective (push/half-win aware) home probability of Asian handicap ``lines`` (n, m).

    Final difference D = shift + d. A quarter line stakes half on each neighbour.
    Win and loss masses W = P(D + h > 0), L = P(D + h < 0); p = W / (W + L).
    """
    quarter = (np.rint(lines * 4).astype(np.int64) % 2) == 1
    w = np.zeros(lines.shape)
    loss = np.zeros(lines.shape)
    for sign in (-1.0, 1.0):
        h = np.where(quarter, lines + sign * 0.25, lines)
        le_floor = _p_le(cdf_d, np.floor(-h).astype(np.int64) - shift[:, None] + G)
        lt = _p_le(cdf_d, np.ceil(-h).astype(np.int64) - 1 - shift[:, None] + G)
        w += 1.0 - le_floor
        loss += lt
    return w / np.maximum(w + loss, 1e-300)


def fair_probs(
    lam_h: np.ndarray,
    lam_a: np.ndarray,
    goals_h: np.ndarray,
    goals_a: np.ndarray,
    ah_lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fair probabilities of the 28 slots, and which slots are already decided (in play)."""
    n = lam_h.shape[0]
    ph, pa = _poisson_pmf(lam_h), _poisson_pmf(lam_a)
    cdf_d, cdf_t = _cdfs(ph, pa)
    shift = (goals_h - goals_a).astype(np.int64)
    total = (goals_h + goals_a).astype(np.int64)
    p = np.empty((n, N_SLOTS))
    away = _p_le(cdf_d, (-1 - shift + G)[:, None])[:, 0]
    home = 1.0 - _p_le(cdf_d, (0 - shift + G)[:, None])[:, 0]
    draw = np.clip(1.0 - home - away, 0.0, 1.0)
    p[:, 0], p[:, 1], p[:, 2] = home, draw, away
    p[:, 3], p[:, 4], p[:, 5] = home + draw, home + away, draw + away
    ou = np.asarray(OU_LINES)
    over = 1.0 - _p_le(cdf_t, np.floor(ou)[None, :].astype(np.int64) - total[:, None])
    p[:, OU_SLOTS[0::2]] = over
    p[:, OU_SLOTS[1::2]] = 1.0 - over
    yes = (1.0 - (goals_h == 0) * ph[:, 0]) * (1.0 - (goals_a == 0) * pa[:, 0])
    p[:, _BTTS_SLOTS[0]], p[:, _BTTS_SLOTS[1]] = yes, 1.0 - yes
    ah = _ah_home(cdf_d, shift, ah_lines)
    p[:, AH_SLOTS[0::2]] = ah
    p[:, AH_SLOTS[1::2]] = 1.0 - ah
    decided = np.zeros((n, N_SLOTS), dtype=bool)
    decided[:, OU_SLOTS] = np.repeat(total[:, None] > ou[None, :], 2, axis=1)
    decided[:, _BTTS_SLOTS] = ((goals_h > 0) & (goals_a > 0))[:, None]
    return np.clip(p, 1e-4, 1.0), decided


def balanced_ah_line(lam_h: np.ndarray, lam_a: np.ndarray) -> np.ndarray:
    """The quarter-goal home handicap whose home probability is nearest 1/2."""
    candidates = np.arange(-3.5, 3.5001, 0.25)
    ph, pa = _poisson_pmf(lam_h), _poisson_pmf(lam_a)
    cdf_d, _ = _cdfs(ph, pa)
    lines = np.broadcast_to(candidates, (lam_h.shape[0], candidates.size))
    p = _ah_home(cdf_d, np.zeros(lam_h.shape[0], dtype=np.int64), np.ascontiguousarray(lines))
    return candidates[np.argmin(np.abs(p - 0.5), axis=1)]
