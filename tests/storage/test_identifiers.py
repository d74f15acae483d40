"""CPF, phone, CEP and name rules."""

from __future__ import annotations

import pytest

from storage.errors import Invalid
from storage.identifiers import (
    cpf_check_digits,
    fold_name,
    format_cpf,
    format_phone,
    is_valid_cpf,
    mask_cpf,
    mask_phone,
    normalize_cep,
    normalize_cpf,
    normalize_phone,
    phone_e164,
)


@pytest.mark.parametrize("raw", ["529.982.247-25", "52998224725", " 529 982 247 25 ", "111.444.777-35"])
def test_valid_cpfs_in_any_punctuation(raw):
    assert is_valid_cpf(raw)


@pytest.mark.parametrize("raw", ["529.982.247-24", "11111111111", "00000000000", "1234567890", "123456789012", ""])
def test_invalid_cpfs(raw):
    assert not is_valid_cpf(raw)


def test_check_digits_follow_mod_11_with_remainder_below_2_giving_0():
    assert cpf_check_digits("529982247") == "25"
    assert cpf_check_digits("111444777") == "35"
    # 100000001: first sum 10*1 + 2*1 = 12, 12 % 11 = 1 -> 0
    assert cpf_check_digits("100000001")[0] == "0"


def test_normalize_cpf_returns_digits_and_rejects_bad_ones_without_echoing_them():
    assert normalize_cpf("529.982.247-25") == "52998224725"
    assert normalize_cpf("  ") is None
    assert normalize_cpf(None) is None
    with pytest.raises(Invalid) as error:
        normalize_cpf("529.982.247-24")
    assert error.value.code == "invalid_cpf"
    assert "529" not in error.value.message
    with pytest.raises(Invalid) as error:
        normalize_cpf("123")
    assert error.value.code == "invalid_cpf"


def test_cpf_display_and_mask():
    assert format_cpf("52998224725") == "529.982.247-25"
    assert mask_cpf("52998224725") == "***.982.247-**"
    assert mask_cpf(None) is None


@pytest.mark.parametrize(
    "raw, digits",
    [
        ("21 999999999", "21999999999"),
        ("(21) 99999-9999", "21999999999"),
        ("21999999999", "21999999999"),
        ("+55 21 99999-9999", "21999999999"),
        ("5521999999999", "21999999999"),
        ("0 21 99999-9999", "21999999999"),
        ("(11) 3456-7890", "1134567890"),
        ("1134567890", "1134567890"),
    ],
)
def test_phones_normalise_to_national_digits(raw, digits):
    assert normalize_phone(raw) == digits


@pytest.mark.parametrize("raw", ["123", "999999999", "(00) 99999-9999", "21 1234-5678", "abc"])
def test_invalid_phones(raw):
    with pytest.raises(Invalid) as error:
        normalize_phone(raw)
    assert error.value.code == "invalid_phone"


def test_phone_display_mask_and_e164():
    assert format_phone("11987654321") == "(11) 98765-4321"
    assert format_phone("1134567890") == "(11) 3456-7890"
    assert mask_phone("11987654321") == "(11) *****-4321"
    assert phone_e164("11987654321") == "+5511987654321"
    assert normalize_phone("") is None


def test_cep():
    assert normalize_cep("01234-567") == "01234567"
    assert normalize_cep(None) is None
    with pytest.raises(Invalid) as error:
        normalize_cep("1234")
    assert error.value.code == "invalid_zip_code"


def test_fold_name_ignores_case_accents_and_spaces():
    assert fold_name("  JOSÉ   da SILVA ") == "jose da silva"
    assert fold_name("José da Silva") == fold_name("JOSE DA SILVA")
    assert fold_name("Gonçalves") == "goncalves"
