"""Password rules: long enough, not a common or easily guessed password, not the user's own email or company.

Guessability is zxcvbn's estimate (Dropbox's algorithm, with its bundled lists of common passwords, names and
words, and the user's own details as extra words); it runs offline, so no password leaves the server.
"""
from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# zxcvbn's score 3: about 10^8 guesses or more, "safely unguessable" for an online attacker who is throttled.
MIN_SCORE = 3
# zxcvbn refuses longer input; a long passphrase is judged by its first 72 characters.
_ZXCVBN_MAX = 72


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _own_words(email: str, company: str) -> list[str]:
    """The user's own details as zxcvbn should know them: the whole email, its parts, the company and its words."""
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    words = [email, local, domain, *domain.split("."), (company or "").strip().lower(),
             *re.split(r"\W+", (company or "").lower())]
    return [w for w in words if len(w) >= 3]


def password_problems(password: str, email: str = "", company: str = "") -> list[str]:
    """What is wrong with `password` for the user with this email (and company); empty when it is fine."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    folded = _folded(password)
    own = [_folded(email or ""), _folded((email or "").partition("@")[0]), _folded(company or "")]
    if any(len(part) >= 4 and part in folded for part in own):
        return ["Do not use your email address or company name in your password."]
    verdict = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=_own_words(email, company))
    if verdict["score"] < MIN_SCORE:
        warning = verdict["feedback"]["warning"]
        advice = "Choose one that is harder to guess: a few uncommon words together make a good password."
        return [f"{warning} {advice}" if warning else f"This password is too easy to guess. {advice}"]
    return []
