"""The console's one org: its people, its channels, and the core's terms for them.

Ids are the handles people type (`ada`, `rita`, `hiring`): the console is the platform that
vouches for them, as Slack vouches for `U024BE7LH`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.chat import Actor, Conversation, Mentions
from cards import console as say

NAME = "console"
ORG_NATIVE_ID = "local"
HIRING = "hiring"
CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DM_PREFIX = "dm-"


def org_id_for(native_id: str) -> str:
    return f"{NAME}:{native_id}"


@dataclass(frozen=True)
class Person:
    handle: str  # the user id
    name: str
    email: str
    # a workspace admin, as far as the platform tells (Slack says so of owners and admins)
    admin: bool = False

    @property
    def role(self) -> str:
        return say.ROLE_ADMIN if self.admin else say.ROLE_RECRUITER


PEOPLE = (
    Person("ada", "Ada Admin", "ada@example.com", admin=True),
    Person("rita", "Rita Recruiter", "rita@example.com"),
)


class Workspace:
    """Who is in the console's org and where they can talk."""

    def __init__(self) -> None:
        self.org_id = org_id_for(ORG_NATIVE_ID)
        self.people: dict[str, Person] = {p.handle: p for p in PEOPLE}
        self.channels: set[str] = {HIRING}

    def actor(self, person: Person) -> Actor:
        return Actor(
            platform=NAME,
            org_id=self.org_id,
            user_id=person.handle,
            display_name=person.name,
            is_platform_admin=person.admin,
        )

    def conversation(self, person: Person, channel: str | None) -> Conversation:
        """The channel `channel`, or `person`'s DM with Slotbot when it is None."""
        if channel is None:
            return Conversation(NAME, self.org_id, DM_PREFIX + person.handle, "dm")
        return Conversation(NAME, self.org_id, channel, "channel", channel)

    def conversation_of(self, person: Person, conversation_id: str) -> Conversation:
        """A conversation by id, as `person` sees it (their own DM for any DM)."""
        if conversation_id.startswith(DM_PREFIX):
            return self.conversation(person, None)
        return self.conversation(person, conversation_id)

    def label(self, conversation_id: str) -> str:
        """How the terminal names a conversation: `#hiring`, `Rita Recruiter's DM`."""
        if conversation_id.startswith(DM_PREFIX):
            person = self.people.get(conversation_id.removeprefix(DM_PREFIX))
            return say.dm_label(person.name if person else conversation_id)
        return say.channel_label(conversation_id)

    def place(self, channel: str | None) -> str:
        return say.channel_label(channel) if channel is not None else say.DM_PLACE

    def mentions(self, text: str) -> Mentions:
        """The `@person` and `#channel` words of a command that name someone or somewhere the
        console knows, with their names: the core accepts no other."""
        users: dict[str, str] = {}
        channels: dict[str, str] = {}
        for word in text.split():
            word = word.strip(".,;:!?")
            if word.startswith("@") and word[1:] in self.people:
                users[word[1:]] = self.people[word[1:]].name
            elif word.startswith("#") and word[1:] in self.channels:
                channels[word[1:]] = word[1:]
        return Mentions(users=users, channels=channels, can_name_channels=True)
