"""The password policy (accounts/password_policy.py, NIST SP 800-63B §5.1.1.2) and the shipped
list of common passwords it refuses."""

from __future__ import annotations

import gzip
import secrets
import string
import subprocess
import sys
import threading
import unicodedata
from importlib import resources

import pytest
from pydantic import ValidationError

from keystead.accounts import password_policy
from keystead.accounts.password_policy import check, common_passwords
from keystead.config import Settings

GOOD = "correct horse battery staple"


def _check(password: str, *, min_length: int = 8) -> str | None:
    return check(
        password, username="alice.smith", email="Alice.Smith@Example.org", min_length=min_length
    )


def _list_bytes() -> bytes:
    packed = resources.files("keystead.accounts") / "data" / password_policy.LIST_RESOURCE
    return gzip.decompress(packed.read_bytes())


# --- what is accepted -----------------------------------------------------------------------


def test_a_long_passphrase_with_spaces_is_accepted() -> None:
    assert _check(GOOD) is None
    assert _check("my  cat  sleeps  here") is None  # spaces, doubled too, are characters


def test_no_composition_rules() -> None:
    # §5.1.1.2: no "one digit, one capital, one symbol": lower-case letters alone are fine.
    assert _check("purple walrus orbit") is None
    assert _check("zebrafinchlantern") is None


def test_eight_emoji_code_points_are_eight_characters() -> None:
    emoji = "🦊🌵🎻🚲🧊🪐🍋🐙"
    assert len(emoji) == 8
    assert _check(emoji) is None
    assert _check(emoji[:7]) == "Use at least 8 characters."


def test_unicode_letters_and_joiners_are_accepted() -> None:
    assert _check("Grüße aus Köln, 東京") is None
    family = "👨\u200d👩\u200d👧\u200d👦 ok"  # zero-width joiners (format characters) stay allowed
    assert _check(family) is None


def test_a_random_sixteen_character_string_is_not_on_the_list() -> None:
    word = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    assert not common_passwords().contains(word.casefold())
    assert _check(word) is None


# --- each refusal and its sentence ----------------------------------------------------------


def test_too_short() -> None:
    assert _check("k9#vQ2x") == "Use at least 8 characters."
    assert _check("") == "Use at least 8 characters."


def test_too_long() -> None:
    limit = password_policy.MAX_LENGTH
    assert limit >= 64  # §5.1.1.2: permit at least 64
    assert _check("x7" * (limit // 2)) is None
    assert _check("x7" * (limit // 2) + "z") == f"Use at most {limit} characters."


def test_common_password_refused_whatever_its_case() -> None:
    expected = "This password is on a list of passwords attackers try first; choose another."
    assert _check("password") == expected
    assert _check("PassWord") == expected
    assert _check("iloveyou") == expected
    assert _check("12345678") == expected
    assert _check("Qwerty123") == expected


def test_fullwidth_password_is_the_common_password_after_nfkc() -> None:
    fullwidth = "ｐａｓｓｗｏｒｄ"
    assert fullwidth != "password"
    assert unicodedata.normalize("NFKC", fullwidth) == "password"
    assert _check(fullwidth) == (
        "This password is on a list of passwords attackers try first; choose another."
    )


def test_length_counts_code_points_after_nfkc() -> None:
    # U+FB03 "ﬃ" is one code point that NFKC makes three: 6 + 3 = 9 characters, not 7.
    assert len("abc\ufb03xyz") == 7
    assert _check("abc\ufb03xyz", min_length=9) is None
    assert _check("abc\ufb03xyz", min_length=10) == "Use at least 10 characters."


def test_username_refused_ignoring_case() -> None:
    assert _check("Alice.Smith") == "Do not use your username as your password."
    assert check("ＢｏｂＪｏｎｅｓ９", username="bobjones9", email=None, min_length=8) == (
        "Do not use your username as your password."
    )


def test_email_and_its_local_part_refused_ignoring_case() -> None:
    assert _check("alice.smith@example.org") == "Do not use your email address as your password."
    assert check("jdoe+login", username=None, email="JDoe+Login@mail.example", min_length=8) == (
        "Do not use the part of your email address before the @ as your password."
    )


def test_username_and_email_may_be_absent_or_empty() -> None:
    assert check(GOOD, username=None, email=None, min_length=8) is None
    assert check(GOOD, username="", email="", min_length=8) is None


def test_service_name_and_trivial_variants_refused() -> None:
    sentence = "Do not use the name of this service as your password."
    for variant in ("keystead", "KeyStead", "keystead2024!", "!!keystead!!", "1 keystead 1"):
        assert _check(variant) == sentence, variant
    assert _check("keystead is my home") is None  # a phrase with other words is not trivial


def test_one_repeated_character_refused() -> None:
    sentence = "Do not use one character repeated; choose a longer mix or a few words."
    assert _check("ééééééééé") == sentence
    assert _check(" " * 12) == sentence
    assert _check("🦊" * 8) == sentence


def test_control_characters_refused() -> None:
    sentence = "Use only characters you can type: no tabs, line breaks or other control characters."
    assert _check("purple\twalrus") == sentence
    assert _check("purple walrus\n") == sentence
    assert _check("purple\x00walrus") == sentence


# --- the min length setting -----------------------------------------------------------------


def test_min_length_respected() -> None:
    assert _check("zebra lantern", min_length=14) == "Use at least 14 characters."
    assert _check("zebra lanterns", min_length=14) is None


def test_min_length_below_eight_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="between 8"):
        _check(GOOD, min_length=6)


def test_setting_defaults_to_eight_and_refuses_less(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().password_min_length == 8
    monkeypatch.setenv("KEYSTEAD_PASSWORD_MIN_LENGTH", "12")
    assert Settings().password_min_length == 12
    with pytest.raises(ValidationError):
        Settings(password_min_length=7)  # NIST SP 800-63B §5.1.1.2: at least 8
    with pytest.raises(ValidationError):
        Settings(password_min_length=65)


# --- the list -------------------------------------------------------------------------------


def test_list_size_and_well_known_entries() -> None:
    common = common_passwords()
    assert 90_000 <= len(common) <= 100_000
    for word in ("123456", "password", "qwerty", "iloveyou", "dragon", "letmein"):
        assert common.contains(word), word
    assert not common.contains("")
    assert not common.contains("Password")  # lookups take the folded form; check() folds


def test_list_file_is_sorted_folded_normalised_and_unique() -> None:
    data = _list_bytes()
    assert data.endswith(b"\n")
    lines = data[:-1].split(b"\n")
    assert lines == sorted(set(lines))  # the bisection needs this order, no duplicates
    assert b"" not in lines
    for line in lines:
        word = line.decode("utf-8")
        assert unicodedata.normalize("NFKC", word).casefold() == word


def test_every_listed_word_is_found_and_neighbours_are_not() -> None:
    common = common_passwords()
    words = _list_bytes()[:-1].decode("utf-8").split("\n")
    assert all(common.contains(word) for word in words)
    assert not any(common.contains(word + "\x01") for word in words[::97])


def test_list_ships_compact() -> None:
    packed = resources.files("keystead.accounts") / "data" / password_policy.LIST_RESOURCE
    assert len(packed.read_bytes()) < 400_000


def test_list_is_loaded_once_even_by_racing_threads() -> None:
    password_policy._load.cache_clear()
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(common_passwords())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(3):
        _check("password")
        _check(GOOD)
    assert password_policy._load.cache_info().misses == 1
    assert all(found is seen[0] for found in seen)
    assert common_passwords() is seen[0]


def test_import_does_not_load_the_list() -> None:
    code = (
        "from keystead.accounts import password_policy as p; "
        "print(p._load.cache_info().misses); "
        "p.check('zebra lanterns', username=None, email=None, min_length=8); "
        "print(p._load.cache_info().misses)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["0", "1"]
