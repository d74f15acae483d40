"""One slip as a term lookup: the keys that let a typed word meet every name word one typo away (mapping v7).

A fuzzy clause builds a Levenshtein automaton and walks the term dictionary with it on every search: at
a million patients that was most of a typo'd name's time (bench/search_scale.py). One slip is spelt
out instead: a name word `w` is stored with keys, a typed word `t` is looked up by keys, and they share
one exactly when `t` is one slip from `w` the way the fuzzy clauses count it (optimal string alignment,
never in the first letter, as their `prefix_length` 1):

- a wrong letter in `t`:       both as `~` + the word with its i-th letter masked (`_`);
- a letter missing from `t`:   `w` as `~` + `w` with its i-th letter masked,  `t` as `~` + `t` with a mask put in at i;
- a letter too many in `t`:    `w` as `=w`,  `t` as `=` + `t` without its j-th letter;
- two neighbours swapped:      `w` as `=w`,  `t` as `=` + `t` with letters j and j+1 swapped.

(i, j ≥ 1: the first letter is never the slip; `=t` meets the same word.) A masked word's length tells
a wrong letter from a missing one. A word of L letters is stored with L keys and looked up by about 4L:
the index holds a million names, a search asks for one, so the work goes to the search (mapping v6
stored about 3L keys a word, and a rebuild spent a third of OpenSearch's time on them). Names repeat
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
# its keys would be one per letter, each as long as the word.
MAX_LETTERS = 30


def tokens(text: str) -> list[str]:
    """The folded words of a name or of a typed word (lower case, no accents), in order."""
    return _TOKEN.findall(fold_name(text))


@lru_cache(maxsize=16384)
def stored_keys(word: str) -> tuple[str, ...]:
    """The keys a folded name word is stored with: itself, and itself with each letter but the first masked."""
    if len(word) > MAX_LETTERS:
        return ("=" + word,)
    return ("=" + word, *("~" + word[:i] + _MASK + word[i + 1:] for i in range(1, len(word))))


def lookup_keys(word: str) -> list[str]:
    """The keys a folded typed word is looked up by: they meet the stored keys of every word one slip away."""
    if len(word) > MAX_LETTERS:
        return ["=" + word]
    keys = {"=" + word}
    for j in range(1, len(word)):
        keys.add("=" + word[:j] + word[j + 1:])  # a letter too many
        keys.add("~" + word[:j] + _MASK + word[j + 1:])  # a wrong letter
        if j + 1 < len(word) and word[j] != word[j + 1]:
            keys.add("=" + word[:j] + word[j + 1] + word[j] + word[j + 2:])  # two neighbours swapped
    for j in range(1, len(word) + 1):
        keys.add("~" + word[:j] + _MASK + word[j:])  # a letter missing
    return sorted(keys)


def name_keys(words: list[str]) -> list[str]:
    """Every stored key of some words (a name's folded words, or its phonetic keys), once each."""
    keys: set[str] = set()
    for word in words:
        keys.update(stored_keys(word))
    return sorted(keys)
