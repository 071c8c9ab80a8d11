"""Password policy: NIST SP 800-63B §5.1.1.2 (memorized secrets), one sentence per refusal.

The password is first normalised with NFKC (§5.1.1.2: the verifier SHOULD apply "either the
NFKC or NFKD normalization"), and "each Unicode code point SHALL be counted as a single
character". Then, in this order:

1. length: at least ``min_length`` (the ``password_min_length`` setting, never below 8:
   "SHALL ... be at least 8 characters in length") and at most ``MAX_LENGTH`` (keystead's
   MAX_PASSWORD; the verifier "SHOULD permit ... at least 64 characters");
2. no control characters (tab, line break, NUL ...), which cannot be typed back reliably;
   every printable character is allowed, spaces and Unicode (emoji, joiners) included
   ("All printing ASCII characters as well as the space character SHOULD be acceptable ...
   Unicode characters SHOULD be accepted as well");
3. not the username, the email address or its local part, ignoring case ("context-specific
   words, such as the name of the service, the username, and derivatives thereof");
4. not the service name ``keystead`` with only digits, spaces or punctuation around it
   ("Keystead2024!"), and not one character repeated ("aaaaaaaa", eight spaces: "repetitive
   ... characters");
5. not on the shipped list of the 100,000 most common passwords, ignoring case ("passwords
   obtained from previous breach corpuses").

There are no composition rules ("Verifiers SHOULD NOT impose other composition rules").

The list (``data/common_passwords.txt.gz``, origin and licence in ``data/README.md``) is
NFKC-normalised, case-folded, deduplicated and sorted by its UTF-8 bytes. It is read lazily,
once per process, into one bytes object plus an array of line offsets and searched by
bisection: about 1.3 MiB resident, where a frozenset of the same words takes about 12 MiB.
"""

from __future__ import annotations

import array
import functools
import gzip
import threading
import unicodedata
from importlib import resources

MIN_LENGTH_FLOOR = 8  # NIST SP 800-63B §5.1.1.2: at least 8 characters; the setting cannot go lower
MAX_LENGTH = 1024  # keystead's MAX_PASSWORD; §5.1.1.2: SHOULD permit at least 64
SERVICE_WORDS = ("keystead",)  # §5.1.1.2: "context-specific words, such as the name of the service"

LIST_RESOURCE = "common_passwords.txt.gz"

COMMON = "This password is on a list of passwords attackers try first; choose another."
USERNAME = "Do not use your username as your password."
EMAIL = "Do not use your email address as your password."
EMAIL_LOCAL = "Do not use the part of your email address before the @ as your password."
SERVICE = "Do not use the name of this service as your password."
REPEATED = "Do not use one character repeated; choose a longer mix or a few words."
CONTROL = "Use only characters you can type: no tabs, line breaks or other control characters."


def check(password: str, *, username: str | None, email: str | None, min_length: int) -> str | None:
    """None when ``password`` may be used, else one sentence telling the user why not."""
    if not MIN_LENGTH_FLOOR <= min_length <= MAX_LENGTH:
        raise ValueError(f"min_length must be between {MIN_LENGTH_FLOOR} and {MAX_LENGTH}")
    text = normalise(password)
    if len(text) < min_length:  # code points, after NFKC
        return f"Use at least {min_length} characters."
    if len(text) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        return CONTROL
    folded = text.casefold()
    if username and folded == normalise(username).casefold():
        return USERNAME
    if email:
        address = normalise(email).casefold()
        if folded == address:
            return EMAIL
        local, at, _ = address.rpartition("@")
        if at and local and folded == local:
            return EMAIL_LOCAL
    if folded.strip(_DIGITS_AND_PUNCTUATION) in SERVICE_WORDS:
        return SERVICE
    if len(set(folded)) == 1:
        return REPEATED
    if common_passwords().contains(folded):
        return COMMON
    return None


def normalise(text: str) -> str:
    """NFKC, as the policy compares and counts (a fullwidth "ｐａｓｓ" is "pass")."""
    return unicodedata.normalize("NFKC", text)


_DIGITS_AND_PUNCTUATION = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class CommonPasswords:
    """The sorted list as one bytes object and the offset of each line; bisection lookup."""

    __slots__ = ("_data", "_starts")

    def __init__(self, data: bytes) -> None:
        # data: sorted (by bytes), newline-terminated lines, already NFKC + casefold.
        starts = array.array("I", [0])
        at = data.find(b"\n")
        while at != -1:
            starts.append(at + 1)
            at = data.find(b"\n", at + 1)
        self._data = data
        self._starts = starts  # len(lines) + 1 entries: line i is data[starts[i]:starts[i+1]-1]

    def __len__(self) -> int:
        return len(self._starts) - 1

    def contains(self, folded: str) -> bool:
        """Whether ``folded`` (NFKC-normalised and case-folded) is on the list."""
        key = folded.encode("utf-8", "surrogatepass")
        data, starts = self._data, self._starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            line = data[starts[mid] : starts[mid + 1] - 1]
            if line < key:
                lo = mid + 1
            elif line > key:
                hi = mid
            else:
                return True
        return False


_load_lock = threading.Lock()


def common_passwords() -> CommonPasswords:
    """The shipped list, read on first use and kept for the life of the process."""
    with _load_lock:  # request threads may race for the first load; it happens once
        return _load()


@functools.cache
def _load() -> CommonPasswords:
    packed = (resources.files("keystead.accounts") / "data" / LIST_RESOURCE).read_bytes()
    return CommonPasswords(gzip.decompress(packed))
