"""Every log message of the Teams adapter, in one place (see bot/logs.py for the core's)."""

from __future__ import annotations

TEAMS_DEV_MODE = (
    "TEAMS_DEV_MODE=1: Microsoft Teams requests are NOT authenticated. "
    "Use this only with a local emulator."
)
TEAMS_TURN_ERROR = "teams turn failed: %s"
TEAMS_APOLOGY_FAILED = "teams: could not tell the member that the turn failed"
TEAMS_UNINSTALLED = "teams: uninstalled from tenant %s; %d pending job(s) held until a reinstall"
TEAMS_REINSTALLED = "teams: installed again in tenant %s; %d held job(s) released"
TEAMS_MEMBER_LOOKUP_FAILED = "teams: could not look up a mentioned member (%s)"
TEAMS_PRIVATE_REPLY_FAILED = "teams: could not open a 1:1 chat for a private answer (%s)"
TEAMS_REPLY_QUEUED = "teams: a reply could not be sent during the turn (%s); job %s sends it"
TEAMS_REPLY_DROPPED = "teams: a reply to an activity outside any tenant could not be sent (%s)"
