"""Fellegi–Sunter scoring of record pairs: comparison levels per field, weights, explanations.

Each field of a pair falls in one comparison level (or is missing on one side, which
is no evidence: weight 0). A level's weight is log2(m/u) bits: m = P(level | same
person), u = P(level | two different people). The weights add up; with the prior
odds of a match they give the probability that the pair is one person, the `score`.

Term frequency: an exact given name or last surname is as rare as the name itself,
so its u is the share of the registry carrying that name's phonetic key (a shared
"Silva" is worth far less than a shared "Tavares"), and the same middle words are as
rare as the product of their shares; names not seen use the level's default u.

The default u are the level shares among two million random pairs of the bench
registry (`bench/duplicates_data.py`, 100k records, seed 13: `em.level_shares`), except
phone and address, kept higher than the synthetic data says because real households
share them; the default m are the level shares among that registry's known duplicate
pairs, rounded and widened where the generator is narrower than life (a CPF can
never be equal twice in the registry, so its exact level only serves records being
compared before they are stored). `em.estimate_m` estimates m without labels; it
needs blocked pairs that are not all drawn by the compared fields, so it is a tool
for a real registry's review, not run on every scan.

Levels, in the order they are tested (the first that holds wins):
- given name: exact | phonetic (same pt-BR key: Thiago/Tiago) | close (Jaro–Winkler ≥ 0.92, of
  the names or of their keys) | swapped (first and second given names exchanged) | similar
  (JW ≥ 0.80) | different. A different given name is nearly a veto (m = 1e-12, about -40 bits):
  twins and other relatives share surnames, birth date, address and phone, and only the given
  name tells them apart;
- surname (the last word): exact | close (same key, or Damerau–Levenshtein ≤ 1) |
  shared (another surname in common: married names) | different;
- other names (the words between the first and the last, as sets of keys, less the other
  side's given name; missing unless both names have some): same | subset (one name's words all in the other: a middle name left out, a married
  name added) | overlap | different;
- birth date: exact | swapped (day and month exchanged) | close (one digit off) | different;
- CPF (first nine digits; the last two follow from them): exact | close (one digit off or two
  adjacent digits swapped) | different;
- phone: exact (a number in common) | different;
- address: exact (same CEP and house number) | zip (same CEP) | different;
- gender: same | different.

A shared phone and a shared address together count as the stronger of the two only: both are
household evidence (mother and child share them), not independent proofs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.process import cpdist

from storage.linkage.features import FeatureTable

MISSING = -1


@dataclass(frozen=True)
class Field:
    """One compared field: its levels with m and u, and which level (if any) is term-frequency adjusted."""

    name: str
    levels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]
    tf_level: int | None = None

    def weights(self) -> np.ndarray:
        """log2(m/u) of each level."""
        return np.array([math.log2(m / u) for m, u in zip(self.m, self.u)])


FIELDS: tuple[Field, ...] = (
    Field("given_name", ("exact", "phonetic", "close", "swapped", "similar", "different"),
          m=(0.90, 0.03, 0.03, 0.025, 0.005, 1e-12), u=(0.034, 0.002, 0.0092, 0.0002, 0.0071, 0.9475), tf_level=0),
    Field("surname", ("exact", "close", "shared", "different"),
          m=(0.88, 0.04, 0.07, 0.01), u=(0.054, 0.0023, 0.14, 0.8037), tf_level=0),
    Field("other_names", ("same", "subset", "overlap", "different"),
          m=(0.90, 0.06, 0.02, 0.02), u=(0.018, 0.041, 0.023, 0.918), tf_level=0),
    Field("birth_date", ("exact", "swapped", "close", "different"),
          m=(0.80, 0.06, 0.13, 0.01), u=(0.000035, 0.00001, 0.001, 0.998954)),
    Field("cpf", ("exact", "close", "different"), m=(0.50, 0.45, 0.05), u=(0.0000001, 0.00001, 0.9999899)),
    Field("phone", ("exact", "different"), m=(0.75, 0.25), u=(0.0002, 0.9998)),
    Field("address", ("exact", "zip", "different"), m=(0.75, 0.05, 0.20), u=(0.0003, 0.002, 0.9977)),
    Field("gender", ("same", "different"), m=(0.98, 0.02), u=(0.5, 0.5)),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
# The prior: one record in twenty is a second registration of someone, so among the n²/2 pairs of a
# registry of n about 0.05·n are one person: λ = 0.1 / n (1e-6 at 100k). It is the offset between summed
# weights and the probability; `prior_for(n)` follows the registry's size so the bands mean the same
# at any size.
DUPLICATE_SHARE = 0.05
PRIOR = 1e-6
# A term-frequency u never goes below this: a name seen once is rare, not proof.
TF_FLOOR = 0.0002
# The review band starts here (score = probability of one person); the auto band holds pairs so
# certain that no reviewer is expected to disagree (they are still merged by a person).
REVIEW_THRESHOLD = 0.2
AUTO_THRESHOLD = 0.9999


@dataclass(frozen=True)
class Model:
    """Fields with their m/u, the prior and the bands; `with_probabilities` gives an estimated variant."""

    fields: tuple[Field, ...] = FIELDS
    prior: float = PRIOR

    def with_probabilities(self, m: list[list[float]], u: list[list[float]], prior: float | None = None) -> "Model":
        """The same model with other m and u (e.g. estimated by EM)."""
        fields = tuple(Field(f.name, f.levels, tuple(mi), tuple(ui), f.tf_level) for f, mi, ui in zip(self.fields, m, u))
        return Model(fields, prior if prior is not None else self.prior)


DEFAULT = Model()


def compare(table: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The comparison level of each field for the pairs (a[i], b[i]); an (n, fields) int8 array, -1 = missing."""
    n = len(a)
    out = np.full((n, len(FIELDS)), MISSING, dtype=np.int8)
    if n == 0:
        return out
    out[:, 0] = _given(table, a, b)
    out[:, 1] = _surname(table, a, b)
    out[:, 2] = _other_names(table, a, b)
    out[:, 3] = _born(table, a, b)
    out[:, 4] = _cpf(table, a, b)
    out[:, 5] = _phone(table, a, b)
    out[:, 6] = _address(table, a, b)
    out[:, 7] = _gender(table, a, b)
    return out


def _levels(missing: np.ndarray, conditions: list[np.ndarray]) -> np.ndarray:
    """The index of the first condition that holds (the last level when none does), -1 where missing."""
    level = np.select(conditions, list(range(len(conditions))), default=len(conditions)).astype(np.int8)
    level[missing] = MISSING
    return level


def _strings(values: np.ndarray, index: np.ndarray) -> list[str]:
    return values[index].tolist()


def _given(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ga, gb = t.given_code[a], t.given_code[b]
    ka, kb = t.given_key[a], t.given_key[b]
    jw = np.maximum(
        cpdist(_strings(t.given, a), _strings(t.given, b), scorer=JaroWinkler.normalized_similarity, workers=1),
        cpdist(_strings(t.given_key_text, a), _strings(t.given_key_text, b),
               scorer=JaroWinkler.normalized_similarity, workers=1),
    )
    sa, sb = t.second_key[a], t.second_key[b]
    swapped = (sa >= 0) & (sa == kb) & (sb == ka)
    return _levels((ga < 0) | (gb < 0), [ga == gb, ka == kb, jw >= 0.92, swapped, jw >= 0.80])


def _surname(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    la, lb = t.last_code[a], t.last_code[b]
    dl = cpdist(_strings(t.last, a), _strings(t.last, b), scorer=DamerauLevenshtein.distance, workers=1)
    long_enough = np.minimum(_lengths(t.last, a), _lengths(t.last, b)) >= 5
    close = (t.last_key[a] == t.last_key[b]) | ((dl <= 1) & long_enough)
    sa, sb = t.surname_keys[a], t.surname_keys[b]
    shared = ((sa[:, :, None] == sb[:, None, :]) & (sa[:, :, None] >= 0)).any(axis=(1, 2))
    return _levels((la < 0) | (lb < 0), [la == lb, close, shared])


def _lengths(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.fromiter((len(v) for v in values[index]), dtype=np.int32, count=len(index))


def _other_names(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Each side's middle words, less the other side's given name (given names swapped are the given
    # name's business, not evidence twice). Two words agree when their keys are equal or, from five
    # letters on, one edit apart (Araújo typed Arajuo).
    ma = np.where(t.middle_keys[a] == t.given_key[b][:, None], -1, t.middle_keys[a])
    mb = np.where(t.middle_keys[b] == t.given_key[a][:, None], -1, t.middle_keys[b])
    present_a, present_b = ma >= 0, mb >= 0
    agree = (ma[:, :, None] == mb[:, None, :]) & present_a[:, :, None] & present_b[:, None, :]
    both = np.flatnonzero(present_a.any(axis=1) & present_b.any(axis=1) & ~agree.all(axis=(1, 2)))
    if len(both):
        keys = np.array(t.keys + [""], dtype=object)
        for i in range(ma.shape[1]):
            for j in range(mb.shape[1]):
                rows = both[present_a[both, i] & present_b[both, j] & ~agree[both, i, j]]
                if not len(rows):
                    continue
                left, right = keys[ma[rows, i]].tolist(), keys[mb[rows, j]].tolist()
                near = cpdist(left, right, scorer=DamerauLevenshtein.distance, workers=1) <= 1
                long_enough = np.fromiter((min(len(x), len(y)) >= 5 for x, y in zip(left, right)), bool, len(rows))
                agree[rows, i, j] = near & long_enough
    hits_a = agree.any(axis=2)
    hits_b = agree.any(axis=1)
    all_a = (hits_a | ~present_a).all(axis=1)
    all_b = (hits_b | ~present_b).all(axis=1)
    missing = ~present_a.any(axis=1) | ~present_b.any(axis=1)
    return _levels(missing, [all_a & all_b, all_a | all_b, hits_a.any(axis=1)])


def _born(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ba, bb = t.born[a], t.born[b]
    swapped = (t.born_swapped[a] >= 0) & (t.born_swapped[a] == bb)
    dl = cpdist(_strings(t.born_text, a), _strings(t.born_text, b), scorer=DamerauLevenshtein.distance, workers=1)
    return _levels((ba < 0) | (bb < 0), [ba == bb, swapped, dl <= 1])


def _cpf(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ca, cb = t.cpf_code[a], t.cpf_code[b]
    dl = cpdist(_strings(t.cpf, a), _strings(t.cpf, b), scorer=DamerauLevenshtein.distance, workers=1)
    return _levels((ca < 0) | (cb < 0), [ca == cb, dl <= 1])


def _phone(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pa, pb = t.phones[a], t.phones[b]
    shared = ((pa[:, :, None] == pb[:, None, :]) & (pa[:, :, None] >= 0)).any(axis=(1, 2))
    return _levels((pa[:, 0] < 0) | (pb[:, 0] < 0), [shared])


def _address(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    za, zb = t.zip_code[a], t.zip_code[b]
    na, nb = t.number[a], t.number[b]
    return _levels((za < 0) | (zb < 0), [(za == zb) & (na >= 0) & (na == nb), za == zb])


def _gender(t: FeatureTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ga, gb = t.gender[a], t.gender[b]
    return _levels((ga < 0) | (gb < 0), [ga == gb])


# Term frequency: the share of the registry whose given name (kind "given_name") or one of whose other
# words (kind "surname") has this phonetic key; None when not known.
Frequencies = Callable[[str, str], float | None]


def term_frequencies(given: Mapping[str, int], others: Mapping[str, int], total: int) -> Frequencies:
    """A frequency lookup from counts of given-name keys and other-word keys over `total` persons."""

    def lookup(kind: str, key: str) -> float | None:
        found = (given if kind == "given_name" else others).get(key)
        return found / total if found and total else None

    return lookup


def weights(
    levels: np.ndarray, table: FeatureTable, a: np.ndarray, model: Model = DEFAULT, tf: Frequencies | None = None
) -> np.ndarray:
    """The weight in bits of every field of every pair, (n, fields); missing fields weigh 0."""
    out = np.zeros(levels.shape, dtype=np.float64)
    for j, field in enumerate(model.fields):
        table_weights = field.weights()
        present = levels[:, j] >= 0
        out[present, j] = table_weights[levels[present, j]]
        if tf is None or field.tf_level is None:
            continue
        rows = np.nonzero(levels[:, j] == field.tf_level)[0]
        if not len(rows):
            continue
        kind = "given_name" if field.name == "given_name" else "surname"
        log_share = _log_shares(table, kind, tf)
        m = math.log2(field.m[field.tf_level])
        if field.name == "given_name":
            shares = log_share[table.given_key[a[rows]]]
        elif field.name == "surname":
            shares = log_share[table.last_key[a[rows]]]
        else:  # other names, all in common: as rare as the product of their frequencies
            codes = table.middle_keys[a[rows]]
            shares = np.where(codes >= 0, log_share[np.maximum(codes, 0)], 0.0).sum(axis=1)
        known = ~np.isnan(shares)
        out[rows[known], j] = m - shares[known]
    # A shared phone and a shared address are household evidence, not two independent proofs (a mother
    # and her child share both): together they count as the stronger of the two.
    phone, address = FIELD_NAMES.index("phone"), FIELD_NAMES.index("address")
    both = (levels[:, phone] == 0) & (levels[:, address] == 0)
    weaker = np.minimum(out[both, phone], out[both, address])
    out[np.nonzero(both)[0], np.where(out[both, phone] <= out[both, address], phone, address)] -= weaker
    return out


def _log_shares(table: FeatureTable, kind: str, tf: Frequencies) -> np.ndarray:
    """log2 of the frequency of each key of the table's vocabulary (floored), NaN when unknown."""
    result = np.full(len(table.keys), np.nan)
    for code, key in enumerate(table.keys):
        share = tf(kind, key)
        if share:
            result[code] = math.log2(max(share, TF_FLOOR))
    return result


def prior_for(registry_size: int | None, model: Model = DEFAULT) -> float:
    """The prior probability that two records of a registry of this size are one person."""
    if not registry_size or registry_size < 2:
        return model.prior
    return min(2 * DUPLICATE_SHARE / registry_size, 0.01)


def probability(total_weight: np.ndarray, model: Model = DEFAULT, prior: float | None = None) -> np.ndarray:
    """The probability that each pair is one person, from its summed weight and the prior."""
    prior = prior if prior is not None else model.prior
    prior_bits = math.log2(prior / (1 - prior))
    return 1.0 / (1.0 + np.exp2(-(total_weight + prior_bits)))


@dataclass(frozen=True)
class Scored:
    """Pairs (indices into the table) with their levels, weights and scores."""

    a: np.ndarray
    b: np.ndarray
    levels: np.ndarray
    weights: np.ndarray
    score: np.ndarray


def score_pairs(
    table: FeatureTable, a: np.ndarray, b: np.ndarray, model: Model = DEFAULT, tf: Frequencies | None = None,
    registry_size: int | None = None,
) -> Scored:
    """Compare and weigh the pairs (a[i], b[i]) of `table`; the prior follows `registry_size` when given."""
    levels = compare(table, a, b)
    field_weights = weights(levels, table, a, model, tf)
    score = probability(field_weights.sum(axis=1), model, prior_for(registry_size, model))
    return Scored(a, b, levels, field_weights, score)


def bands(score: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per pair: 2 = auto (certain), 1 = review (for a person to decide), 0 = below review.

    The auto band also needs the given names to agree exactly or phonetically: twins with near names
    (Maria and Márcia) share everything else, and only a reviewer should call them one person.
    """
    given_agrees = levels[:, 0] <= 1
    given_agrees &= levels[:, 0] >= 0
    return np.where((score >= AUTO_THRESHOLD) & given_agrees, 2, np.where(score >= REVIEW_THRESHOLD, 1, 0))


BAND_NAMES = ("none", "review", "auto")


def explain(levels: np.ndarray, field_weights: np.ndarray, model: Model = DEFAULT) -> list[dict]:
    """The per-field explanation of one pair: level name (or `missing`) and weight in bits, rounded."""
    return [
        {"field": field.name, "level": field.levels[level] if level >= 0 else "missing",
         "weight": round(float(weight), 2)}
        for field, level, weight in zip(model.fields, levels.tolist(), field_weights.tolist())
    ]
