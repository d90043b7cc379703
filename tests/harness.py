"""Drive conversations through the real engine and database, the way a user would.

    async def test_something(bot):
        replies = await bot.send("/start")
        await bot.press("Acepto")               # a button of the last replies, by label or payload
        assert "idea" in bot.last_text

``bot.restart()`` builds a new App on the same database (a bot restart mid-conversation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app import App
from bot.channels.base import CollectingOutput
from bot.clock import ManualClock
from bot.config import Settings
from bot.messages import Attachment, Button, Incoming, Reply

CHANNEL = "test"


@dataclass
class ChatHarness:
    app: App
    clock: ManualClock
    user: str = "ana"
    lang: str = "es"
    output: CollectingOutput = field(default_factory=lambda: CollectingOutput(CHANNEL))
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    counter: int = 0

    def __post_init__(self) -> None:
        self.app.outputs[CHANNEL] = self.output

    @property
    def engine(self):  # noqa: ANN201 - the Engine, kept untyped to keep this helper short
        return self.app.engine

    async def send(
        self,
        text: str | None = None,
        *,
        user: str | None = None,
        lang: str | None = None,
        payload: str | None = None,
        attachment: Attachment | None = None,
    ) -> list[Reply]:
        who = user or self.user
        self.counter += 1
        incoming = Incoming(
            channel=CHANNEL,
            user_id=who,
            text=text,
            payload=payload,
            attachment=attachment,
            message_id=str(self.counter),
            display_name=who.capitalize(),
            language=lang or self.lang,
        )
        replies = await self.app.engine.handle(incoming)
        self.replies[who] = replies
        return replies

    async def press(self, label_or_payload: str, *, user: str | None = None) -> list[Reply]:
        """Press a button of the last replies to ``user``: exact payload, or a label containing the text."""
        button = self.find_button(label_or_payload, user=user)
        return await self.send(payload=button.payload, user=user)

    def find_button(self, label_or_payload: str, *, user: str | None = None) -> Button:
        buttons = [b for r in self.replies.get(user or self.user, []) for b in r.button_list]
        for button in buttons:
            if button.payload == label_or_payload:
                return button
        wanted = label_or_payload.casefold()
        matches = [b for b in buttons if wanted in b.label.casefold()]
        if not matches:
            raise AssertionError(f"no button {label_or_payload!r} in {[b.label for b in buttons]}")
        return matches[0]

    def text_of(self, user: str | None = None) -> str:
        return "\n".join(r.text for r in self.replies.get(user or self.user, []))

    @property
    def last_text(self) -> str:
        return self.text_of()

    def labels(self, user: str | None = None) -> list[str]:
        return [b.label for r in self.replies.get(user or self.user, []) for b in r.button_list]

    async def onboard(self, user: str | None = None, lang: str | None = None) -> None:
        """/start and accept the privacy notice."""
        await self.send("/start", user=user, lang=lang)
        await self.press("consent:yes", user=user)

    async def restart(self) -> None:
        """A new App (new engine, new caches) on the same database, like a restarted process."""
        settings: Settings = self.app.settings
        await self.app.close()
        self.app = await App.create(settings, clock=self.clock, migrate=False)
        self.app.outputs[CHANNEL] = self.output
