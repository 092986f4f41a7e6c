"""Secrets at rest: Fernet/MultiFernet keyed by BOT_SECRET_KEYS.

The first key encrypts, every listed key decrypts, so rotation is: put a new key first,
keep the old one until everything has been re-encrypted. A value under a key that is no
longer listed raises `SecretKeyRetired`, which callers turn into "please reconnect".
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot import logs
from bot.errors import ConfigError, SecretKeyRetired

DEV_KEY_FILE = "secret.key"

log = logging.getLogger(__name__)


class SecretBox:
    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ConfigError("BOT_SECRET_KEYS holds no key")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(
                    f"BOT_SECRET_KEYS key #{position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes; make one with "
                    "`python -m bot genkey`)"
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyRetired() from None

    def encrypt_optional(self, plaintext: str | None) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext)

    def decrypt_optional(self, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self.decrypt(ciphertext)

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretKeyRetired() from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_or_create_dev_key(data_dir: Path) -> str:
    """Development only: a key kept in the data folder (mode 0600), made on first use."""
    path = data_dir / DEV_KEY_FILE
    try:
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the development secret key at {path} ({exc.strerror}); "
            "fix the data folder or set BOT_SECRET_KEYS"
        ) from None
    return key


def check_keys(keys: tuple[str, ...], data_dir: Path) -> None:
    """What `secret_box_for` would do, without making a key: ConfigError for a key that is
    not a Fernet key (a development key not made yet is not an error)."""
    if keys:
        SecretBox(keys)
        return
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        try:
            SecretBox([path.read_text(encoding="ascii").strip()])
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"cannot read the development secret key at {path}") from None


def secret_box_for(keys: tuple[str, ...], data_dir: Path) -> SecretBox:
    if keys:
        return SecretBox(keys)
    log.warning(logs.DEV_SECRET_KEY)
    return SecretBox([load_or_create_dev_key(data_dir)])
