"""Password rules: long enough, not a common or easily guessed password, not the user's own email or company,
not the shop's own name.

Guessability is zxcvbn's estimate (Dropbox's algorithm, with its bundled lists of common passwords, names and
words, and the user's own details as extra words); it runs offline, so no password leaves the server.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# zxcvbn's score 3: about 10^8 guesses or more, "safely unguessable" for an online attacker who is throttled.
MIN_SCORE = 3
# zxcvbn refuses longer input; a long passphrase is judged by its first 72 characters.
_ZXCVBN_MAX = 72


# Legal forms a company's name ends in: "Delta Foods GmbH & Co. KG" is guessed as "deltafoods".
LEGAL_FORMS = frozenset({
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ev", "se", "co", "and", "ltd", "limited", "plc", "llp", "llc",
    "lp", "inc", "incorporated", "corp", "corporation", "company", "sa", "sas", "sarl", "sl", "srl", "spa", "bv",
    "nv", "oy", "oyj", "ab", "as", "asa", "aps", "kk", "pty", "pte", "sro", "kft", "zrt", "sp", "zoo",
})
# A single word of the shop's name counts from this length on ("leucin", "rheinau"; not "shop" or "werk").
_HOUSE_WORD = 5


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _name_words(name: str) -> list[str]:
    """A name's words, lower-case, without the legal form it ends in ("S.A." is the one word "sa")."""
    words = [w for w in re.split(r"[\W_]+", (name or "").lower().replace(".", "")) if w]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return words


def house_words(*names: str) -> tuple[str, ...]:
    """What a password must not contain of the shop's `names` (its own, its maker's, its mail domain): each name
    whole without its legal form, and each of its longer words, folded as passwords are."""
    words: list[str] = []
    for name in names:
        if "@" in name:  # a mail address: its domain without the top level ("leucin-werk")
            name = name.partition("@")[2].rpartition(".")[0]
        parts = _name_words(name)
        words += ["".join(parts), *parts]
    return tuple(dict.fromkeys(w for w in words if len(w) >= _HOUSE_WORD))


def the_shops_words() -> tuple[str, ...]:
    """house_words() of this shop: SHOP_NAME, the seller's legal name and the domain of its e-mail address."""
    config = current_app.config
    return house_words(config["SHOP_NAME"], config["SELLER_LEGAL_NAME"], config["SELLER_EMAIL"])


def _own_words(email: str, company: str) -> list[str]:
    """The user's own details as zxcvbn should know them: the whole email, its parts, the company and its words."""
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    words = [email, local, domain, *domain.split("."), (company or "").strip().lower(),
             *re.split(r"\W+", (company or "").lower())]
    return [w for w in words if len(w) >= 3]


def password_problems(password: str, email: str = "", company: str = "", house: Iterable[str] = ()) -> list[str]:
    """What is wrong with `password` for the user with this email (and company) at the shop whose own words are
    `house` (the_shops_words()); empty when it is fine."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    folded = _folded(password)
    own = [_folded(email or ""), _folded((email or "").partition("@")[0]), _folded(company or ""),
           "".join(_name_words(company))]
    if any(len(part) >= 4 and part in folded for part in own):
        return ["Do not use your email address or company name in your password."]
    house = list(house)
    if any(word in folded for word in house):
        return ["Do not use the shop's name or its maker's name in your password."]
    verdict = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=_own_words(email, company) + house)
    if verdict["score"] < MIN_SCORE:
        warning = verdict["feedback"]["warning"]
        advice = "Choose one that is harder to guess: a few uncommon words together make a good password."
        return [f"{warning} {advice}" if warning else f"This password is too easy to guess. {advice}"]
    return []
