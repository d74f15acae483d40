"""A generator of realistic DasaExp "Relatório de agendamento" exports, of any size.

Synthetic people only. Each unit and day has 3–5 car agendas with up to 7–9
40-minute morning slots, about as many in-unit rows (exam rooms, no room) as car
rows, split visits (one stop billed to two payers, the second row sometimes not
adjacent), squeezed-in visits and the quirks of the real export: empty contacts on
about half the car rows, RG-only documents, an invalid CPF now and then, a car row
without a patient, exam names with commas, emoji in notes, `Não encontrado`
physicians. Patients recur across days (chronic patients, monthly exams).

Files are written the way DasaExp writes them: one sheet, every cell an inline
string, streamed straight into the zip so a million rows costs little memory.

    python -m bench.dasaexp_export 100000 /tmp/agenda-100k.xlsx
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

HEADERS = (
    "Nome da Marca", "Código da Unidade", "Nome da Unidade", "Status Agendamento", "Id do agendamento",
    "Id da agenda", "Código da Sala", "Nome da Sala", "Data/Hora Início Agendamento",
    "Data/Hora Fim Agendamento", "Nome do Paciente", "Códigos dos Exames", "Nomes dos Exames", "Total Exames",
    "Endereço Coleta", "Categoria", "Convênio", "Nome do Convênio", "Nr. Carteira", "CRM Pedido Médico",
    "Canal de Efetivação", "Usuário Marcação", "Data da Efetivação", "Status Confirmação", "Canal Confirmação",
    "Data/Hora Confirmação", "Observação", "Documento(s) do Paciente", "Contato(s) do Paciente", "Nascimento",
)

GIVEN = (
    "ANA", "MARIA", "JOSÉ", "JOÃO", "ANTÔNIO", "FRANCISCO", "CARLOS", "PAULO", "PEDRO", "LUCAS", "LUIZ", "MARCOS",
    "LUÍS", "GABRIEL", "RAFAEL", "DANIEL", "MARCELO", "BRUNO", "EDUARDO", "FELIPE", "RAIMUNDO", "RODRIGO",
    "MANOEL", "MATEUS", "ANDRÉ", "FERNANDO", "FÁBIO", "LEONARDO", "GUSTAVO", "GUILHERME", "LEANDRO", "TIAGO",
    "FRANCISCA", "ANTÔNIA", "ADRIANA", "JULIANA", "MÁRCIA", "FERNANDA", "PATRÍCIA", "ALINE", "SANDRA",
    "CAMILA", "AMANDA", "BRUNA", "JÉSSICA", "LETÍCIA", "JÚLIA", "LUCIANA", "VANESSA", "MARIANA", "GABRIELA",
    "VERA", "VITÓRIA", "LARISSA", "CLÁUDIA", "BEATRIZ", "RITA", "LUANA", "SÔNIA", "RENATA", "ELIANE",
    "HELOÍSA", "ISABELA", "CRISTIANE", "SEBASTIÃO", "CLÁUDIO", "EDSON", "WALTER", "RUTH", "ESTHER", "VICTOR",
)
MIDDLE = ("", "", "DA", "DE", "DOS", "DAS", "DO")
SURNAMES = (
    "SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "SOUSA", "RODRIGUES", "FERREIRA", "ALVES", "PEREIRA", "LIMA",
    "GOMES", "COSTA", "RIBEIRO", "MARTINS", "CARVALHO", "ALMEIDA", "LOPES", "SOARES", "FERNANDES", "VIEIRA",
    "BARBOSA", "ROCHA", "DIAS", "NASCIMENTO", "ANDRADE", "MOREIRA", "NUNES", "MARQUES", "MACHADO", "MENDES",
    "FREITAS", "CARDOSO", "RAMOS", "GONÇALVES", "SANTANA", "TEIXEIRA", "MONTEIRO", "PINTO", "CONCEIÇÃO",
    "CAVALCANTI", "BATISTA", "CAMPOS", "ARAÚJO", "MELO", "CASTRO", "CORREIA",
)
STREETS = (
    "rua visconde de piraja", "avenida lucio costa", "rua dias da rocha", "avenida geremario dantas",
    "rua araguaia", "estrada dos tres rios", "rua conde de bonfim", "avenida das americas",
    "rua barata ribeiro", "rua voluntarios da patria", "avenida atlantica", "rua general polidoro",
    "estrada do gabinal", "rua mariz e barros", "avenida ayrton senna", "rua sao clemente",
)
NEIGHBORHOODS = (
    "laranjeiras", "pechincha", "flamengo", "curicica", "anil", "freguesia", "tijuca", "barra da tijuca",
    "copacabana", "botafogo", "ipanema", "recreio dos bandeirantes", "jacarepagua", "taquara", "meier",
)
EXAMS = (
    ("1001", "HEMOGRAMA COMPLETO"), ("1004", "TRIGLICERIDEOS"), ("1007", "COLESTEROL TOTAL E FRAÇÕES"),
    ("1008", "GLICOSE"), ("1009", "VITAMINA D, 25 HIDROXI"), ("1010", "HEMOGLOBINA GLICADA"),
    ("1012", "TSH"), ("1013", "T4 LIVRE"), ("1016", "VITAMINA B12"), ("1018", "POTASSIO"), ("1019", "ACIDO URICO"),
    ("1021", "CREATININA"), ("1022", "UREIA"), ("1025", "FERRITINA"), ("1030", "PSA TOTAL"),
    ("1033", "URINA TIPO I, EAS"), ("1040", "TGO, TGP"), ("1044", "PROTEINA C REATIVA"),
)
PLANS = (
    ("80", "AMIL"), ("44", "PARTICULAR"), ("67", "BRADESCO SAÚDE"), ("63", "SULAMÉRICA SERVIÇOS DE SAÚDE"),
    ("157", "UNIMED FEDERAÇÃO RIO - FERJ"), ("1030", "PREVENT SÊNIOR"), ("305", "PORTO SEGURO SAÚDE"),
    ("91", "CASSI"), ("120", "OMINT"),
)
EXAM_ROOMS = (
    ("03", "LACTOSE 1/2"), ("04", "CURVA GLICEMICA 1"), ("20", "QUANTIFERON"), ("21", "VACINA"),
    ("30", "USG_DRA HELENA"), ("31", "CARDIO_DR PAULO"), ("", ""),
)
NOTES = (
    "", "", "", "paciente em jejum de 8h", "portaria exige documento", "idosa, acamada 🛏️",
    "ligar ao chegar 📞", "cachorro bravo no quintal ⚠️", "acesso pelo portão lateral, interfone quebrado",
    "paciente com dificuldade de acesso venoso; trazer scalp", "prédio sem elevador, 3º andar",
)
BASES = ("AV CENTER 1", "AV CENTER 2", "AV CENTER 3", "BARRA 1", "TIJUCA 2", "RECREIO 1")
SLOTS = ((6, 40), (7, 20), (8, 0), (8, 40), (10, 0), (10, 40), (11, 20), (12, 0), (12, 40))


def cpf_check(first_nine: str) -> str:
    """The two mod-11 check digits of a CPF."""
    digits = [int(c) for c in first_nine]
    for start in (10, 11):
        remainder = sum(d * w for d, w in zip(digits, range(start, 1, -1))) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return f"{digits[-2]}{digits[-1]}"


@dataclass
class Person:
    """A synthetic patient."""

    name: str
    cpf: str | None
    rgs: tuple[str, ...]
    birth: date
    mobile: str | None
    email: str | None
    address: str
    plan: tuple[str, str, str]


class Generator:
    """Deterministic (seeded) stream of export rows."""

    def __init__(self, seed: int = 7, first_day: date = date(2025, 6, 16)) -> None:
        self.random = random.Random(seed)
        self.first_day = first_day
        self.people: list[Person] = []
        self.agenda_id = 480_300_000

    def person(self) -> Person:
        """A recurring patient about 40% of the time, else a new one."""
        rnd = self.random
        if self.people and rnd.random() < 0.4:
            return rnd.choice(self.people)
        name = " ".join(
            part for part in (rnd.choice(GIVEN), rnd.choice(GIVEN) if rnd.random() < 0.4 else "",
                              rnd.choice(MIDDLE), rnd.choice(SURNAMES), rnd.choice(SURNAMES)) if part
        )
        nine = "".join(str(rnd.randrange(10)) for _ in range(9))
        cpf = nine + cpf_check(nine) if rnd.random() < 0.8 else None
        if cpf and rnd.random() < 0.02:
            cpf = cpf[:9] + str((int(cpf[9]) + 1) % 10) + cpf[10]  # a typo: the check digits no longer match
        rgs = tuple(str(rnd.randrange(100_000_000, 999_999_999)) for _ in range(rnd.choice((0, 1, 1, 2))))
        birth = date(1930, 1, 1) + timedelta(days=rnd.randrange(365 * 85))
        mobile = f"21{rnd.choice('9')}{rnd.randrange(10_000_000, 99_999_999)}" if rnd.random() < 0.6 else None
        email = f"{name.split()[0].lower().encode('ascii', 'ignore').decode() or 'p'}{rnd.randrange(100)}@exemplo.com.br"
        complement = rnd.choice(("", "", f"bloco {rnd.randrange(1, 5)} apto {rnd.randrange(101, 1200)}", "casa 2"))
        address = ",".join(
            part for part in (rnd.choice(STREETS), str(rnd.randrange(1, 4000)), rnd.choice(NEIGHBORHOODS),
                              "rio de janeiro", "rj", f"22{rnd.randrange(100, 999)}-{rnd.randrange(100, 999)}",
                              complement) if part
        )
        code, plan_name = rnd.choice(PLANS)
        card = "" if code == "44" else str(rnd.randrange(10**7, 10**15))
        person = Person(name, cpf, rgs, birth, mobile, email if rnd.random() < 0.5 else None, address,
                        (code, plan_name, card))
        self.people.append(person)
        if len(self.people) > 50_000:  # bound memory on huge files; old patients stop recurring
            del self.people[:10_000]
        return person

    def rows(self, count: int) -> Iterator[list[str]]:
        """Yield `count` data rows (cells as text, header order)."""
        produced = 0
        unit_day = 0
        while produced < count:
            for row in self._unit_day(unit_day):
                yield row
                produced += 1
                if produced >= count:
                    return
            unit_day += 1

    def _unit_day(self, index: int) -> Iterator[list[str]]:
        rnd = self.random
        unit = 200 + index % 60
        day = self.first_day + timedelta(days=index // 60)
        unit_name = f"Unidade {unit} - Centro Médico"[:30]
        cars = rnd.randint(3, 5)
        car_rows: list[list[str]] = []
        for car in range(cars):
            base = BASES[(unit + car) % len(BASES)]
            room_code = str(370 + car + (unit % 10) * 10)
            room = f"AD-SF-FQ-AC-{base} CARRO {car % 2 + 1} - UND{unit % 90 + 10}"
            for hour, minute in SLOTS[: rnd.randint(6, 9)]:
                if rnd.random() < 0.1:
                    continue  # a free slot
                start = datetime(day.year, day.month, day.day, hour, minute)
                status = "Agendamento de Encaixe" if rnd.random() < 0.05 else "Agendado"
                person = self.person()
                self.agenda_id += 1
                payers = [person.plan]
                if rnd.random() < 0.1:  # a split visit: a second row for the self-pay exams
                    payers.append(("44", "PARTICULAR", ""))
                for payer in payers:
                    car_rows.append(self._row(unit, unit_name, status, str(self.agenda_id), room_code, room, start,
                                              start + timedelta(minutes=40), person, payer, home=True))
        in_unit = [self._in_unit_row(unit, unit_name, day) for _ in range(int(len(car_rows) * rnd.uniform(0.7, 1.1)))]
        rows = car_rows + in_unit
        if rnd.random() < 0.3:
            # A car row without a patient (a slot blocked by hand) and some in-unit noise between split rows.
            blank = list(car_rows[0])
            blank[10] = blank[27] = blank[28] = ""
            blank[4] = str(uuid.UUID(int=rnd.getrandbits(128)))
            rows.append(blank)
        order = sorted(range(len(rows)), key=lambda i: (rows[i][8], rows[i][7], i))
        yield from (rows[i] for i in order)

    def _in_unit_row(self, unit: int, unit_name: str, day: date) -> list[str]:
        rnd = self.random
        code, name = rnd.choice(EXAM_ROOMS)
        hour, minute = rnd.randrange(6, 17), rnd.choice((0, 20, 40))
        start = datetime(day.year, day.month, day.day, hour, minute)
        self.agenda_id += 1
        row = self._row(unit, unit_name, "Agendado", str(self.agenda_id), code, name, start,
                        start + timedelta(minutes=20), self.person(), None, home=False)
        return row

    def _row(self, unit, unit_name, status, agenda, room_code, room, start, end, person, payer, home) -> list[str]:
        rnd = self.random
        exams = rnd.sample(EXAMS, rnd.randint(1, 5))
        plan = payer or person.plan
        confirmed = rnd.random() < 0.6
        documents = ", ".join(
            ([f"CPF: {person.cpf}"] if person.cpf else []) + [f"RG: {rg}" for rg in person.rgs]
        )
        contacts = ""
        if rnd.random() < 0.5:
            contacts = ", ".join(
                ([f"Celular: {person.mobile[:2]} {person.mobile[2:]}"] if person.mobile else [])
                + ([f"Email: {person.email}"] if person.email else [])
            )
        booked = start - timedelta(days=rnd.randint(1, 30), minutes=rnd.choice((0, 20, 40)))
        return [
            "Sérgio Franco Medicina Diagnóstica", str(unit), unit_name, status,
            str(uuid.UUID(int=rnd.getrandbits(128), version=4)), agenda, room_code, room,
            start.strftime("%d/%m/%Y %H:%M:%S"), end.strftime("%d/%m/%Y %H:%M:%S"), person.name,
            ", ".join(code for code, _ in exams), ", ".join(name for _, name in exams), str(len(exams)),
            person.address if home else "", "PRINCIPAL", plan[0], plan[1], plan[2],
            rnd.choice(("Não encontrado", f"CRM - RJ - 52{rnd.randrange(100000, 999999)}")),
            rnd.choice(("Canal do Consultor", "NAV")),
            rnd.choice(("", f"T{rnd.randrange(10**10, 10**11)}")), booked.strftime("%d/%m/%Y %H:%M:%S"),
            "Confirmado" if confirmed else "Não Confirmado", "WHATSS" if confirmed else "",
            "WHATSS" if confirmed else "", rnd.choice(NOTES), documents, contacts,
            person.birth.strftime("%d/%m/%Y"),
        ]


def _cell(column: int, row: int, text: str) -> str:
    ref = _column_letter(column) + str(row)
    if not text:
        return ""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def write_xlsx(target: Path | io.BytesIO, rows: Iterator[list[str]], sheet_name: str = "agendamentos - Barra - Aventura") -> None:
    """Write an OOXML workbook the way DasaExp does (inline strings), streaming rows into the zip."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(name=escape(sheet_name[:31])))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            buffer: list[str] = []
            for number, cells in enumerate(_with_header(rows), start=1):
                body = "".join(_cell(column, number, text) for column, text in enumerate(cells))
                buffer.append(f'<row r="{number}">{body}</row>')
                if len(buffer) >= 1000:
                    member.write("".join(buffer).encode())
                    buffer.clear()
            member.write("".join(buffer).encode())
            member.write(b"</sheetData></worksheet>")


def write_csv(target: io.TextIOBase, rows: Iterator[list[str]], delimiter: str = ";") -> None:
    """Write the rows as CSV (the caller picks the encoding when opening `target`)."""
    writer = csv.writer(target, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(_with_header(rows))


def _with_header(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield list(HEADERS)
    yield from rows


def export_bytes(count: int, seed: int = 7, first_day: date = date(2025, 6, 16)) -> bytes:
    """A whole workbook of `count` data rows, as bytes."""
    buffer = io.BytesIO()
    write_xlsx(buffer, Generator(seed, first_day).rows(count))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    """Write an export of N rows to a file (.xlsx, or .csv for the Windows-1252 `;` CSV)."""
    parser = argparse.ArgumentParser(description="Gera uma exportação DasaExp sintética")
    parser.add_argument("rows", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows = Generator(args.seed).rows(args.rows)
    if args.path.suffix.lower() == ".csv":
        with args.path.open("w", encoding="cp1252", errors="replace", newline="") as handle:
            write_csv(handle, rows)
    else:
        write_xlsx(args.path, rows)


if __name__ == "__main__":
    main()
