"""The pt-BR phonetic key: variants of one name meet, different names stay apart."""

from __future__ import annotations

import itertools
import re

import pytest

from indexing.phonetic import phonetic_key, phonetic_tokens
from storage.identifiers import strip_accents

# Spellings staff use for the same name: every pair must share a key, both ways.
SAME = (
    ("Souza", "Sousa"),
    ("Luiz", "Luís", "Luis", "Luíz"),
    ("Thiago", "Tiago"),
    ("Matheus", "Mateus", "Matteus"),
    ("Victor", "Vitor", "Vittor"),
    ("Isabela", "Izabela", "Isabella", "Izabella"),
    ("Felipe", "Phelipe"),
    ("Walter", "Valter", "Walther"),
    ("Ruth", "Rute"),
    ("Esther", "Ester"),
    ("Cristiane", "Christiane", "Kristiane"),
    ("Heloísa", "Eloísa", "Heloisa", "Heloiza"),
    ("Gonçalves", "Goncalves", "Gonsalves"),
    ("Rafael", "Raphael", "Raffael"),
    ("Wellington", "Welington", "Uelington"),
    ("Kátia", "Catia", "Cátia", "Katia"),
    ("Yasmin", "Iasmin", "Yasmim", "Iasmim"),
    ("Jéssica", "Jessica", "Jesica", "Gessica"),
    ("Ana", "Anna"),
    ("Emanuel", "Emmanuel"),
    ("Nathália", "Natalia", "Nathalia"),
    ("Sophia", "Sofia"),
    ("Kelly", "Keli", "Kely", "Kelli"),
    ("Cecília", "Cecilia", "Cesilia"),
    ("Ximenes", "Chimenes"),
    # The rule families of the brief, one group each.
    ("Cássia", "Cassia", "Casia"),  # doubled letter
    ("Ferreira", "Fereira"),  # doubled r typed single
    ("Helena", "Elena"),  # silent h at the start
    ("Sarah", "Sara"),  # silent h at the end
    ("Rhuan", "Ruan"),  # silent h after a consonant
    ("Jhonatan", "Jonathan", "Jonatan"),
    ("Campos", "Canpos"),  # m before a consonant is nasal, like n
    ("Assunção", "Assuncao", "Assunsão"),  # ç / c / s after n
    ("Lourenço", "Lourenco", "Lourenso"),
    ("França", "Franca", "Fransa"),
    ("Nascimento", "Nacimento", "Nassimento"),  # sc(e,i) / c(e,i) / ss
    ("Letícia", "Leticia", "Letisia"),
    ("Michele", "Michelle", "Mixele"),  # ch / x
    ("Sheila", "Cheila", "Xeila"),  # sh / ch / x
    ("Shirley", "Xirlei"),
    ("Raquel", "Rakel"),  # qu(e,i) / k
    ("Henrique", "Henrike"),
    ("Carla", "Karla"),  # c(a,o,u) / k
    ("Érica", "Erika", "Erica"),
    ("Rebeca", "Rebecca", "Rebeka"),
    ("Jackson", "Jakson", "Jacson"),
    ("Baptista", "Batista"),  # silent p before t
    ("Octávio", "Otávio"),  # silent c before t
    ("Yuri", "Iuri"),  # y / i
    ("Thaís", "Tais", "Thays", "Taiz"),
    ("Daiane", "Dayane"),
    ("Oswaldo", "Osvaldo"),  # w / v
    ("Wagner", "Vagner"),
    ("Wilson", "Vilson", "Uilson"),  # an initial u + vowel spells an English w
    ("Uelinton", "Welinton"),
    ("Newton", "Neuton"),  # w after a vowel before a consonant / u
    ("Adalto", "Adauto"),  # l / u closing a syllable
    ("Elza", "Elsa"),
    ("Queiroz", "Queirós", "Queiros"),  # final z / s
    ("Cruz", "Crus"),
    ("Tereza", "Teresa", "Thereza"),  # z / s between vowels
    ("Rosa", "Roza", "Rossa"),
    ("Judith", "Judite"),  # final th / te
    ("Elizabeth", "Elisabete", "Elizabete"),
    ("Geovana", "Jeovana"),  # g(e,i) / j
    ("Guilherme", "Guillherme"),
)

# Different names that must keep different keys, checked both ways.
DIFFERENT = (
    ("Maria", "Mario"),  # gender endings carry identity
    ("Ana", "Ane"),
    ("Paulo", "Paula"),
    ("João", "Joana"),
    ("Silva", "Selva"),  # no e/i merge
    ("Souza", "Santos"),
    ("Lima", "Luna"),
    ("Costa", "Castro"),
    ("Pereira", "Ferreira"),
    ("Rocha", "Rosa"),
    ("Carla", "Carlos"),
    ("Bruno", "Breno"),
    ("Luiz", "Luiza"),
    ("Daniel", "Daniela"),
    ("Gabriel", "Gabriela"),
    ("Marcos", "Marcio"),
    ("Marcos", "Marco"),  # a final s is kept
    ("Santos", "Santo"),
    ("Isabel", "Isabela"),
    ("Júlio", "Júlia"),
    ("Fernando", "Fernanda"),
    ("Antônio", "Antônia"),
    ("Francisco", "Francisca"),
    ("Renato", "Renata"),
    ("Mariana", "Marina"),
    ("Luzia", "Luíza"),
    ("Zélia", "Célia"),  # an initial z stays z
    ("Raul", "Rau"),  # Raul keeps its l
    ("Raul", "Paulo"),
    ("Felipe", "Filipe"),  # decision: no unstressed e/i merge (fuzzy matching covers it)
    ("Lucas", "Lúcia"),
    ("Sara", "Clara"),
    ("Rita", "Rute"),
    ("Guilherme", "Gilherme"),  # gu(e,i) is hard, g(e,i) is j
    ("Miguel", "Manuel"),
)

# Exact keys, so a rule change is a visible diff.
EXPECTED = {
    "Souza": "SOUSA",
    "Luís": "LUIS",
    "Thiago": "TIAGO",
    "Victor": "VITOR",
    "Walter": "VAUTER",
    "Ruth": "RUTE",
    "Christiane": "KRISTIANE",
    "Heloísa": "ELOISA",
    "Gonçalves": "GONKAUVES",
    "Wellington": "VELINGTON",
    "Yasmim": "IASMIN",
    "Jéssica": "JESIKA",
    "Emmanuel": "EMANUEU",
    "Cecília": "SESILIA",
    "Chimenes": "XIMENES",
    "Rocha": "ROXA",
    "Raul": "RAUL",
    "Silva": "SIUVA",
    "Nascimento": "NASIMENTO",
    "Zélia": "ZELIA",
    "Newton": "NEUTON",
    "Guilherme": "GUILHERME",
    "Miguel": "MIGUEU",
    "Coelho": "KOELHO",
    "Pinheiro": "PINHEIRO",
    "Luzia": "LUSIA",
    "Lúcia": "LUSIA",  # forced: Souza/Sousa makes z = s, Cecília/Cesília makes s = c(e,i)
}

LEXICON = sorted({w for group in SAME for w in group} | {w for pair in DIFFERENT for w in pair} | set(EXPECTED))


def _pairs_within(groups):
    return [pair for group in groups for pair in itertools.permutations(dict.fromkeys(group), 2)]


@pytest.mark.parametrize(("a", "b"), _pairs_within(SAME))
def test_variants_share_a_key(a, b):
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(("a", "b"), [*DIFFERENT, *((b, a) for a, b in DIFFERENT)])
def test_different_names_keep_different_keys(a, b):
    assert phonetic_key(a) != phonetic_key(b)


@pytest.mark.parametrize(("word", "key"), EXPECTED.items())
def test_exact_keys(word, key):
    assert phonetic_key(word) == key


@pytest.mark.parametrize("word", LEXICON)
def test_key_is_idempotent(word):
    key = phonetic_key(word)
    assert phonetic_key(key) == key


@pytest.mark.parametrize("word", LEXICON)
def test_key_ignores_accents_and_case(word):
    key = phonetic_key(word)
    assert phonetic_key(strip_accents(word)) == key
    assert phonetic_key(word.upper()) == key
    assert phonetic_key(word.lower()) == key
    assert phonetic_key(f"  {word}\t") == key


@pytest.mark.parametrize("word", LEXICON)
def test_key_is_ascii_capitals_and_stable(word):
    key = phonetic_key(word)
    assert re.fullmatch(r"[A-Z]+", key)
    assert all(phonetic_key(word) == key for _ in range(3))


@pytest.mark.parametrize("text", ["", " ", "   ", "'", "-", "--'´", "123", "...", "\t\n", "李", "😀"])
def test_no_letters_give_no_key(text):
    assert phonetic_key(text) == ""
    assert phonetic_tokens(text) == []


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("D'Ávila", "DAVILA"),  # an apostrophe joins
        ("D’Ávila", "DAVILA"),  # typographic apostrophe
        ("D´Ávila", "DAVILA"),  # acute accent typed as an apostrophe
        ("Dávila", "DAVILA"),
        ("Ana-Maria", "ANAMARIA"),  # one token: phonetic_key keeps letters only
        ("Luiz2", "LUIS"),
        ("MÜLLER", "MULER"),
        ("Ñuñez", "NUNES"),
    ],
)
def test_key_of_one_token_keeps_letters_only(word, key):
    assert phonetic_key(word) == key


def test_key_of_a_connector_word_is_not_dropped():
    # Only phonetic_tokens knows about connectors; a single token is always keyed.
    assert phonetic_key("da") == "DA"
    assert phonetic_key("E") == "E"


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Maria da Silva", ["MARIA", "SIUVA"]),
        ("  Maria   da    Silva  ", ["MARIA", "SIUVA"]),
        ("Maria\tda\nSilva", ["MARIA", "SIUVA"]),
        ("MARIA DA SILVA", ["MARIA", "SIUVA"]),
        ("José dos Santos e Silva", ["JOSE", "SANTOS", "SIUVA"]),
        ("Ana de Souza do Nascimento das Neves", ["ANA", "SOUSA", "NASIMENTO", "NEVES"]),
        ("Ana-Maria Souza", ["ANA", "MARIA", "SOUSA"]),  # a hyphen splits words
        ("Ana - Maria", ["ANA", "MARIA"]),
        ("Joana D'Ávila", ["JOANA", "DAVILA"]),
        ("Joana d’Ávila", ["JOANA", "DAVILA"]),
        ("Maria Maria", ["MARIA", "MARIA"]),  # order and repeats kept
        ("Silva, Maria", ["SIUVA", "MARIA"]),
        ("da de do dos das e", []),
        ("Thiago Gonçalves de Souza", ["TIAGO", "GONKAUVES", "SOUSA"]),
    ],
)
def test_tokens_of_a_full_name(name, tokens):
    assert phonetic_tokens(name) == tokens


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Thiago Gonçalves de Souza", "tiago goncalves sousa"),
        ("Heloísa Cristiane Ximenes", "eloisa christiane chimenes"),
        ("Luís Felipe da Silva", "luiz phelipe silva"),
        ("Yasmin Nathália Kelly", "iasmim natalia keli"),
        ("Walter Matheus Esther", "valter mateus ester"),
    ],
)
def test_full_names_typed_differently_share_tokens(written, typed):
    assert phonetic_tokens(written) == phonetic_tokens(typed)


@pytest.mark.parametrize("name", ["Maria Aparecida da Silva", "JOÃO PEDRO DOS SANTOS", "Ana D'Ávila"])
def test_tokens_are_the_keys_of_the_words(name):
    assert phonetic_tokens(name) == [phonetic_key(k) for k in phonetic_tokens(name)]
