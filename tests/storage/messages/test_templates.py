"""The pt-BR templates and reply folding: pure functions, exact texts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.errors import Invalid
from storage.messages import templates
from storage.messages.service import normalize_reply, phone_candidates

VALUES = {"nome": "Maria", "data": "21/06", "hora": "07:20", "endereco": "Rua das Flores, 123"}


@pytest.mark.parametrize(("name", "text"), [
    ("confirmation_request",
     "Olá, Maria! Sua coleta domiciliar está agendada para 21/06 às 07:20, em Rua das Flores, 123. "
     "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."),
    ("reminder",
     "Olá, Maria! Lembrete: sua coleta domiciliar é em 21/06 às 07:20, em Rua das Flores, 123. "
     "Responda SAIR para não receber mais mensagens."),
    ("reschedule_notice",
     "Olá, Maria! Sua coleta domiciliar foi reagendada para 21/06 às 07:20, em Rua das Flores, 123. "
     "Responda SAIR para não receber mais mensagens."),
    ("preparation",
     "Olá, Maria! Preparo para a sua coleta domiciliar de 21/06 às 07:20: faça jejum de 8 horas (água liberada), "
     "salvo outra orientação recebida no agendamento. Responda SAIR para não receber mais mensagens."),
])
def test_each_template_renders_exactly(name, text):
    assert templates.render(name, VALUES) == text


def test_the_confirmation_request_ends_with_the_reply_options():
    assert templates.render("confirmation_request", VALUES).endswith(
        "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."
    )


def test_templates_carry_only_name_date_time_and_street():
    assert sorted(templates.TEMPLATES) == ["confirmation_request", "preparation", "reminder", "reschedule_notice"]
    assert {name: templates.placeholders(name) for name in templates.TEMPLATES} == {
        "confirmation_request": {"nome", "data", "hora", "endereco"},
        "reminder": {"nome", "data", "hora", "endereco"},
        "reschedule_notice": {"nome", "data", "hora", "endereco"},
        "preparation": {"nome", "data", "hora"},
    }


def test_values_of_a_visit_are_local_and_minimal():
    start = datetime(2025, 6, 21, 10, 20, tzinfo=UTC)  # 07:20 in São Paulo
    assert templates.values_for("JOSÉ DA SILVA SAURO", start, "Rua das Flores", "123") == {
        "nome": "José", "data": "21/06", "hora": "07:20", "endereco": "Rua das Flores, 123",
    }
    assert templates.values_for("  maria  das dores", start, None, "12")["endereco"] == "seu endereço cadastrado"
    assert templates.short_address("Av.  Brasil ", None) == "Av. Brasil"
    assert templates.first_name("ana-luíza costa") == "Ana-Luíza"
    assert templates.first_name(None) == ""


def test_unknown_template_and_missing_values_are_refused():
    with pytest.raises(Invalid) as unknown:
        templates.render("promocao", VALUES)
    assert unknown.value.code == "unknown_template"
    with pytest.raises(Invalid) as missing:
        templates.render("reminder", {**VALUES, "nome": ""})
    assert (missing.value.code, missing.value.details["missing"]) == ("template_value_missing", ["nome"])


@pytest.mark.parametrize(("raw", "folded"), [
    ("  Sim! ", "sim"), ("SIM", "sim"), ("sim.", "sim"), ("1", "1"), (" 2 ", "2"),
    ("NÃO", "nao"), ("não.", "nao"), ("Nao!!", "nao"), ("SAIR", "sair"), ("Parar", "parar"), ("STOP", "stop"),
    ("Sim, confirmo!", "sim confirmo"), ("", ""), (None, ""),
])
def test_replies_are_folded(raw, folded):
    assert normalize_reply(raw) == folded


@pytest.mark.parametrize(("raw", "candidates"), [
    ("+5511987654321", ["11987654321"]),
    ("5511987654321", ["11987654321"]),
    ("551187654321", ["1187654321", "11987654321"]),  # WhatsApp without the ninth digit
    ("+551134567890", ["1134567890"]),  # a landline stays as it is
    ("11987654321", ["11987654321"]),
    ("+14155550100", []),
    ("", []),
])
def test_sender_numbers_become_national_digits(raw, candidates):
    assert phone_candidates(raw) == candidates
