"""One-slip keys meet exactly the words one slip away, as the fuzzy clauses they replace count slips."""

from __future__ import annotations

import random
from itertools import product

from indexing import slips


def one_slip_apart(typed: str, word: str) -> bool:
    """Optimal string alignment distance ≤ 1 with the first letter kept (fuzzy, prefix_length 1)."""
    if typed == word:
        return True
    if not typed or not word or typed[0] != word[0]:
        return False
    a, b = typed[1:], word[1:]
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        if len(differ) == 1:
            return True
        return len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    if len(longer) - len(shorter) != 1:
        return False
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def meet(typed: str, word: str) -> bool:
    return bool(set(slips.lookup_keys(typed)) & set(slips.stored_keys(word)))


def test_keys_meet_exactly_the_words_one_slip_away_on_every_short_word_of_three_letters():
    # Every pair of words of 1-5 letters over a 3-letter alphabet: each kind of slip, repeated letters.
    alphabet = "abc"
    words = ["".join(p) for n in range(1, 6) for p in product(alphabet, repeat=n)]
    for typed in words:
        for word in words:
            if abs(len(typed) - len(word)) <= 1:
                assert meet(typed, word) == one_slip_apart(typed, word), (typed, word)


def test_keys_meet_exactly_the_words_one_slip_away_on_name_like_words():
    rnd = random.Random(14)
    names = ["fernanda", "fernando", "marcio", "mario", "maria", "cecilia", "jose", "rute", "davila", "ana"]
    for name in names:
        for _ in range(300):
            typed = list(name)
            for _ in range(rnd.choice((1, 1, 2))):
                at = rnd.randrange(len(typed) + 1)
                kind = rnd.choice(("drop", "add", "change", "swap"))
                if kind == "drop" and at < len(typed):
                    del typed[at]
                elif kind == "add":
                    typed.insert(at, rnd.choice("aeilmnors"))
                elif kind == "change" and at < len(typed):
                    typed[at] = rnd.choice("aeilmnors")
                elif kind == "swap" and at + 1 < len(typed):
                    typed[at], typed[at + 1] = typed[at + 1], typed[at]
            typed_word = "".join(typed)
            for word in names:
                assert meet(typed_word, word) == one_slip_apart(typed_word, word), (typed_word, word)


def test_the_first_letter_is_never_the_slip():
    assert not meet("bernanda", "fernanda")
    assert not meet("efrnanda", "fernanda")
    assert not meet("ernanda", "fernanda")
    assert meet("frenanda", "fernanda")


def test_names_are_folded_and_split_like_the_index_splits_them():
    assert slips.tokens("José D'Ávila-Souza  Júnior") == ["jose", "d'avila", "souza", "junior"]
    keys = slips.name_keys(slips.tokens("Ana Ana"))
    assert keys == sorted(set(keys)) and "=ana" in keys


def test_a_run_of_letters_longer_than_any_name_word_keeps_only_itself():
    pasted = "a" * (slips.MAX_LETTERS + 1)
    assert slips.stored_keys(pasted) == ("=" + pasted,)
    assert slips.lookup_keys(pasted) == ["=" + pasted]
    assert len(slips.stored_keys("a" * slips.MAX_LETTERS)) > 1
