import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keystead.jose import kek as kek_module
from keystead.jose.kek import KeyEncryptor

SECRET = "correct horse battery staple 0123456789"
# Made once with KeyEncryptor.from_config(SECRET, _).encrypt(b"pinned plaintext", b"pinned aad");
# it pins the KDF and the wire format, so existing deployments keep decrypting after a refactor.
PINNED = "v1.H9SQmco1Xhldrc9eJPwm1tu0HJBNyQIxYHUy0roeaZeK7lhZe37oykwWpdw"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def kek() -> KeyEncryptor:
    return KeyEncryptor(bytes(range(32)))


def test_round_trip(kek: KeyEncryptor) -> None:
    token = kek.encrypt(b"private jwk", b"kid-1")
    assert token.startswith("v1.")
    assert "=" not in token
    assert len(b64d(token[3:])) == 12 + len(b"private jwk") + 16  # nonce + ct + tag
    assert kek.decrypt(token, b"kid-1") == b"private jwk"


def test_random_nonce_per_message(kek: KeyEncryptor) -> None:
    a, b = kek.encrypt(b"same", b"aad"), kek.encrypt(b"same", b"aad")
    assert a != b
    assert b64d(a[3:])[:12] != b64d(b[3:])[:12]


def test_output_is_standard_aes_gcm(kek: KeyEncryptor) -> None:
    raw = b64d(kek.encrypt(b"hello", b"ctx")[3:])
    assert AESGCM(bytes(range(32))).decrypt(raw[:12], raw[12:], b"ctx") == b"hello"


def test_wrong_key_fails(kek: KeyEncryptor) -> None:
    token = kek.encrypt(b"secret", b"aad")
    with pytest.raises(ValueError, match="wrong KEYSTEAD_SECRET_KEY"):
        KeyEncryptor(b"\x01" * 32).decrypt(token, b"aad")


def test_wrong_aad_fails(kek: KeyEncryptor) -> None:
    token = kek.encrypt(b"secret", b"kid-1")
    with pytest.raises(ValueError, match="wrong KEYSTEAD_SECRET_KEY"):
        kek.decrypt(token, b"kid-2")


def test_tampered_ciphertext_fails(kek: KeyEncryptor) -> None:
    token = kek.encrypt(b"secret value", b"aad")
    raw = bytearray(b64d(token[3:]))
    raw[14] ^= 0x01
    tampered = "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="authentication failed"):
        kek.decrypt(tampered, b"aad")


@pytest.mark.parametrize(
    "token",
    ["", "v2.AAAA", "secret", "v1.", "v1.AAAA", "v1.!!!not-base64!!!", "v1." + "A" * 20],
)
def test_garbage_fails_with_value_error(kek: KeyEncryptor, token: str) -> None:
    with pytest.raises(ValueError, match="cannot decrypt"):
        kek.decrypt(token, b"aad")


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyEncryptor(b"k" * size)


def test_repr_hides_key(kek: KeyEncryptor) -> None:
    assert "\\x00" not in repr(kek) and "secret" in repr(kek)


def test_secret_key_is_deterministic(tmp_path: Path) -> None:
    a = KeyEncryptor.from_config(SECRET, tmp_path)
    b = KeyEncryptor.from_config(SECRET, tmp_path / "elsewhere")
    assert b.decrypt(a.encrypt(b"x", b"y"), b"y") == b"x"
    assert not (tmp_path / "secret.key").exists()  # no file when the secret comes from env
    other = KeyEncryptor.from_config(SECRET + "!", tmp_path)
    with pytest.raises(ValueError, match="wrong KEYSTEAD_SECRET_KEY"):
        other.decrypt(a.encrypt(b"x", b"y"), b"y")


def test_secret_key_derivation_is_pinned(tmp_path: Path) -> None:
    kek = KeyEncryptor.from_config(SECRET, tmp_path)
    assert kek.decrypt(PINNED, b"pinned aad") == b"pinned plaintext"
    # ... and it is the documented HKDF-SHA256 with salt = info = "keystead kek v1".
    key = HKDF(hashes.SHA256(), 32, salt=b"keystead kek v1", info=b"keystead kek v1").derive(
        SECRET.encode()
    )
    assert KeyEncryptor(key).decrypt(PINNED, b"pinned aad") == b"pinned plaintext"


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_short_secret_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ValueError, match="KEYSTEAD_SECRET_KEY must be at least 32 characters"):
        KeyEncryptor.from_config(secret, tmp_path)


def test_secret_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        first = KeyEncryptor.from_config(None, data_dir)
    finally:
        os.umask(old_umask)
    path = data_dir / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(b64d(path.read_text().strip())) == 32
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]  # no temp file left

    content = path.read_bytes()
    token = first.encrypt(b"signing key", b"kid")
    second = KeyEncryptor.from_config(None, data_dir)
    assert second.decrypt(token, b"kid") == b"signing key"
    assert path.read_bytes() == content  # reused, not rewritten
    assert KeyEncryptor(b64d(path.read_text().strip())).decrypt(token, b"kid") == b"signing key"


def test_existing_secret_key_file_is_used(tmp_path: Path) -> None:
    key = os.urandom(32)
    (tmp_path / "secret.key").write_text(base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n")
    token = KeyEncryptor.from_config(None, tmp_path).encrypt(b"x", b"a")
    assert KeyEncryptor(key).decrypt(token, b"a") == b"x"


def test_concurrently_created_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = os.urandom(32)
    real_link = os.link

    def racing_link(src: object, dst: Path) -> None:
        # Another process publishes its secret.key between our exists() check and link().
        tmp = dst.with_name("theirs.tmp")
        tmp.write_text(base64.urlsafe_b64encode(theirs).decode())
        real_link(tmp, dst)
        tmp.unlink()
        raise FileExistsError(dst)

    monkeypatch.setattr(kek_module.os, "link", racing_link)
    ours = KeyEncryptor.from_config(None, tmp_path)
    assert KeyEncryptor(theirs).decrypt(ours.encrypt(b"x", b"a"), b"a") == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


@pytest.mark.parametrize(
    "content", ["", "not base64 !!", base64.urlsafe_b64encode(b"x" * 16).decode()]
)
def test_bad_secret_key_file_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "secret.key").write_text(content)
    with pytest.raises(ValueError, match="secret.key"):
        KeyEncryptor.from_config(None, tmp_path)


def test_derive(kek: KeyEncryptor) -> None:
    a = kek.derive("interaction-state")
    assert len(a) == 32
    assert a == KeyEncryptor(bytes(range(32))).derive("interaction-state")
    assert a != kek.derive("cookie")
    assert a != bytes(range(32))
    assert a != KeyEncryptor(b"\x01" * 32).derive("interaction-state")
    with pytest.raises(ValueError):
        kek.derive("")


def test_derive_is_pinned(tmp_path: Path) -> None:
    kek = KeyEncryptor.from_config(SECRET, tmp_path)
    assert kek.derive("interaction-state").hex() == (
        "41518568ef358737006cb630507f5bd1e5aefe08a5627508a19fc18076cf088c"
    )
