"""BOT_UVLOOP: `serve` runs on uvloop when it is installed, unless told not to."""

from __future__ import annotations

import asyncio

import pytest

from bot import eventloop
from bot.config import Settings
from bot.errors import ConfigError


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_on_by_default_and_off_with_zero() -> None:
    assert eventloop.wanted({}) is True
    assert Settings.from_env({}).uvloop is True
    assert eventloop.wanted({"BOT_UVLOOP": "0"}) is False
    assert Settings.from_env({"BOT_UVLOOP": "off"}).uvloop is False


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="BOT_UVLOOP"):
        Settings.from_env({"BOT_UVLOOP": "maybe"})
    with pytest.raises(ConfigError, match="BOT_UVLOOP"):
        eventloop.wanted({"BOT_UVLOOP": "maybe"})


def test_runs_on_uvloop_when_asked() -> None:
    pytest.importorskip("uvloop")
    assert eventloop.run(_loop_module(), use_uvloop=True).startswith("uvloop")
    assert eventloop.name(True) == "uvloop"


def test_runs_on_asyncio_when_not() -> None:
    assert eventloop.run(_loop_module(), use_uvloop=False).startswith("asyncio")
    assert eventloop.name(False) == "asyncio"


def test_asyncio_when_uvloop_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails
    assert eventloop.loop_factory(True) is None
    assert eventloop.run(_loop_module(), use_uvloop=True).startswith("asyncio")
