"""How Slotbot's commands are typed: the help card, the usage line of each command, and
what is said about a command typed wrong.

The usage lines and problems are what `bot.commands.parser` raises with; the command layer
shows them in `cards.errors.error_usage`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cards.model import Card, Fact, Facts, Footer, Header, Section, Strong

# how each platform's members reach Slotbot, said in their help only
_HELP_HINT = {
    "slack": "Type the commands in any channel or in Slotbot's App Home; replies only you "
    "should see stay private.",
    "teams": "Type the same words to the bot (the leading / is optional); in a channel, "
    "@mention Slotbot first.",
}


def help_card(platform: str = "") -> Card:
    """Every command; `platform` ("slack"/"teams") adds how its members type them (on Teams
    they are words to the bot, without the slash)."""

    def typed(command: str) -> str:
        return command.removeprefix("/") if platform == "teams" else command

    recruiters = Facts(
        [
            Fact(typed("/schedule link"), "Your scheduling link, privately, with a Share button"),
            Fact(typed("/schedule link share"), "Post your link here for everyone"),
            Fact(
                typed("/schedule link set <url>"),
                "Save your Cronofy public link (https://app.cronofy.com/pls/…)",
            ),
            Fact(
                typed("/schedule link for <email> [name]"),
                "A link tied to one candidate; their bookings land on their profile",
            ),
            Fact(
                typed("/schedule connect · disconnect · status"),
                "Connect your calendar, forget it, or see your state",
            ),
            Fact(
                typed("/schedule candidate <email>"),
                "A candidate's profile and timeline, privately",
            ),
            Fact(typed("/schedule upcoming"), "Your upcoming interviews"),
            Fact(typed("/schedule alerts on|off"), "Direct-message alerts about your bookings"),
            Fact(
                typed("/schedule agenda on [HH:MM] | off"),
                "Each morning (08:30 unless you say, your time) a direct message with the "
                "day's interviews",
            ),
            Fact(
                typed("/schedule reminders <minutes>|off"),
                "A direct message before each interview you are on (15 minutes before unless "
                "you say otherwise); without a value, your setting",
            ),
        ]
    )
    admins = Facts(
        [
            Fact(
                typed("/cronofy setup"),
                "Enter the Cronofy Client ID, Client Secret and data center",
            ),
            Fact(typed("/cronofy status"), "Keys, push URL, last callback and failed deliveries"),
            Fact(
                typed("/cronofy alerts here [kinds]"),
                "Send booked / rescheduled / cancelled / declined alerts to this channel "
                "(add other, or say all, for Cronofy's other notices)",
            ),
            Fact(typed("/cronofy alerts off"), "Stop alerts in this channel"),
            Fact(typed("/cronofy admins [add|remove <user>]"), f"Who may run {typed('/cronofy')}"),
            Fact(
                typed("/cronofy feedback [on|off]"),
                "Ask each interviewer for a note after their interview (on by default)",
            ),
            Fact(
                typed("/cronofy api token create <name> | list | revoke <name>"),
                "Tokens for the read API (/api/v1/), shown once, privately",
            ),
            Fact(typed("/cronofy audit [n]"), "The latest entries of the audit log (up to 50)"),
            Fact(
                typed("/cronofy candidate erase|export <email>"),
                "Erase everything Slotbot keeps about a candidate (asks first), or get it as "
                "JSON through a private ten-minute link",
            ),
            Fact(
                typed("/cronofy retention [<days>|off]"),
                "Erase timelines and bookings older than that many days, daily (off by default)",
            ),
            Fact(
                typed("/cronofy webhook add|list|remove|test <url>"),
                "Send each booking, note and erasure, signed, to your own https endpoint",
            ),
        ]
    )
    return Card(
        blocks=[
            Header("Slotbot: interview scheduling with Cronofy"),
            Section(
                "Share your scheduling link with candidates; when they book, reschedule, cancel or "
                "decline, the hiring team hears about it here."
            ),
            Section(Strong("For recruiters")),
            recruiters,
            Section(Strong("For admins")),
            admins,
            *([Footer(_HELP_HINT[platform])] if platform in _HELP_HINT else []),
        ],
        fallback="Slotbot help: /schedule link, /schedule connect, /cronofy setup and more",
    )


# --- usage lines --------------------------------------------------------------------------


def usage_lines(alert_kinds: Sequence[str]) -> dict[str, str]:
    """The usage line of every command (and of each command family), by command."""
    kinds = ", ".join(alert_kinds)
    return {
        "schedule": "/schedule link | link share | link set <url> | link for <email> [name] | "
        "connect | disconnect | status | candidate <email> | upcoming | alerts on|off | "
        "agenda on [HH:MM]|off | reminders [<minutes>|off]",
        "schedule link": "/schedule link",
        "schedule link share": "/schedule link share",
        "schedule link set": "/schedule link set https://app.cronofy.com/pls/XXXXXXXX",
        "schedule link for": "/schedule link for <email> [name]",
        "schedule connect": "/schedule connect",
        "schedule disconnect": "/schedule disconnect",
        "schedule status": "/schedule status",
        "schedule candidate": "/schedule candidate <email>",
        "schedule upcoming": "/schedule upcoming",
        "schedule alerts": "/schedule alerts on|off",
        "schedule agenda": "/schedule agenda · /schedule agenda on [HH:MM] · /schedule agenda off",
        "schedule reminders": "/schedule reminders [<minutes>|off]   (minutes: 1 to 1440)",
        "cronofy": "/cronofy setup | status | alerts here [kinds] | alerts off | "
        "admins [add|remove @user] | feedback [on|off] | webhook | api token … | audit [n] | "
        "candidate erase|export <email> | retention [<days>|off] | reset",
        "cronofy setup": "/cronofy setup",
        "cronofy status": "/cronofy status",
        "cronofy alerts": "/cronofy alerts here [kinds] · /cronofy alerts off   (kinds: "
        + kinds
        + ", all; without kinds, every kind but other)",
        "cronofy admins": "/cronofy admins [add|remove @user]",
        "cronofy feedback": "/cronofy feedback [on|off]",
        "cronofy api token": "/cronofy api token create <name> · /cronofy api token list · "
        "/cronofy api token revoke <name>",
        "cronofy audit": "/cronofy audit [n]   (the latest n entries, 1 to 50; 10 unless you say)",
        "cronofy webhook": "/cronofy webhook [list] · /cronofy webhook add|remove|test <https-url>",
        "cronofy reset": "/cronofy reset",
        "cronofy candidate": "/cronofy candidate erase <email> · /cronofy candidate export <email>",
        "cronofy retention": "/cronofy retention · /cronofy retention <days> · "
        "/cronofy retention off   (days: 1 to 3650)",
        "help": "/schedule link · /schedule connect · /schedule help · /cronofy setup · /cronofy help",
    }


def usage_lines_with_channels(alert_kinds: Sequence[str]) -> dict[str, str]:
    """The usage lines that change where the platform lets a member pick a channel in the
    text (`#<id>`)."""
    kinds = ", ".join(alert_kinds)
    return {
        "cronofy": "/cronofy setup | status | alerts here|#channel [kinds] | alerts off | "
        "admins [add|remove @user] | feedback [on|off] | webhook | api token … | audit [n] | "
        "candidate erase|export <email> | retention [<days>|off] | reset",
        "cronofy alerts": "/cronofy alerts here [kinds] · /cronofy alerts #channel [kinds] · "
        "/cronofy alerts off [#channel]   (kinds: " + kinds + ", all)",
    }


# --- what is wrong with a command ---------------------------------------------------------

TOO_LONG = "That command is too long."
HELP_TAKES_NO_TOPIC = "help takes no arguments (or: help schedule, help cronofy)."
HELP_TAKES_NOTHING = "help takes no arguments."
WHICH_CANDIDATE = "Which candidate? Give their email."
SAY_ON_OR_OFF = "Say on or off."
LINK_AFTER_SET = "Paste your Cronofy public link after “set”."
WHOSE_LINK = "Whose link? Give the candidate's email."
NAME_WITHOUT_BRACKETS = "The name cannot contain < or >."
WHOM = "Whom? Mention the user."
NAME_A_KIND = "Name at least one alert kind."
LINK_TOO_LONG = "That link is too long."
ERASE_OR_EXPORT = "Say erase or export, then the candidate's email."


def retention_days(token: str, most: int) -> str:
    return f"“{token[:20]}” is not a number of days: say 1 to {most}, or off."


WHICH_WEBHOOK = "Which webhook? Give its https URL."


def not_understood(words: str) -> str:
    return f"I didn't understand “{words[:40]}”. Commands start with schedule or cronofy."


def unexpected_words(words: str) -> str:
    return f"Unexpected words: “{words[:40]}”."


def unknown_subcommand(word: str) -> str:
    return f"Unknown subcommand “{word[:30]}”."


def unknown_link_subcommand(word: str) -> str:
    return f"Unknown link subcommand “{word[:30]}”."


def name_too_long(limit: int) -> str:
    return f"The name is too long (at most {limit} characters)."


def add_or_remove(word: str) -> str:
    return f"Say add or remove, not “{word[:30]}”."


def here_or_off(word: str) -> str:
    return f"Say here or off, not “{word[:30]}”."


def unknown_alert_kind(kind: str) -> str:
    return f"Unknown alert kind “{kind[:30]}”."


def not_a_time_of_day(token: str) -> str:
    return f"“{token[:20]}” is not a time of day: say it as HH:MM on a 24-hour clock, e.g. 08:30."


def not_an_email(token: str) -> str:
    return f"“{token[:60]}” is not an email address."


def not_a_link(token: str) -> str:
    return f"“{token[:60]}” is not a link."


def not_a_channel(token: str) -> str:
    return f"“{token[:40]}” is not a channel: type # and pick the channel."


def not_a_user(token: str) -> str:
    return f"“{token[:40]}” is not a user: type @ and pick the person."


def channel_not_visible(channel_id: str) -> str:
    """A `#<id>` the platform did not vouch for."""
    return f"“#{channel_id[:40]}” is not a channel Slotbot can see."


def user_not_here(user_id: str) -> str:
    """An `@<id>` the platform did not vouch for."""
    return f"“@{user_id[:40]}” is not a user here: type @ and pick the person."
