"""Search quality on a generated registry: every kind of judged query finds its one patient.

A smaller run of `make relevance` (bench/relevance.py): 3,000 patients created through the
patient service, indexed by the outbox drain, 380 judged queries (20 of each of the 19
kinds: names, CPFs and phones since issue 5; birth dates, a slip in the first and the last
name, namesakes told apart since issue 15) through the search function. The thresholds are
quality, not timing, so they are asserted: every kind recall@5 ≥ 0.98 and recall@1 ≥ 0.90.
"""

from __future__ import annotations

from bench.relevance import TARGET_RECALL_AT_1, TARGET_RECALL_AT_5, evaluate, format_report, index_registry, load_registry
from bench.relevance_data import KINDS, make_judgements, make_registry

SIZE, SEED, COUNT = 3000, 5, 20 * len(KINDS)


def test_judged_queries_find_their_patient(committed):
    registry = make_registry(SIZE, SEED)
    judgements = make_judgements(registry, COUNT, SEED)
    ids = load_registry(registry)
    index_registry()

    report = evaluate(ids, judgements)

    summary = format_report(report, registry, show_misses=20)
    assert {kind: figures.count for kind, figures in report.kinds.items()} == {kind: COUNT // len(KINDS) for kind in KINDS}
    assert [k for k, f in report.kinds.items() if f.recall_at(1) < TARGET_RECALL_AT_1] == [], summary
    assert [k for k, f in report.kinds.items() if f.recall_at(5) < TARGET_RECALL_AT_5] == [], summary
    assert report.failures() == [], summary
