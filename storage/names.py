"""A pt-BR phonetic key for person names, so spelling variants of a name meet (search and record linkage).

Computed in Python at index time and stored beside the name; a query's words get
the same key, so `Tiago Sousa` finds `Thiago Souza`. It is an extra recall signal
beside fuzzy matching, so it merges only spellings of the *same* name and keeps
different names apart: vowels are never merged (Maria/Mario, Paulo/Paula,
Luiz/Luiza stay distinct), and neither is a final `s` (Marcos/Marco).

The rules are a small BuscaBR/metaphone-pt adaptation, applied in order to the
folded token (no accents, lower case, letters only). Guarantees:

- accent and case blind: `key(x) == key(strip_accents(x).upper())`, because staff
  type without accents. The price: `ç` reads as `c`, so Graça/Graca meet but not
  Grassa; after `n` the rule below makes Gonçalves/Goncalves/Gonsalves meet;
- idempotent: `key(key(x)) == key(x)`; keys are `A–Z` only, `''` for no letters.

Decisions on borderline pairs:

- Felipe/Filipe stay apart: telling an unstressed e from i needs the stress,
  which spelling does not give, and a general e/i merge would join Silva/Selva.
  Fuzzy matching (one edit) covers Filipe.
- Luzia/Lúcia meet (both `LUSIA`): Souza/Sousa forces z = s and Cecília/Cesília
  forces s = c(e,i), so no consistent rule can keep them apart.
- `l` after a vowel before a consonant is vocalised (Walter → VAUTER, Adalto =
  Adauto), but not after `u`: Raul keeps its `l` (RAUL), else it would collapse
  into `RAU`.
- `w` is `v` (Walter/Valter, Wellington/Welington, Oswaldo/Osvaldo), `u` after a
  vowel before a consonant (Newton); a leading `u` + vowel is the phonetic
  spelling of an English `w` (Uelinton, Uilson), so it is `v` too.
- An initial `z` stays `Z` (Zélia ≠ Célia); elsewhere `z` is `s`.
- Apostrophes join (D'Ávila → DAVILA, the way staff type it); hyphens split
  words in `phonetic_tokens` (Ana-Maria = Ana Maria).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Connectors carry no identity and staff leave them out ("Maria Silva").
CONNECTORS = frozenset({"da", "de", "do", "dos", "das", "e"})

# Marks that join an elided name (D'Ávila, D´Ávila, D’Ávila) rather than split it.
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_LETTERS = re.compile(r"[^a-z]+")

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # Portuguese writes a final -th as -te: Ruth/Rute, Judith/Judite, Elizabeth/Elizabete.
        (r"th$", "te"),
        # ph is the old spelling of f: Raphael/Rafael, Sophia/Sofia, Phelipe/Felipe.
        (r"ph", "f"),
        # th is the old spelling of t: Thiago/Tiago, Matheus/Mateus, Esther/Ester, Nathália.
        (r"th", "t"),
        # English sh sounds like x/ch: Sheila/Xeila/Cheila, Shirley/Xirlei.
        (r"sh", "x"),
        # Greek ch before a consonant is k: Christiane/Cristiane, Chloé.
        (r"ch(?=[rl])", "k"),
        # Otherwise ch and x are the same sound: Chimenes/Ximenes, Rocha.
        (r"ch", "x"),
        # y is an i in Portuguese: Yasmin/Iasmin, Kelly/Keli, Thaís/Thays.
        (r"y", "i"),
        # h is silent except in the digraphs lh and nh: Heloísa/Eloísa, Sarah, Rhuan, Jhonatan.
        (r"(?<![ln])h", ""),
        # Doubled letters are the commonest typo and rarely tell names apart: Isabella, Anna, Emmanuel.
        (r"(.)\1+", r"\1"),
        # w after a vowel before a consonant is a u sound: Newton.
        (r"(?<=[aeiou])w(?![aeiou])", "u"),
        # Any other w is read as v: Walter/Valter, Wellington, Oswaldo/Osvaldo.
        (r"w", "v"),
        # A leading u + vowel spells an English w: Uelinton/Wellington, Uilson/Wilson.
        (r"^u(?=[aeiou])", "v"),
        # c and p before t are silent in Brazilian spelling: Victor/Vitor, Octávio, Baptista/Batista.
        (r"[cp]t", "t"),
        # m before a consonant or at the end only nasalises the vowel, like n: Yasmim/Yasmin, Campos.
        (r"m(?![aeiou])", "n"),
        # l closing a syllable sounds like u: Walter/Vauter, Adalto/Adauto; after u it is kept (Raul).
        (r"(?<=[aeio])l(?![aeiouh])", "u"),
        # z is s except at the start: Souza/Sousa, Luiz/Luís, Izabela, Heloiza (Zélia ≠ Célia).
        (r"(?<!^)z", "s"),
        # After n, c (also a folded ç) and s before a/o/u are one code: Gonçalves/Goncalves/Gonsalves.
        (r"n[cs](?=[aou])", "nk"),
        # sc before e/i is one s sound: Nascimento/Nacimento.
        (r"sc(?=[ei])", "s"),
        # c before e/i is s: Cecília/Cesília, Letícia/Letisia.
        (r"c(?=[ei])", "s"),
        # qu before e/i is a k with a silent u: Raquel/Rakel, Henrique.
        (r"qu(?=[ei])", "k"),
        # Any other q is a k: Quaresma.
        (r"q", "k"),
        # The remaining c is hard, like k: Kátia/Cátia, Karla/Carla, Erika/Érica.
        (r"c", "k"),
        # g before e/i sounds like j: Gessica/Jéssica, Geovana/Jeovana (gu keeps its u, so Guilherme stays g).
        (r"g(?=[ei])", "j"),
        # The rules above can leave doubles (Jackson → jakkson, Nascimento); fold them again.
        (r"(.)\1+", r"\1"),
    )
)


def _fold(text: str) -> str:
    """Drop apostrophes and accents and lower the case; other characters stay."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Names repeat their words endlessly (Maria, Silva, Santos): a drain of thousands of patients
# meets a few thousand distinct tokens, so each key is computed once (bounded: ~1 MB at most).
@lru_cache(maxsize=8192)
def phonetic_key(word: str) -> str:
    """The phonetic key of one name token (A–Z only, '' without letters); accent and case blind, idempotent."""
    text = _NON_LETTERS.sub("", _fold(word))
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.upper()


def phonetic_tokens(name: str) -> list[str]:
    """The keys of a full name's words in order, connectors (da, de, do, dos, das, e) left out."""
    words = _NON_LETTERS.split(_fold(name))
    return [phonetic_key(word) for word in words if word and word not in CONNECTORS]
