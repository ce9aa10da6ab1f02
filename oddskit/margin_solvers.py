"""The iterative margin-removal methods, solved for every market instance at once.

``power``, ``shin`` (more than two outcomes) and ``odds_ratio`` need a parameter
solved per instance so that the fair probabilities sum to one. :func:`solve` does it
with a vectorised safeguarded Halley iteration (analytic first and second
derivatives, bisection whenever a step leaves the analytic bracket), started at the
no-margin parameter, over dense ``outcomes x instances`` arrays: one block per number
of outcomes, in cache-sized chunks. Formulas: :mod:`oddskit.margins`.

Examples
--------
>>> import polars as pl
>>> from oddskit.market_instances import prepare_instances
>>> inst = prepare_instances(pl.DataFrame({"odds": [2.7, 2.3, 4.4]}), [])
>>> param, converged = np.full(1, np.nan), np.ones(1, dtype=bool)
>>> solve("power", inst, np.array([0]), param, converged, tol=1e-12, max_iter=200)
>>> round(float(param[0]), 6), bool(converged[0])
(1.030913, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np

from oddskit.market_instances import Instances, dense

__all__ = ["odds_ratio_probs", "shin_probs", "solve"]

_EPS: Final = float(np.finfo(float).eps)
_Derivatives = tuple[np.ndarray, np.ndarray, np.ndarray]  # f, f', f'' per instance
#: Iterations after which the root finder also checks for a collapsed bracket.
_CAREFUL_AFTER: Final = 8


def _halley(
    evaluate: Callable[..., _Derivatives],
    data: tuple[np.ndarray, ...],
    x: np.ndarray,
    f: np.ndarray,
    df: np.ndarray,
    d2f: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``f(x) = 0`` for every column of ``data`` at once, inside ``[lo, hi]``.

    ``evaluate(x, *data)`` returns the residual ``f = Σ p - 1`` and its first and
    second derivatives at ``x`` (one value per column of the ``data`` arrays); ``f``,
    ``df`` and ``d2f`` are their values at the start ``x`` (the no-margin parameter,
    where they have closed forms: a fair book stops there and is returned exactly
    unchanged). The bracket must satisfy ``f(lo) ≥ 0 ≥ f(hi)`` (all three methods
    decrease in their parameter). Each step is a Halley step (cubic convergence);
    every evaluation tightens the bracket, and a step that leaves it is replaced by
    bisection, so the iteration always converges. Columns stop when ``|f| ≤ tol``
    (or, after a few iterations, when the bracket has collapsed to adjacent floats)
    and are dropped from the working set.
    Returns the last iterate and a "converged" mask.
    """
    k = len(x)
    root = x.copy()
    converged = np.zeros(k, dtype=bool)
    active = np.arange(k)
    for it in range(max_iter + 1):
        if it:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                f, df, d2f = evaluate(x, *data)
        stop = np.abs(f) <= tol
        careful = it >= _CAREFUL_AFTER  # float noise may keep |f| above a tiny tol
        if careful:
            stop |= hi - lo <= 4.0 * _EPS * np.maximum(np.abs(lo), np.abs(hi))
        if it == max_iter:
            root[active] = x
            converged[active[stop]] = True
            break
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pos = f > 0.0
            lo = np.where(pos, x, lo)
            hi = np.where(pos, hi, x)
            # Halley step (the Newton step, corrected by at most a factor of 2).
            newton = f / df
            step = newton / np.clip(1.0 - (0.5 * newton) * (d2f / df), 0.5, 2.0)
            if careful:  # at least about one ulp, so that the bracket keeps shrinking
                min_step = 2.0 * _EPS * np.abs(x)
                step = np.where(np.abs(step) < min_step, np.copysign(min_step, step), step)
            nxt = x - step
            inside = (nxt > lo) & (nxt < hi)
        if not inside.all():
            nxt = np.where(inside, nxt, 0.5 * (lo + hi))
        n_stop = int(np.count_nonzero(stop))
        if n_stop:
            done = active[stop]
            root[done] = x[stop]
            converged[done] = True
            if n_stop == len(stop):
                break
            keep = ~stop
            active, nxt, lo, hi = active[keep], nxt[keep], lo[keep], hi[keep]
            data = tuple(a[:, keep] for a in data)
        x = nxt
    return root, converged


def _power_eval(k: np.ndarray, log_pi: np.ndarray) -> _Derivatives:
    p = np.exp(k * log_pi)
    p_log = p * log_pi
    return p.sum(axis=0) - 1.0, p_log.sum(axis=0), (p_log * log_pi).sum(axis=0)


def _odds_ratio_eval(c: np.ndarray, pi: np.ndarray, one_minus_pi: np.ndarray) -> _Derivatives:
    den = pi + c * one_minus_pi
    p = pi / den
    t = one_minus_pi / den
    pt = p * t  # -dp/dc; d²p/dc² = 2 p t²
    return p.sum(axis=0) - 1.0, -pt.sum(axis=0), 2.0 * (pt * t).sum(axis=0)


def _shin_eval(z: np.ndarray, q: np.ndarray) -> _Derivatives:
    # Σ p = N/D with N = Σ s_i - n z, D = 2(1 - z), s_i = √(z² + 4(1 - z) q_i),
    # q_i = π_i²/B; s_i' = (z - 2 q_i)/s_i and s_i'' = (1 - s_i'²)/s_i.
    n = q.shape[0]
    zc = 1.0 - z
    s = np.sqrt(z * z + (4.0 * zc) * q)
    ds = (z - 2.0 * q) / s
    num = s.sum(axis=0) - n * z
    dnum = ds.sum(axis=0) - n
    d2num = ((1.0 - ds * ds) / s).sum(axis=0)
    den = 2.0 * zc
    return (
        num / den - 1.0,
        (dnum * den + 2.0 * num) / (den * den),
        d2num / den + 4.0 * (dnum * den + 2.0 * num) / den**3,
    )


#: Relative widening of the analytic brackets, so that rounding cannot put a root that
#: sits on a bound (e.g. power with equal odds) just outside.
_PAD: Final = 1e-12
#: Values (outcomes x instances) per chunk of the iterative solve.
_CHUNK: Final = 1 << 15


def _solvedense(
    method: str, pi: np.ndarray, booksum: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter of an iterative method for instances given as a dense
    ``(outcomes, instances)`` array of implied probabilities (all priced).

    The residual and its derivatives at the no-margin start have closed forms, so the
    first step costs no evaluation.
    """
    n = pi.shape[0]
    k = pi.shape[1]
    if method == "power":
        log_pi = np.log(pi)
        # n·π_max^k ≤ 1 at k ≥ ln n / -ln π_max; n·π_min^k ≥ 1 at k ≤ ln n / -ln π_min.
        lo = np.minimum(math.log(n) / -log_pi.min(axis=0), 1.0) * (1.0 - _PAD)
        hi = np.maximum(math.log(n) / -log_pi.max(axis=0), 1.0) * (1.0 + _PAD)
        pi_log = pi * log_pi  # derivatives at k = 1
        f, df, d2f = pi.sum(axis=0) - 1.0, pi_log.sum(axis=0), (pi_log * log_pi).sum(axis=0)
        return _halley(
            _power_eval, (log_pi,), np.ones(k), f, df, d2f, lo, hi, tol=tol, max_iter=max_iter
        )
    if method == "odds_ratio":
        # Σ p ≥ n·π_min/(π_min + c) ≥ 1 at c ≤ (n-1)π_min; Σ p ≤ Σ π/(1-π) / c.
        one_minus_pi = 1.0 - pi
        lo = np.minimum((n - 1.0) * pi.min(axis=0), 1.0) * (1.0 - _PAD)
        hi = np.maximum((pi / one_minus_pi).sum(axis=0), 1.0) * (1.0 + _PAD)
        pi_q = pi * one_minus_pi  # derivatives at c = 1
        f, df, d2f = (
            pi.sum(axis=0) - 1.0,
            -pi_q.sum(axis=0),
            2.0 * (pi_q * one_minus_pi).sum(axis=0),
        )
        return _halley(
            _odds_ratio_eval,
            (pi, one_minus_pi),
            np.ones(k),
            f,
            df,
            d2f,
            lo,
            hi,
            tol=tol,
            max_iter=max_iter,
        )
    if method == "shin":
        # Σ p(0) = √B; Σ p(z→1) → Σπ²/B ≤ π_max < 1; every p(-1) > 1/2.
        over = booksum >= 1.0
        lo = np.where(over, 0.0, -1.0)
        hi = np.where(over, 1.0 - 1e-9, 0.0)
        root_b = np.sqrt(booksum)
        # Derivatives at z = 0, where s_i = 2π_i/√B and s_i' = -π_i/√B.
        f, df = root_b - 1.0, 0.5 * (root_b - n)
        d2f = 0.25 * root_b * ((1.0 / pi).sum(axis=0) - 1.0) + root_b - n
        q = pi * pi / booksum
        return _halley(
            _shin_eval, (q,), np.zeros(k), f, df, d2f, lo, hi, tol=tol, max_iter=max_iter
        )
    raise AssertionError(method)  # pragma: no cover - guarded by the caller


def shin_probs(z: np.ndarray, pi: np.ndarray, booksum: np.ndarray) -> np.ndarray:
    return (np.sqrt(z * z + 4.0 * (1.0 - z) * pi * pi / booksum) - z) / (2.0 * (1.0 - z))


def odds_ratio_probs(c: np.ndarray, pi: np.ndarray) -> np.ndarray:
    return pi / (c + pi - c * pi)


def solve(
    method: str,
    inst: Instances,
    sel: np.ndarray,
    param: np.ndarray,
    converged: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> None:
    """Solve an iterative method for the instances ``sel`` (all solvable) in place.

    One dense ``(outcomes, instances)`` block per number of outcomes, solved in chunks
    of about ``_CHUNK`` values so that the arrays of an iteration stay in cache (whole
    800k-instance arrays spend most of their time in allocation and page faults).
    """
    if not len(sel):
        return
    widths = inst.lengths[sel]
    for width in np.flatnonzero(np.bincount(widths)):
        block = sel[widths == width]
        size = max(1, _CHUNK // int(width))
        for begin in range(0, len(block), size):
            chunk = block[begin : begin + size]
            param[chunk], converged[chunk] = _solvedense(
                method,
                dense(inst, chunk, int(width)),
                inst.booksum[chunk],
                tol=tol,
                max_iter=max_iter,
            )
