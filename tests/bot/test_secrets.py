"""SecretBox: encryption at rest, key rotation, retired keys, the development key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.errors import ConfigError, SecretKeyRetired
from bot.secrets import (
    DEV_KEY_FILE,
    SecretBox,
    generate_key,
    load_or_create_dev_key,
    secret_box_for,
)

OLD_KEY = generate_key()
NEW_KEY = generate_key()


def test_round_trip_and_ciphertext_hides_the_value() -> None:
    box = SecretBox([OLD_KEY])
    token = box.encrypt("xoxb-very-secret")
    assert "xoxb-very-secret" not in token
    assert box.decrypt(token) == "xoxb-very-secret"
    assert box.encrypt_optional(None) is None and box.decrypt_optional(None) is None
    assert box.decrypt_optional(box.encrypt_optional("é ünïcode")) == "é ünïcode"


def test_new_key_first_still_decrypts_old_values_and_rotate_moves_them() -> None:
    old_token = SecretBox([OLD_KEY]).encrypt("refresh-token")
    rotating = SecretBox([NEW_KEY, OLD_KEY])
    assert rotating.decrypt(old_token) == "refresh-token"
    # new values are encrypted under the first key only
    assert SecretBox([NEW_KEY]).decrypt(rotating.encrypt("fresh")) == "fresh"
    rotated = rotating.rotate(old_token)
    assert rotated != old_token
    assert SecretBox([NEW_KEY]).decrypt(rotated) == "refresh-token"


def test_value_under_a_retired_key_raises_secret_key_retired() -> None:
    old_token = SecretBox([OLD_KEY]).encrypt("access-token")
    retired = SecretBox([NEW_KEY])
    with pytest.raises(SecretKeyRetired) as caught:
        retired.decrypt(old_token)
    assert "reconnect" in caught.value.public_message
    with pytest.raises(SecretKeyRetired):
        retired.rotate(old_token)


def test_tampered_value_raises_secret_key_retired() -> None:
    box = SecretBox([OLD_KEY])
    token = box.encrypt("value")
    with pytest.raises(SecretKeyRetired):
        box.decrypt(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    with pytest.raises(SecretKeyRetired):
        box.decrypt("not-a-token-é")


@pytest.mark.parametrize(
    "bad_key",
    ["too-short-key-material", "x" * 44, "ünïcode-key-that-is-not-base64-at-all-xxxxxx"],
)
def test_malformed_key_names_the_variable_but_not_the_key(bad_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SecretBox([OLD_KEY, bad_key])
    message = str(caught.value)
    assert "BOT_SECRET_KEYS" in message
    assert "#2" in message
    assert bad_key not in message
    assert bad_key not in caught.value.public_message


def test_no_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="BOT_SECRET_KEYS"):
        SecretBox([])


def test_dev_key_file_is_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = load_or_create_dev_key(data_dir)
    path = data_dir / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_dev_key(data_dir) == key
    # the key works, and a box made from the file again reads what the first one wrote
    token = SecretBox([key]).encrypt("v")
    assert secret_box_for((), data_dir).decrypt(token) == "v"


def test_configured_keys_win_over_the_dev_key_file(tmp_path: Path) -> None:
    box = secret_box_for((NEW_KEY,), tmp_path)
    assert SecretBox([NEW_KEY]).decrypt(box.encrypt("v")) == "v"
    assert not (tmp_path / DEV_KEY_FILE).exists()
