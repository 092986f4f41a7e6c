"""The console session: each line a person types becomes the core's Turn, and its Replies are
printed.

Lines are Slotbot's commands, typed as in Slack or Teams, except for the console's own words:
`as <person>`, `in #<channel>` / `in dm`, `simulate <event> <email>`, `press <n>`,
`console help` and `quit`. A form (the setup modal) is asked field by field and submitted as a
form Turn; a Connect calendar button is followed to the Cronofy stand-in and, once approved
there, back to Slotbot's real OAuth callback. After each line the session waits (bounded) for
the outbox to be empty, so the alerts and notices a line caused print before the next prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp

from adapters.console import log_lines
from adapters.console.delivery import ConsoleDelivery
from adapters.console.runtime import Running
from adapters.console.screen import Screen
from adapters.console.simulate import correlation_id_of, simulate
from adapters.console.terminal import Terminal, command_words
from adapters.console.workspace import CHANNEL_NAME, HIRING, Person, Workspace
from bot.chat import Reply, Turn
from bot.commands import handle_turn
from cards import actions
from cards import console as say
from cards.errors import APOLOGY
from cards.model import Card

log = logging.getLogger(__name__)

T = TypeVar("T")
SETTLE_TIMEOUT = 10.0
# the longest a line may keep Slotbot busy (Cronofy calls time out well before)
CALL_TIMEOUT = 60.0
BROWSER_TIMEOUT = 15.0
YES = ("", "y", "yes")


class Session:
    def __init__(
        self,
        running: Running,
        delivery: ConsoleDelivery,
        terminal: Terminal,
        screen: Screen,
        workspace: Workspace,
        *,
        settle_timeout: float = SETTLE_TIMEOUT,
    ) -> None:
        self.running = running
        self.delivery = delivery
        self.terminal = terminal
        self.screen = screen
        self.workspace = workspace
        self.settle_timeout = settle_timeout
        self.person: Person = next(iter(workspace.people.values()))
        self.channel: str | None = HIRING
        # the links handed to candidates in this session, oldest first: what `simulate` acts on
        self.correlation_ids: list[str] = []

    # the loop ------------------------------------------------------------------------

    def prompt(self) -> str:
        return say.prompt(self.person.handle, self.workspace.place(self.channel))

    def words(self) -> list[str]:
        """What Tab completes: command words, people, channels."""
        return [
            *command_words(),
            *self.workspace.people,
            *(f"#{name}" for name in sorted(self.workspace.channels)),
        ]

    def run(self) -> None:
        people = [(p.handle, p.role) for p in self.workspace.people.values()]
        self.screen.say(say.banner(self.running.url, self.running.standin.url, people))
        while True:
            try:
                line = self.terminal.read(self.prompt())
            except KeyboardInterrupt:
                self.screen.say()
                continue
            except EOFError:
                self.screen.say()
                break
            try:
                if not self.handle(line):
                    break
            except KeyboardInterrupt:
                self.screen.say(say.INTERRUPTED)
            except EOFError:
                break
        self.screen.say(say.BYE)

    def handle(self, line: str) -> bool:
        """One line; False when the person is done."""
        words = line.split()
        if not words:
            return True
        head, rest = words[0].lower(), words[1:]
        if head in ("quit", "exit"):
            return False
        try:
            if head == "as":
                self.become(rest)
            elif head == "in":
                self.go(rest)
            elif head == "console" and rest in ([], ["help"]):
                self.screen.show(say.CONSOLE_HEADING, say.console_help(), "")
            elif head == "simulate":
                self.simulate(rest)
            elif head == "press":
                self.press(rest)
            else:
                self.command(line.strip())
            self.settle()
        except EOFError:
            raise
        except Exception:
            log.exception(log_lines.CONSOLE_TURN_FAILED, head)
            self.screen.say(APOLOGY)
        return True

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        return self.running.call(work, CALL_TIMEOUT)

    def settle(self) -> None:
        if not self.call(self.running.settle(self.settle_timeout)):
            self.screen.say(say.STILL_DELIVERING)

    # the console's own words -------------------------------------------------------------

    def become(self, rest: list[str]) -> None:
        handle = rest[0].lower().lstrip("@") if len(rest) == 1 else " ".join(rest)
        person = self.workspace.people.get(handle)
        if person is None:
            self.screen.say(say.unknown_person(handle, list(self.workspace.people)))
            return
        self.person = person
        self.screen.say(say.now_as(person.name, person.role))

    def go(self, rest: list[str]) -> None:
        where = rest[0].lower() if len(rest) == 1 else " ".join(rest)
        if where == "dm":
            self.channel = None
        elif CHANNEL_NAME.fullmatch(where.removeprefix("#")):
            self.channel = where.removeprefix("#")
            self.workspace.channels.add(self.channel)
        else:
            self.screen.say(say.bad_place(where))
            return
        self.screen.say(say.now_in(self.workspace.place(self.channel)))

    def press(self, rest: list[str]) -> None:
        number = rest[0] if len(rest) == 1 else " ".join(rest)
        pressable = self.screen.button(int(number)) if number.isdigit() else None
        if pressable is None:
            self.screen.say(say.no_such_button(number))
            return
        conversation = self.workspace.conversation_of(self.person, pressable.conversation_id)
        turn = Turn(
            self.workspace.actor(self.person),
            conversation,
            "action",
            action_id=pressable.action_id,
            value=pressable.value,
        )
        self.answer(turn)

    def simulate(self, rest: list[str]) -> None:
        if len(rest) != 2 or rest[0].lower() not in say.SIMULATE_KINDS:
            self.screen.say(say.SIMULATE_USAGE)
            return
        kind, email = rest[0].lower(), rest[1]
        outcome = self.call(
            simulate(
                self.running.services,
                self.running.standin,
                self.workspace.org_id,
                kind,
                email,
                list(self.correlation_ids),
            )
        )
        if outcome.problem:
            self.screen.say(outcome.problem)
        else:
            self.screen.say(say.simulate_sent(kind, outcome.who, outcome.status, outcome.answer))

    # Slotbot's commands --------------------------------------------------------------------

    def command(self, text: str) -> None:
        conversation = self.workspace.conversation(self.person, self.channel)
        turn = Turn(
            self.workspace.actor(self.person),
            conversation,
            "command",
            text=text,
            mentions=self.workspace.mentions(text),
        )
        self.answer(turn)

    def answer(self, turn: Turn) -> None:
        """Run the turn and show its replies; then open its form, or follow its connect link."""
        replies = self.call(handle_turn(self.running.services, turn))
        forms: list[Card] = []
        connect: str | None = None
        for reply in replies:
            self.remember(reply.card)
            if reply.opens_form:
                forms.append(reply.card)
                continue
            self.show(turn, reply)
            connect = connect or say.connect_link(reply.card)
        for form in forms:
            self.fill(turn, form)
        if connect is not None:
            self.connect(connect)

    def show(self, turn: Turn, reply: Reply) -> None:
        conversation_id = turn.conversation.conversation_id
        if reply.visibility == "public":
            self.delivery.post(conversation_id, reply.card)
            return
        name = self.person.name
        heading = (
            say.in_place_heading(name, form=turn.kind == "form")
            if reply.visibility == "update"
            else say.private_heading(name)
        )
        self.screen.show(heading, reply.card, conversation_id)

    def remember(self, card: Card) -> None:
        for url in say.links(card):
            correlation_id = correlation_id_of(url)
            if correlation_id and correlation_id not in self.correlation_ids:
                self.correlation_ids.append(correlation_id)

    # forms ----------------------------------------------------------------------------

    def suggestions(self, card: Card) -> dict[str, str]:
        """What to offer in a form: the stand-in's keys in the Cronofy setup form."""
        if card.form_id != actions.SETUP_FORM:
            return {}
        standin = self.running.standin
        return {
            actions.CLIENT_ID: standin.client_id,
            actions.CLIENT_SECRET: standin.client_secret,
            actions.DATA_CENTER: "us",
        }

    def fill(self, turn: Turn, card: Card) -> None:
        """Ask each field of the form, then submit it as a form Turn."""
        fields = say.form_fields(card)
        offered = self.suggestions(card)
        self.screen.say(say.form_intro(card))
        if offered:
            self.screen.say(
                say.standin_keys(
                    offered[actions.CLIENT_ID],
                    offered[actions.CLIENT_SECRET],
                    offered[actions.DATA_CENTER],
                )
            )
        values: dict[str, str] = {}
        try:
            for field in fields:
                suggestion = offered.get(field.name) or field.value
                ask = self.terminal.read_secret if field.secret else self.terminal.read
                values[field.name] = ask(say.field_prompt(field, suggestion)).strip() or suggestion
        except KeyboardInterrupt:
            self.screen.say()
            self.screen.say(say.FORM_CANCELLED)
            return
        submitted = Turn(
            turn.actor, turn.conversation, "form", action_id=card.form_id, values=values
        )
        for reply in self.call(handle_turn(self.running.services, submitted)):
            self.show(submitted, reply)
            problems = say.form_problems(reply.form_errors, fields)
            if problems:
                self.screen.say(problems)

    # connecting a calendar ------------------------------------------------------------------

    def connect(self, url: str) -> None:
        """Follow a Connect calendar button: the stand-in's sign-in page, approve or deny, and
        its redirect to Slotbot's OAuth callback."""
        try:
            answer = self.terminal.read(say.approve_question(self.person.email))
        except KeyboardInterrupt:
            self.screen.say()
            return
        approve = answer.strip().lower() in YES
        title, message = self.call(browse_connect(url, self.person, approve=approve))
        self.screen.say(say.connect_outcome(title, message))


async def browse_connect(url: str, person: Person, *, approve: bool) -> tuple[str, str]:
    """What a browser does with a connect link: open the sign-in page, submit its form as
    `person`, follow the redirect; the title and text of the page it ends on."""
    timeout = aiohttp.ClientTimeout(total=BROWSER_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as browser:
        async with browser.get(url) as page:
            text = await page.text()
            if page.status != 200:
                return page_text(text)
        # the page's form carries the link's parameters on, with who signed in and the answer
        parts = urlsplit(url)
        form = dict(parse_qsl(parts.query)) | {
            "email": person.email,
            "name": person.name,
            "decision": "approve" if approve else "deny",
        }
        action = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        async with browser.post(action, data=form) as landed:
            return page_text(await landed.text())


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.message = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "p"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1" and not self.title:
            self.title = data.strip()
        elif self._in == "p" and not self.message:
            self.message = data.strip()


def page_text(html: str) -> tuple[str, str]:
    """A page's first heading and first paragraph."""
    page = _Page()
    page.feed(html)
    return page.title or say.CONNECT_NO_PAGE, page.message
