"""A synthetic patient registry and judged search queries, for relevance benchmarks.

Synthetic people only. `make_registry(n, seed)` gives patients in the API's
create shape; `make_judgements(registry, count, seed)` gives queries as staff
really type them (no accents, typos, spelling variants, CPF and phone fragments),
each with the ONE patient it must find. Targets are chosen so that a perfect
engine can reach recall@1 = 1.0: no other patient matches the query as well.
Both are deterministic for a seed (no iteration over sets of strings, whose order
changes with PYTHONHASHSEED).

    python -m bench.relevance_data [n] [seed]
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from storage.identifiers import cpf_check_digits, fold_name, format_cpf, strip_accents

FEMALE = (
    "Maria", "Ana", "Anna", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia",
    "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Jesica", "Letícia", "Júlia", "Luciana",
    "Vanessa", "Mariana", "Gabriela", "Vitória", "Larissa", "Cláudia", "Beatriz", "Rita", "Luana", "Sônia",
    "Renata", "Eliane", "Heloísa", "Eloísa", "Isabela", "Izabela", "Isabella", "Cristiane", "Christiane",
    "Ruth", "Rute", "Esther", "Ester", "Kátia", "Cátia", "Yasmin", "Iasmin", "Yasmim", "Nathália", "Natália",
    "Sophia", "Sofia", "Kelly", "Keli", "Cecília", "Cesília", "Luíza", "Luísa", "Daniela", "Paula", "Joana",
    "Carla", "Luzia", "Lúcia", "Tereza", "Teresa", "Raquel", "Rebeca", "Simone", "Débora", "Priscila",
    "Tatiane", "Thaís", "Taís", "Helena", "Elisabete", "Elizabeth", "Aparecida", "Clara", "Eduarda",
)
MALE = (
    "José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Luís", "Luis",
    "Marcos", "Márcio", "Gabriel", "Rafael", "Raphael", "Daniel", "Marcelo", "Bruno", "Breno", "Eduardo",
    "Felipe", "Phelipe", "Filipe", "Raimundo", "Rodrigo", "Manoel", "Mateus", "Matheus", "André", "Fernando",
    "Fábio", "Leonardo", "Gustavo", "Guilherme", "Leandro", "Thiago", "Tiago", "Victor", "Vitor", "Walter",
    "Valter", "Wellington", "Welington", "Emanuel", "Emmanuel", "Sebastião", "Cláudio", "Edson", "Raul",
    "Mário", "Otávio", "Heitor", "Vinícius", "Sérgio", "Henrique", "Miguel", "Arthur", "Davi", "Samuel",
)
# Surnames with the connector they usually take ("" for none); staff often leave it out.
SURNAMES = (
    ("Silva", "da"), ("Santos", "dos"), ("Oliveira", "de"), ("Souza", "de"), ("Sousa", "de"),
    ("Rodrigues", ""), ("Ferreira", ""), ("Alves", ""), ("Pereira", ""), ("Lima", ""), ("Gomes", ""),
    ("Costa", "da"), ("Ribeiro", ""), ("Martins", ""), ("Carvalho", "de"), ("Almeida", "de"), ("Lopes", ""),
    ("Soares", ""), ("Fernandes", ""), ("Vieira", ""), ("Barbosa", ""), ("Rocha", "da"), ("Dias", ""),
    ("Nascimento", "do"), ("Andrade", "de"), ("Moreira", ""), ("Nunes", ""), ("Marques", ""), ("Machado", ""),
    ("Mendes", ""), ("Freitas", "de"), ("Cardoso", ""), ("Ramos", ""), ("Gonçalves", ""), ("Gonsalves", ""),
    ("Santana", ""), ("Teixeira", ""), ("Araújo", ""), ("Melo", ""), ("Castro", ""), ("Conceição", "da"),
    ("Jesus", "de"), ("Neves", "das"), ("Assunção", "da"), ("Cruz", "da"), ("Ximenes", ""), ("Chimenes", ""),
    ("Cavalcanti", ""), ("Queiroz", ""), ("Lourenço", ""), ("D'Ávila", ""), ("Rosa", "da"), ("Luz", "da"),
    ("Brito", ""), ("Reis", "dos"), ("Batista", ""), ("Monteiro", ""), ("Pinto", ""), ("Campos", ""),
)
# Spellings of one name; a `spelling_variant` query swaps one for another of its group.
VARIANTS = (
    ("Souza", "Sousa"), ("Luiz", "Luís"), ("Thiago", "Tiago"), ("Matheus", "Mateus"), ("Victor", "Vitor"),
    ("Isabela", "Izabela", "Isabella"), ("Felipe", "Phelipe", "Filipe"), ("Walter", "Valter"),
    ("Ruth", "Rute"), ("Esther", "Ester"), ("Cristiane", "Christiane"), ("Heloísa", "Eloísa"),
    ("Gonçalves", "Gonsalves"), ("Rafael", "Raphael"), ("Wellington", "Welington"), ("Kátia", "Cátia"),
    ("Yasmin", "Iasmin", "Yasmim"), ("Jéssica", "Jesica"), ("Ana", "Anna"), ("Emanuel", "Emmanuel"),
    ("Nathália", "Natália"), ("Sophia", "Sofia"), ("Kelly", "Keli"), ("Cecília", "Cesília"),
    ("Ximenes", "Chimenes"), ("Tereza", "Teresa"), ("Thaís", "Taís"), ("Elisabete", "Elizabeth"),
    ("Luíza", "Luísa"),
)
# City, UF, DDDs, CEP prefix and neighbourhoods: phones and CEPs agree with the city.
CITIES = (
    ("São Paulo", "SP", ("11",), "0", ("Moema", "Pinheiros", "Tatuapé", "Santana", "Vila Mariana", "Itaquera")),
    ("Campinas", "SP", ("19",), "13", ("Cambuí", "Taquaral", "Barão Geraldo", "Castelo")),
    ("Rio de Janeiro", "RJ", ("21",), "2", ("Tijuca", "Copacabana", "Barra da Tijuca", "Méier", "Taquara")),
    ("Niterói", "RJ", ("21",), "24", ("Icaraí", "Santa Rosa", "Fonseca")),
    ("Belo Horizonte", "MG", ("31",), "3", ("Savassi", "Pampulha", "Buritis", "Santa Efigênia")),
    ("Curitiba", "PR", ("41",), "8", ("Batel", "Água Verde", "Portão", "Boqueirão")),
    ("Porto Alegre", "RS", ("51",), "9", ("Moinhos de Vento", "Menino Deus", "Partenon")),
    ("Salvador", "BA", ("71",), "4", ("Barra", "Pituba", "Itapuã", "Liberdade")),
    ("Recife", "PE", ("81",), "5", ("Boa Viagem", "Casa Forte", "Madalena")),
    ("Fortaleza", "CE", ("85",), "6", ("Aldeota", "Meireles", "Messejana")),
    ("Brasília", "DF", ("61",), "7", ("Asa Sul", "Asa Norte", "Taguatinga", "Guará")),
)
STREETS = (
    "Rua das Flores", "Avenida Brasil", "Rua Sete de Setembro", "Rua XV de Novembro", "Avenida Paulista",
    "Rua São João", "Rua Dom Pedro II", "Travessa da Paz", "Rua Tiradentes", "Avenida Getúlio Vargas",
    "Rua Barão do Rio Branco", "Alameda dos Anjos", "Rua Padre Anchieta", "Estrada do Campo Limpo",
)
HEALTH_PLANS = (
    ("44", "PARTICULAR"), ("80", "AMIL"), ("67", "BRADESCO SAÚDE"), ("63", "SULAMÉRICA SERVIÇOS DE SAÚDE"),
    ("157", "UNIMED FEDERAÇÃO RIO - FERJ"), ("1030", "PREVENT SÊNIOR"), ("305", "PORTO SEGURO SAÚDE"),
    ("210", "NOTREDAME INTERMÉDICA"), ("91", "CASSI"), ("120", "OMINT"),
)
# Full names many patients share (a registry of millions holds thousands of each): share of the
# registry, gender. `make_registry` gives exactly round(n * share) patients each name.
NAMESAKES = (
    ("Maria da Silva", 0.003, "female"), ("José da Silva", 0.002, "male"), ("Maria dos Santos", 0.0015, "female"),
    ("Ana Paula de Souza", 0.001, "female"), ("João Pereira", 0.001, "male"), ("Antônio Carlos Oliveira", 0.001, "male"),
    ("Francisca Ferreira", 0.001, "female"), ("Maria Aparecida Lima", 0.001, "female"),
)
KINDS = (
    "exact_name", "no_accents", "typo1", "typo2", "spelling_variant", "missing_middle",
    "cpf_full_punctuated", "cpf_digits", "cpf_partial", "phone_full", "phone_last4_with_first_name",
    "first_last_lowercase",
    # Issue 15: birth dates in the box, a slip in the first and the last name, namesakes told apart.
    "name_birth_date", "first_name_birth_date", "birth_date_alone", "typo_first_and_last",
    "namesake_birth_date", "namesake_phone", "namesake_neighbourhood",
)
# How staff type a birth date (14/07/1952): the forms the search box reads as dates.
DATE_FORMATS = ("dd/mm/aaaa", "dd/mm/aa", "dd-mm-aaaa", "ddmmaaaa", "aaaa-mm-dd")
CONNECTORS = ("da", "de", "do", "dos", "das", "e")
# Neighbouring keys on a Brazilian (QWERTY) keyboard: the letters a slip really produces.
NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok", "o": "ipl",
    "p": "ol", "a": "qsz", "s": "adwx", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy", "j": "hku", "k": "jli",
    "l": "kop", "z": "xas", "x": "zcs", "c": "xvd", "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}
_NON_LETTERS = re.compile(r"[^a-z]+")


class Judgement(NamedTuple):
    """A query and the index in the registry of the one patient it must find."""

    query: str
    kind: str
    target_index: int


def words(name: str) -> list[str]:
    """The folded words of a name without connectors and apostrophes: 'D'Ávila' -> 'davila'."""
    folded = fold_name(name).replace("'", "")
    return [w for w in _NON_LETTERS.split(folded) if w and w not in CONNECTORS]


_CANONICAL = {fold_name(spelling): fold_name(group[0]) for group in VARIANTS for spelling in group}


# Cached: the generator asks for the same few hundred names millions of times (bench.search_scale).
@lru_cache(maxsize=65536)
def canonical(name: str) -> tuple[str, ...]:
    """A name's words with each spelling variant replaced by its group's first spelling."""
    return tuple(_CANONICAL.get(w, w) for w in words(name))


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """The edit distance of two strings; stops early (returning limit + 1) once it must exceed `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def osa_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit (what fuzzy queries allow)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def typed_date(rnd: random.Random, day: date) -> str:
    """A birth date the way staff type it, in one of DATE_FORMATS."""
    dd, mm, yyyy = f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"
    return {
        "dd/mm/aaaa": f"{dd}/{mm}/{yyyy}", "dd/mm/aa": f"{dd}/{mm}/{yyyy[2:]}", "dd-mm-aaaa": f"{dd}-{mm}-{yyyy}",
        "ddmmaaaa": f"{dd}{mm}{yyyy}", "aaaa-mm-dd": f"{yyyy}-{mm}-{dd}",
    }[rnd.choice(DATE_FORMATS)]


# DATE_FORMATS as (pattern, order of day, month and year in its groups).
_DATE_PATTERNS = (
    (re.compile(r"(\d{2})/(\d{2})/(\d{4}|\d{2})"), (0, 1, 2)),
    (re.compile(r"(\d{2})-(\d{2})-(\d{4})"), (0, 1, 2)),
    (re.compile(r"(\d{2})(\d{2})(\d{4})"), (0, 1, 2)),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (2, 1, 0)),
)


def date_readings(typed: str) -> list[date]:
    """The days a date typed in one of DATE_FORMATS may stand for: none when it is no real day, two for
    a two-digit year (19yy and 20yy: the judgements count both as rivals, whatever today is)."""
    for pattern, order in _DATE_PATTERNS:
        if match := pattern.fullmatch(typed):
            break
    else:
        return []
    day_text, month_text, year_text = (match.groups()[k] for k in order)
    day, month = int(day_text), int(month_text)
    years = [int(year_text)] if len(year_text) == 4 else [1900 + int(year_text), 2000 + int(year_text)]
    readings = []
    for year in years:
        try:
            readings.append(date(year, month, day))
        except ValueError:
            pass
    return readings


# -- the registry ---------------------------------------------------------------------------------


def _name(rnd: random.Random, gender: str) -> str:
    """Given names (a compound one a quarter of the time) and 1–3 surnames, some with connectors."""
    pool = FEMALE if gender == "female" else MALE
    given = [rnd.choice(pool)]
    if rnd.random() < 0.25:
        # Never two spellings of one name (Luiz Luís).
        given.append(rnd.choice([g for g in pool if canonical(g) != canonical(given[0])]))
    parts = list(given)
    surnames = rnd.sample(SURNAMES, rnd.choices((1, 2, 3), weights=(30, 55, 15))[0])
    for position, (surname, connector) in enumerate(surnames):
        if any(canonical(surname) == canonical(s) for s, _ in surnames[:position]):
            continue  # Souza Sousa would be one surname spelt twice
        if connector and rnd.random() < 0.5:
            parts.append(connector)
        parts.append(surname)
    name = " ".join(parts)
    # Imports from DasaExp often arrive in capitals.
    return name.upper() if rnd.random() < 0.15 else name


def _cpf(rnd: random.Random, taken: set[str]) -> str:
    """A new valid CPF: nine random digits and their mod-11 check digits."""
    while True:
        nine = "".join(str(rnd.randrange(10)) for _ in range(9))
        cpf = nine + cpf_check_digits(nine)
        if len(set(nine)) > 1 and cpf not in taken:
            taken.add(cpf)
            return cpf


def _phones(rnd: random.Random, ddd: str) -> list[str]:
    """Mostly a mobile, sometimes a landline too, now and then nothing (many visits come without contact)."""
    if rnd.random() < 0.08:
        return []
    mobile = f"{ddd}9{rnd.randint(6, 9)}{rnd.randrange(10_000_000):07d}"
    landline = f"{ddd}{rnd.randint(2, 5)}{rnd.randrange(10_000_000):07d}"
    roll = rnd.random()
    if roll < 0.65:
        return [mobile]
    if roll < 0.9:
        return [mobile, landline]
    return [landline]


def _birth_date(rnd: random.Random) -> date:
    """Home collection serves many elderly patients: 60% born 1930–1965, the rest up to 2022."""
    if rnd.random() < 0.6:
        start, end = date(1930, 1, 1), date(1965, 12, 31)
    else:
        start, end = date(1966, 1, 1), date(2022, 12, 31)
    return start + timedelta(days=rnd.randrange((end - start).days + 1))


def make_registry(n: int, seed: int) -> list[dict]:
    """`n` synthetic patients as API create bodies; deterministic for a seed, CPFs valid and unique."""
    rnd = random.Random(seed)
    taken: set[str] = set()
    registry = []
    for _ in range(n):
        gender = rnd.choice(("female", "male"))
        city, state, ddds, cep_prefix, neighbourhoods = rnd.choice(CITIES)
        code, plan = rnd.choice(HEALTH_PLANS)
        registry.append({
            "name": _name(rnd, gender),
            "gender": gender,
            "cpf": _cpf(rnd, taken),
            "birth_date": _birth_date(rnd).isoformat(),
            "phones": _phones(rnd, rnd.choice(ddds)),
            "address": {
                "street": rnd.choice(STREETS),
                "number": str(rnd.randint(1, 3000)),
                "neighborhood": rnd.choice(neighbourhoods),
                "city": city,
                "state": state,
                "zip_code": cep_prefix + "".join(str(rnd.randrange(10)) for _ in range(8 - len(cep_prefix))),
            },
            "health_plan": {"code": code, "name": plan},
        })
    # A separate stream: the draws above stay those of `bench.search_scale_data`'s patients.
    _give_namesakes(registry, random.Random(f"namesakes:{seed}"))
    return registry


def _give_namesakes(registry: list[dict], rnd: random.Random) -> None:
    """Rename exactly round(n * share) patients to each name of NAMESAKES (gender to match), some in capitals."""
    order = list(range(len(registry)))
    rnd.shuffle(order)
    start = 0
    for name, share, gender in NAMESAKES:
        count = round(len(registry) * share)
        for i in order[start:start + count]:
            roll = rnd.random()
            # Imports arrive in capitals, sometimes without their accents too.
            typed = strip_accents(name).upper() if roll < 0.07 else name.upper() if roll < 0.15 else name
            registry[i]["name"], registry[i]["gender"] = typed, gender
        start += count


# -- the judgements -------------------------------------------------------------------------------


class _Index:
    """Lookups over a registry that tell whether a query could match anyone but its target."""

    def __init__(self, registry: list[dict]) -> None:
        self.registry = registry
        self.folded = [fold_name(p["name"]) for p in registry]
        self.words = [words(p["name"]) for p in registry]
        self.canonical = Counter(canonical(p["name"]) for p in registry)
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for i, ws in enumerate(self.words):
            for w in dict.fromkeys(ws):
                self.by_word[w].append(i)
        self.by_length: dict[int, list[int]] = defaultdict(list)
        for i, folded in enumerate(self.folded):
            self.by_length[len(folded)].append(i)
        self.phones = Counter(phone for p in registry for phone in p["phones"])
        self.lexicon = {fold_name(w) for w in (*FEMALE, *MALE, *(s for s, _ in SURNAMES), *sum(VARIANTS, ()))}
        # Spellings of one name are one word here: a rival spelt another way is still a rival.
        self.by_canonical: dict[str, set[int]] = defaultdict(set)
        for i, name in enumerate(self.folded):
            for w in canonical(name):
                self.by_canonical[w].add(i)
        self.by_birth: dict[date, set[int]] = defaultdict(set)
        for i, p in enumerate(registry):
            self.by_birth[date.fromisoformat(p["birth_date"])].add(i)
        # The words of where each patient lives and pays: what the box also matches beside the name.
        self.place_words = [
            {_CANONICAL.get(w, w) for w in words(" ".join((p["address"]["street"], p["address"]["neighborhood"],
                                                           p["address"]["city"], p["health_plan"]["name"])))}
            for p in registry
        ]

    def unique_name(self, i: int) -> bool:
        """No one else has this name, even spelt with another variant."""
        return self.canonical[canonical(self.registry[i]["name"])] == 1

    def only_one_with(self, i: int, *query_words: str) -> bool:
        """Patient `i` is the only one whose name holds all these words."""
        holders = set(self.by_word.get(query_words[0], []))
        for w in query_words[1:]:
            holders &= set(self.by_word.get(w, []))
        return holders == {i}

    def holding(self, query_words: Collection[str]) -> set[int]:
        """The patients whose name holds every word (spelling variants alike)."""
        keys = [_CANONICAL.get(w, w) for w in query_words]
        if not keys:
            return set(range(len(self.registry)))
        found = set(self.by_canonical.get(keys[0], ()))
        for key in keys[1:]:
            found &= self.by_canonical.get(key, set())
        return found

    def born_on(self, typed: str) -> set[int]:
        """The patients a typed date may point at: born on one of its readings, or (8 digits) with a
        CEP, a CPF start or a phone end of those digits, the other meanings of `ddmmaaaa`."""
        found = {j for day in date_readings(typed) for j in self.by_birth.get(day, ())}
        if typed.isdigit():
            found |= {
                j for j, p in enumerate(self.registry)
                if p["address"]["zip_code"] == typed or p["cpf"].startswith(typed)
                or any(phone.endswith(typed) for phone in p["phones"])
            }
        return found

    def nearest_is(self, i: int, query: str, distance: int) -> bool:
        """No other patient's folded name is within `distance` edits of the query."""
        for length in range(len(query) - distance, len(query) + distance + 1):
            for other in self.by_length.get(length, []):
                if other != i and levenshtein(query, self.folded[other], distance) <= distance:
                    return False
        return True


def _typo(rnd: random.Random, word: str) -> str:
    """One keyboard slip (substitution, insertion or deletion), never in the first letter."""
    at = rnd.randrange(1, len(word))
    slip = rnd.choice(("substitute", "insert", "delete"))
    if slip == "substitute":
        return word[:at] + rnd.choice(NEIGHBOURS.get(word[at], "aeiou")) + word[at + 1:]
    if slip == "insert":
        # A doubled letter or a neighbouring key pressed along.
        return word[:at] + rnd.choice((word[at - 1], *NEIGHBOURS.get(word[at - 1], "aeiou"))) + word[at:]
    return word[:at] + word[at + 1:]


def _slip_or_swap(rnd: random.Random, word: str) -> str:
    """One keyboard slip or two neighbouring letters swapped, never in the first letter."""
    if len(word) >= 3 and rnd.random() < 0.3:
        at = rnd.randrange(1, len(word) - 1)
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return _typo(rnd, word)


def slip(rnd: random.Random, folded: str, lexicon: Collection[str], edits: int) -> tuple[str, str] | None:
    """`folded` with `edits` keyboard slips in one word of 6+ letters: (the query, the word slipped).

    None when no word is long enough, when the slips make another real name (Daniel ->
    Daniela: not a typo any more) or undo each other (fewer than `edits` apart).
    """
    tokens = folded.split(" ")
    candidates = [t for t, w in enumerate(tokens) if w.isalpha() and len(w) >= 6 and w not in CONNECTORS]
    if not candidates:
        return None
    position = rnd.choice(candidates)
    word = tokens[position]
    for _ in range(edits):
        word = _typo(rnd, word)
    if word in lexicon:
        return None
    query = " ".join([*tokens[:position], word, *tokens[position + 1:]])
    if levenshtein(query, folded) != edits:
        return None
    return query, tokens[position]


def _typo_query(rnd: random.Random, index: _Index, i: int, edits: int) -> str | None:
    """The folded name with `edits` slips in one word of 6+ letters, if it stays nearest to its target."""
    slipped = slip(rnd, index.folded[i], index.lexicon, edits)
    if slipped is None or not index.nearest_is(i, slipped[0], edits):
        return None
    return slipped[0]


def _variant_query(rnd: random.Random, index: _Index, i: int) -> str | None:
    """The name with one word swapped for another spelling of it (Souza -> Sousa)."""
    name = index.registry[i]["name"]
    tokens = name.split(" ")
    swappable = [t for t, w in enumerate(tokens) if fold_name(w) in _CANONICAL]
    if not swappable:
        return None
    position = rnd.choice(swappable)
    current = fold_name(tokens[position])
    group = next(g for g in VARIANTS if current in {fold_name(s) for s in g})
    spelling = rnd.choice([s for s in group if fold_name(s) != current])
    tokens[position] = spelling.upper() if name.isupper() else spelling
    return " ".join(tokens)


def _phone_format(rnd: random.Random, digits: str) -> str:
    """A phone the way staff paste it: bare, spaced, punctuated or in E.164."""
    ddd, number = digits[:2], digits[2:]
    return rnd.choice((
        digits, f"{ddd} {number}", f"({ddd}) {number[:-4]}-{number[-4:]}", f"{ddd} {number[:-4]}-{number[-4:]}",
        f"+55 {ddd} {number[:-4]}-{number[-4:]}", f"0{ddd}{number}",
    ))


def _query(rnd: random.Random, index: _Index, kind: str, i: int) -> str | None:
    """A query of `kind` whose only right answer is patient `i`, or None if `i` cannot be that target."""
    patient = index.registry[i]
    name, cpf, ws = patient["name"], patient["cpf"], index.words[i]
    if kind in ("exact_name", "no_accents", "typo1", "typo2", "spelling_variant") and not index.unique_name(i):
        return None
    if kind == "exact_name":
        return name
    if kind == "no_accents":
        plain = strip_accents(name)
        return plain if plain != name else None
    if kind in ("typo1", "typo2"):
        return _typo_query(rnd, index, i, 1 if kind == "typo1" else 2)
    if kind == "spelling_variant":
        return _variant_query(rnd, index, i)
    if kind in ("missing_middle", "first_last_lowercase"):
        if kind == "missing_middle" and len(ws) < 3:
            return None
        if len(ws) < 2 or not index.only_one_with(i, ws[0], ws[-1]):
            return None
        tokens = [t for t in name.split(" ") if fold_name(t) not in CONNECTORS]
        query = f"{tokens[0]} {tokens[-1]}"
        return query.lower() if kind == "first_last_lowercase" else query
    if kind == "cpf_full_punctuated":
        return format_cpf(cpf)
    if kind == "cpf_digits":
        return cpf
    if kind == "cpf_partial":
        # First nine digits always identify a CPF (they fix the check digits), so this ends.
        length = rnd.randint(6, 9)
        while sum(p["cpf"].startswith(cpf[:length]) for p in index.registry) > 1:
            length += 1
        return cpf[:length]
    unique_phones = [p for p in patient["phones"] if index.phones[p] == 1]
    if kind == "phone_full":
        return _phone_format(rnd, rnd.choice(unique_phones)) if unique_phones else None
    if kind == "phone_last4_with_first_name":
        if not patient["phones"]:
            return None
        last4 = rnd.choice(patient["phones"])[-4:]
        # Anyone else with this first name anywhere in the name and a phone ending the same way?
        rivals = [
            j for j in index.by_word.get(ws[0], [])
            if j != i and any(p.endswith(last4) for p in index.registry[j]["phones"])
        ]
        return None if rivals else f"{ws[0]} {last4}"
    if kind in ("name_birth_date", "first_name_birth_date", "birth_date_alone", "namesake_birth_date"):
        return _birth_date_query(rnd, index, kind, i)
    if kind == "typo_first_and_last":
        return _typo_first_and_last_query(rnd, index, i)
    if kind in ("namesake_phone", "namesake_neighbourhood"):
        return _namesake_query(rnd, index, kind, i)
    raise ValueError(f"unknown kind: {kind}")


def _typed_name(rnd: random.Random, name: str) -> str:
    """A name as registered, or the way staff type it fast (no accents, lower case)."""
    return name if rnd.random() < 0.5 else fold_name(name)


def _beside(rnd: random.Random, name: str, typed: str) -> str:
    """A name and a date or digits in one box, mostly the name first."""
    return f"{typed} {name}" if rnd.random() < 0.2 else f"{name} {typed}"


def _birth_date_query(rnd: random.Random, index: _Index, kind: str, i: int) -> str | None:
    """Nothing, a first name, a name or a shared name beside the birth date of `i`, if that singles `i` out."""
    patient = index.registry[i]
    day = typed_date(rnd, date.fromisoformat(patient["birth_date"]))
    if kind == "birth_date_alone":
        return day if index.born_on(day) == {i} else None
    tokens = [t for t in patient["name"].split(" ") if fold_name(t) not in CONNECTORS]
    if kind == "first_name_birth_date":
        name = _typed_name(rnd, tokens[0])
    elif kind == "name_birth_date":
        roll = rnd.random()
        name = _typed_name(rnd, patient["name"]) if roll < 0.6 else f"{tokens[0]} {tokens[-1]}".lower()
    else:
        # Namesakes: the name alone finds several patients; the date tells them apart.
        name = _typed_name(rnd, patient["name"])
        if index.unique_name(i) or len(index.holding(words(name))) < 2:
            return None
    if index.holding(words(name)) & index.born_on(day) != {i}:
        return None
    return _beside(rnd, name, day)


def _typo_first_and_last_query(rnd: random.Random, index: _Index, i: int) -> str | None:
    """The first and last name (or the whole name) with one slip or swap in each of those two words.

    Only when no one else has a word as near to each slipped word (one edit, a swap counting
    as one) and the words in between: a perfect engine ranks `i` first.
    """
    ws = index.words[i]
    if len(ws) < 2:
        return None
    typed = []
    for word in (ws[0], ws[-1]):
        slipped = _slip_or_swap(rnd, word)
        if len(slipped) < 3 or slipped in index.lexicon or osa_distance(slipped, word) != 1:
            return None
        typed.append(slipped)
    middle = ws[1:-1] if len(ws) > 2 and rnd.random() < 0.3 else []
    near = [{w for w in index.by_word if osa_distance(t, w) <= 1} for t in typed]
    candidates = index.holding(middle)
    for close in near:
        candidates &= {j for w in close for j in index.by_word[w]}
    for j in candidates - {i}:
        other = index.words[j]
        if any(
            p != q and other[p] in near[0] and other[q] in near[1]
            for p in range(len(other)) for q in range(len(other))
        ):
            return None
    return " ".join([typed[0], *middle, typed[1]])


def _namesake_query(rnd: random.Random, index: _Index, kind: str, i: int) -> str | None:
    """A name several patients share, with the phone digits or the neighbourhood of `i`, if that singles `i` out."""
    patient = index.registry[i]
    if index.unique_name(i):
        return None
    name = _typed_name(rnd, patient["name"])
    query_words = words(name)
    namesakes = index.holding(query_words)
    if len(namesakes) < 2:
        return None
    if kind == "namesake_phone":
        if not patient["phones"]:
            return None
        phone = rnd.choice(patient["phones"])
        # The number's end ("the one ending 4321"), or the number without its DDD.
        digits = phone[-4:] if rnd.random() < 0.7 else phone[2:]
        rivals = {j for j in namesakes if any(p.endswith(digits) for p in index.registry[j]["phones"])}
        if len(digits) == 8:
            rivals |= namesakes & index.born_on(digits)
        return _beside(rnd, name, digits) if rivals == {i} else None
    neighbourhood = patient["address"]["neighborhood"]
    place = _typed_name(rnd, neighbourhood)
    wanted = [_CANONICAL.get(w, w) for w in (*query_words, *words(place))]
    # The box matches a word in the name or where the patient lives (street, neighbourhood, city, plan).
    rivals = [
        j for j in range(len(index.registry))
        if all(w in index.place_words[j] or w in canonical(index.folded[j]) for w in wanted)
    ]
    return f"{name} {place}" if rivals == [i] else None


def make_judgements(registry: list[dict], count: int = 240, seed: int = 0) -> list[Judgement]:
    """`count` judged queries spread evenly over KINDS, each with one findable target; deterministic for a seed."""
    rnd = random.Random(seed)
    index = _Index(registry)
    judgements = []
    for position, kind in enumerate(KINDS):
        quota = count // len(KINDS) + (position < count % len(KINDS))
        order = list(range(len(registry)))
        rnd.shuffle(order)
        made = 0
        for i in order:
            if made == quota:
                break
            query = _query(rnd, index, kind, i)
            if query is not None:
                judgements.append(Judgement(query, kind, i))
                made += 1
        if made < quota:
            raise ValueError(f"registry too small: only {made} of {quota} {kind} judgements")
    return judgements


def main() -> None:
    """Print a few patients and one judgement of each kind."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    registry = make_registry(n, seed)
    for patient in registry[:3]:
        print(patient)
    shown = set()
    for judgement in make_judgements(registry, seed=seed):
        if judgement.kind not in shown:
            shown.add(judgement.kind)
            target = registry[judgement.target_index]["name"]
            print(f"{judgement.kind:28} {judgement.query!r:45} -> #{judgement.target_index} {target}")


if __name__ == "__main__":
    main()
