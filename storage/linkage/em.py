"""Estimating m and u from the data (expectation–maximisation), as Splink does.

u is estimated from random pairs (almost all of them are two different people, so
the share of each level among them is u); m and the share of matches among the
blocked pairs by EM with u held fixed, assuming fields independent given the match
status. Missing fields carry no evidence and are left out of both steps.
"""

from __future__ import annotations

import numpy as np


def level_shares(levels: np.ndarray, n_levels: list[int], floor: float = 1e-7) -> list[list[float]]:
    """The share of each level per field among present values (the u estimate for random pairs)."""
    shares = []
    for j, k in enumerate(n_levels):
        column = levels[:, j]
        present = column[column >= 0]
        counts = np.bincount(present, minlength=k).astype(float) if len(present) else np.ones(k)
        shares.append(list(np.maximum(counts / counts.sum(), floor)))
    return shares


def estimate_m(
    levels: np.ndarray, m: list[list[float]], u: list[list[float]], prior: float = 0.1, iterations: int = 25,
    floor: float = 1e-5,
) -> tuple[list[list[float]], float]:
    """EM over blocked pairs' levels with u fixed: return the estimated m per field and level, and the match share."""
    m_arr = [np.asarray(x, dtype=float) for x in m]
    u_arr = [np.asarray(x, dtype=float) for x in u]
    for _ in range(iterations):
        log_m = np.zeros(len(levels))
        log_u = np.zeros(len(levels))
        for j in range(levels.shape[1]):
            column = levels[:, j]
            present = column >= 0
            log_m[present] += np.log(m_arr[j][column[present]])
            log_u[present] += np.log(u_arr[j][column[present]])
        odds = np.log(prior) - np.log1p(-prior) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        prior = float(np.clip(posterior.mean(), 1e-9, 1 - 1e-9))
        for j in range(levels.shape[1]):
            column = levels[:, j]
            present = column >= 0
            counts = np.bincount(column[present], weights=posterior[present], minlength=len(m_arr[j]))
            total = counts.sum()
            if total > 0:
                m_arr[j] = np.maximum(counts / total, floor)
                m_arr[j] /= m_arr[j].sum()
    return [list(x) for x in m_arr], prior
