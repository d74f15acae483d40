"""The one masking rule for patients' identifiers and contacts, used by every route that shows them.

Staff (admin, operator) see CPF, phones, e-mail and health-plan card numbers in full: they
call patients and bill payers. Drivers see phones and e-mail in full (they call at the door;
their routes never show a CPF or a card number). Viewers see everything masked:
CPF `***.456.789-**`, phones `(11) *****-4321`, e-mail `j***@dominio.com.br`, card
numbers with their last four digits. Search, suggestions, the profile, the schedule, a
visit and the messages log all shape their output through `for_role`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.identifiers import digits_only, mask_cpf, mask_phone

# Roles that see contacts (phones, e-mail) in full.
FULL_CONTACTS = frozenset({"admin", "operator", "driver"})
# Roles that see the CPF and card numbers in full.
FULL_IDENTIFIERS = frozenset({"admin", "operator"})


@dataclass(frozen=True)
class Masking:
    """What one role sees of a patient's identifiers and contacts."""

    contacts: bool
    identifiers: bool

    def cpf(self, digits: str | None) -> str | None:
        """The CPF digits, or `***.456.789-**`."""
        return digits if self.identifiers else mask_cpf(digits)

    def phone(self, digits: str | None) -> str | None:
        """National phone digits, or `(11) *****-4321`."""
        return digits if self.contacts else mask_phone(digits)

    def phones(self, numbers: Iterable[str | None]) -> list[str]:
        """Each phone as `phone` shows it (numbers too short to mask are left out)."""
        return [shown for shown in (self.phone(n) for n in numbers) if shown]

    def e164(self, number: str | None) -> str | None:
        """A phone as messages store it (`+5511…`), or masked like `phone`."""
        if self.contacts or not number:
            return number
        digits = digits_only(number)
        return mask_phone(digits[2:] if digits.startswith("55") else digits)

    def email(self, email: str | None) -> str | None:
        """The e-mail, or its first letter and domain: `j***@dominio.com.br`."""
        if self.contacts or not email:
            return email
        if "@" not in email:
            return None
        user, domain = email.split("@", 1)
        return f"{user[:1]}***@{domain}"

    def card_number(self, card: str | None) -> str | None:
        """A health-plan card number, or its last four digits behind asterisks."""
        if self.identifiers or not card:
            return card
        return "*" * max(len(card) - 4, 0) + card[-4:]


def for_role(role: str | None) -> Masking:
    """The masking of a role (unknown or missing role: everything masked)."""
    return Masking(contacts=role in FULL_CONTACTS, identifiers=role in FULL_IDENTIFIERS)
