"""The rule for a new email address: it must not pass for another one.

Accounts compare addresses by `email_key` (stripped and casefolded), so two addresses that
read the same to a person but differ in code points would be two people: one could pose as
the other in every list, notice and message that shows the address. A new address is
therefore refused when it is not in NFKC form, holds invisible characters, or has a domain
label whose letters mix scripts (the homograph rule browsers apply to domain names).
Domains in one script, such as пример.рф or bücher.example, stay welcome.

A new address must also be one the mailer can send to (its verification and notices need
one): until the mailer speaks SMTPUTF8, that means an ASCII part before the @. Existing rows
are not checked again: the rule is for what is typed from now on.
"""

from __future__ import annotations

import codecs
import unicodedata

from marshmallow import ValidationError

from blogapi.mail.outbox import check_address

NOT_NFKC = (
    "Type the address in plain characters: it has forms that show like others (fullwidth "
    "letters, ligatures, or accents sent apart from their letters)."
)
INVISIBLE = "The address has invisible characters (such as zero-width or bidirectional controls)."
UNDELIVERABLE = (
    "Mail cannot be sent to this address: the part before the @ must be in ASCII letters, "
    "digits and punctuation (the domain may be in any one script)."
)
MIXED_SCRIPTS = (
    "A part of the domain mixes letters of different scripts (such as Latin and Cyrillic), "
    "so it can pass for another domain."
)
# Scripts that East Asian domain names write together, with Latin, as Chrome's and UTS #39's
# "highly restrictive" level allows; any other mix is refused.
SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Words that begin the names of letters belonging to several scripts or named after another.
HAN_WORDS = frozenset({"CJK", "IDEOGRAPHIC"})
SHARED_WORDS = frozenset({"KATAKANA-HIRAGANA", "MODIFIER"})


def script_of(char: str) -> str | None:
    """The script a letter belongs to, judged by the first word of its Unicode name; None for
    anything else (digits, hyphens, marks) and for letters several scripts share."""
    if not unicodedata.category(char).startswith("L"):
        return None
    word = unicodedata.name(char, "").split(" ", 1)[0]
    if word in HAN_WORDS:
        return "HAN"
    return None if not word or word in SHARED_WORDS else word


def label_text(label: str) -> str:
    """A domain label as it shows: an `xn--` label decoded from Punycode (as browsers do)."""
    if label[:4].lower() != "xn--":
        return label
    try:
        return codecs.decode(label[4:].encode("ascii"), "punycode")
    except (UnicodeError, ValueError):
        return label  # not Punycode after all; it is checked as it is


def mixes_scripts(label: str) -> bool:
    """Whether a domain label's letters come from scripts that do not belong together."""
    scripts = {script for char in label_text(label) if (script := script_of(char))}
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in SCRIPT_SETS)


def address_problem(address: str) -> str | None:
    """Why a new address could pass for another one, or None when it cannot."""
    if not unicodedata.is_normalized("NFKC", address):
        return NOT_NFKC
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in address):
        return INVISIBLE
    domain = address.rpartition("@")[2]
    if any(mixes_scripts(label) for label in domain.split(".")):
        return MIXED_SCRIPTS
    return None


def new_address(address: str) -> None:
    """Marshmallow validator: refuse an address that could pass for another one, or that no
    message could be sent to (the verification and notices need one)."""
    problem = address_problem(address)
    if problem:
        raise ValidationError(problem)
    try:
        check_address(address)
    except ValueError:
        raise ValidationError(UNDELIVERABLE) from None
