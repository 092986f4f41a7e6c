"""Slotbot: the platform-neutral core (config, HTTP app, store, Cronofy, commands, alerts)."""

__version__ = "0.1.0"
