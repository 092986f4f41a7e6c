"""Every log message of the Slack adapter, in one place (see bot/logs.py for the core's)."""

from __future__ import annotations

SLACK_MODE = "slack: %s"
SLACK_USERS_INFO_FAILED = "slack: users.info for %s failed (%s); treating as a member"
SLACK_REPLY_FAILED = "slack: could not reply: %s"
SLACK_HOME_FAILED = "slack: App Home not published: %s"
SLACK_UNINSTALLED = "slack: %s for team %s; %d pending job(s) held until a reinstall"
SLACK_AUTH_TEST_FAILED = "slack: auth.test failed (%s); the bot token may be wrong"
SLACK_UNREACHABLE = (
    "slack: Slack's Web API cannot be reached (%s); slash commands answer that Slack could "
    "not be reached until it answers again"
)
SLACK_REACHABLE = "slack: Slack's Web API answers again"
SLACK_INSTALL_UNREADABLE = (
    "slack: the install of team %s cannot be decrypted with BOT_SECRET_KEYS; it must be "
    "installed again"
)
SLACK_SOCKET_MODE = "slack: Socket Mode %s"
SLACK_DRAIN_TIMEOUT = "slack: %d listener(s) still replying after %.0fs at shutdown"
SLACK_REINSTALLED = "slack: installed again in team %s; deliveries resume"
SLACK_CANNOT_LOOK = (
    "slack: cannot look for the message of %s (%s: %s); it is posted again, and may show twice"
)
SLACK_ADMIN_FORGOTTEN = "slack: user %s changed; their admin rights are asked of Slack again"
SLACK_ORG_EVENT_IGNORED = (
    "slack: %s for the whole of enterprise %s, where Slotbot knows no workspace of its own "
    "(it is installed per workspace: org-wide install is off in the manifest); nothing changed"
)
SLACK_ORG_EVENT = "slack: %s for the whole of enterprise %s: workspace %s ends too"
SLACK_UNHANDLED = "slack: no listener takes %s; acknowledged (the manifest does not ask for it)"
SLACK_LISTENER_FAILED = "slack: handling a request failed (%s)"
