"""One slip as a term lookup: the keys that let a typed word meet every name word one typo away (mapping v6).

A fuzzy clause builds a Levenshtein automaton and walks the term dictionary with it on every search: at
a million patients that was most of a typo'd name's time (bench/search_scale.py). One slip is spelt
out once, at index time, instead: a name word `w` is stored with keys, a typed word `t` is looked up by
keys, and they share one exactly when `t` is one slip from `w` the way the fuzzy clauses count it
(optimal string alignment, never in the first letter, as their `prefix_length` 1):

- a letter missing from `t`:   `w` stored as `-` + `w` without its i-th letter,  `t` looked up as `-t`;
- a letter too many in `t`:    `w` stored as `=w`,  `t` looked up as `=` + `t` without its j-th letter;
- a wrong letter in `t`:       both as `~` + the word with its i-th letter masked (`_`);
- two neighbours swapped:      `w` stored as `^` + `w` with letters i and i+1 swapped,  `t` looked up as `^t`.

(i, j ≥ 1: the first letter is never the slip; `=t` meets the same word.) A word of L letters stores about 3L keys; names repeat
their words endlessly, so the keys of a word are computed once.
"""

from __future__ import annotations

import re
from functools import lru_cache

from storage.identifiers import fold_name

# Like OpenSearch's standard tokenizer on a folded name: letters and digits, an apostrophe inside a word.
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
# Never in a folded token, so a masked letter is no letter.
_MASK = "_"
# No name word is longer. A longer run of letters (a pasted paragraph, a hostile file) keeps only itself:
# its keys would be about 3 per letter, each as long as the word.
MAX_LETTERS = 30


def tokens(text: str) -> list[str]:
    """The folded words of a name or of a typed word (lower case, no accents), in order."""
    return _TOKEN.findall(fold_name(text))


@lru_cache(maxsize=16384)
def stored_keys(word: str) -> tuple[str, ...]:
    """The keys a folded name word is stored with (`word` itself, missing letters, masked letters, swaps)."""
    if len(word) > MAX_LETTERS:
        return ("=" + word,)
    keys = {"=" + word}
    for i in range(1, len(word)):
        keys.add("-" + word[:i] + word[i + 1:])
        keys.add("~" + word[:i] + _MASK + word[i + 1:])
        if i + 1 < len(word) and word[i] != word[i + 1]:
            keys.add("^" + word[:i] + word[i + 1] + word[i] + word[i + 2:])
    return tuple(sorted(keys))


def lookup_keys(word: str) -> list[str]:
    """The keys a folded typed word is looked up by: they meet the stored keys of every word one slip away."""
    if len(word) > MAX_LETTERS:
        return ["=" + word]
    keys = {"=" + word, "-" + word, "^" + word}
    for j in range(1, len(word)):
        keys.add("=" + word[:j] + word[j + 1:])
        keys.add("~" + word[:j] + _MASK + word[j + 1:])
    return sorted(keys)


def name_keys(words: list[str]) -> list[str]:
    """Every stored key of some words (a name's folded words, or its phonetic keys), once each."""
    keys: set[str] = set()
    for word in words:
        keys.update(stored_keys(word))
    return sorted(keys)
