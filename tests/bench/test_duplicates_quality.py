"""The duplicate finder's quality on generated registries with known duplicates (timings: `make bench-duplicates`).

Targets of issue 13: review band recall ≥ 0.99 and precision ≥ 0.95; auto band precision ≥ 0.999.
Seeds other than the one the default weights were read from (13), so this is not the training set.
"""

from __future__ import annotations

import pytest

from bench.duplicates import evaluate
from bench.duplicates_data import make_registry, true_pairs


@pytest.mark.parametrize("seed", [7, 21])
def test_review_and_auto_bands_meet_the_targets(seed):
    records = make_registry(30_000, seed=seed)
    assert len(true_pairs(records)) > 1400
    quality = evaluate(records)
    assert quality.review.recall >= 0.99
    assert quality.review.precision >= 0.95
    assert quality.auto.precision >= 0.999
    assert quality.auto.recall >= 0.7


def test_registry_is_deterministic_and_never_repeats_a_cpf():
    first, second = make_registry(2_000, seed=3), make_registry(2_000, seed=3)
    assert first == second
    cpfs = [r.cpf for r in first if r.cpf]
    assert len(cpfs) == len(set(cpfs))
    # 5% of the records are second registrations of a person already in it.
    assert len(first) - len({r.person for r in first}) == 100
