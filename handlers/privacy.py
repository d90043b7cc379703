"""A member's data and their rights over it: /privacy, the full notice, /mydata, /forgetme.

None of these asks for consent first: the notice is read before agreeing, and seeing or deleting one's data
is a right whether or not one agreed. What is stored and how it is found, exported and forgotten is
``bot/services/privacy.py``; the full notice is the network's own file, one per language
(``settings.privacy_notice_file``, loaded as ``PrivacyNotice``).

/privacy          → what is stored and why, the consent's date, the full notice as a document in the user's
                    language, buttons: my data, forget me
/mydata           → a JSON document with every row about them, in every table
/forgetme         → what will go and what stays anonymously; FORGET: "yes, delete" (a button carrying a token
                    kept in the conversation) or "no"
privacy:forget:T  → everything personal deleted or anonymised; the conversation itself is gone, so this
                    handler leaves the state as it found it (the engine writes no state then)
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.config import LANGUAGES, ConfigError, Settings
from bot.db.models import AuditLog
from bot.engine import Context
from bot.messages import Attachment, Button
from bot.router import Router
from bot.services import privacy

router = Router("privacy")
log = logging.getLogger("handlers.privacy")

FORGET = "forget"  # flow: /forgetme asked for confirmation


@dataclass(frozen=True)
class PrivacyNotice:
    """The network's full privacy notice, its text per language."""

    texts: dict[str, str]
    files: dict[str, str]

    def summary(self) -> dict[str, object]:
        return {"privacy_notice": {lang: len(text) for lang, text in self.texts.items()}}


@router.content_loader
def load_notice(settings: Settings, previous: object | None) -> PrivacyNotice:
    """Every language's notice must exist: the bot does not start without one (it would ask people to agree
    to a notice it cannot show). At a reload, a missing file keeps the notice already loaded."""
    texts, files = {}, {}
    try:
        for lang in LANGUAGES:
            path = settings.privacy_notice_file.format(lang=lang)
            try:
                texts[lang] = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"LIDERES_PRIVACY_NOTICE_FILE: cannot read {path} ({exc.strerror})") from None
            if not texts[lang].strip():
                raise ConfigError(f"LIDERES_PRIVACY_NOTICE_FILE: {path} is empty")
            files[lang] = path
    except ConfigError as exc:
        if not isinstance(previous, PrivacyNotice):
            raise
        log.error("privacy notice not reloaded, the previous one stays", extra={"problem": str(exc)})
        return previous
    return PrivacyNotice(texts, files)


@router.command("privacy", describe="cmd.privacy")
@router.button("privacy")
async def privacy_command(ctx: Context) -> None:
    """What is stored and why, with the network's full notice attached (the consent prompt's "more about
    privacy" leads here, so the notice is one tap from agreeing)."""
    consent = ctx.user.consent_at
    status = ctx.t("privacy.consent_given", date=consent.date().isoformat()) if consent else ctx.t(
        "privacy.consent_missing")
    buttons = [] if consent else [[Button(ctx.t("privacy.consent_yes"), "consent:yes")]]
    buttons += [[Button(ctx.t("privacy.my_data"), "run:mydata"), Button(ctx.t("privacy.forget_me"), "run:forgetme")]]
    ctx.reply(f"{ctx.t('privacy.details')}\n\n{status}", buttons, document=notice_document(ctx))


def notice_document(ctx: Context) -> Attachment:
    """The full notice in the user's language, as a file they can keep."""
    notice = ctx.content(PrivacyNotice)
    data = (notice.texts.get(ctx.lang) or notice.texts[LANGUAGES[0]]).encode()
    return Attachment("document", filename=ctx.t("privacy.notice_filename"), mime_type="text/markdown", data=data,
                      size=len(data))


@router.command("mydata", describe="cmd.mydata")
async def my_data(ctx: Context) -> None:
    """Everything stored about the member, as a document they can keep (GDPR art. 15 and 20)."""
    now = ctx.clock.now()
    document = await privacy.export(ctx.session, ctx.user, now)
    ctx.session.add(AuditLog(actor_id=ctx.user.id, action="privacy.export", target=f"user:{ctx.user.id}",
                             created_at=now))
    log.info("personal data exported", extra={"user": ctx.user.id, "bytes": len(document)})
    filename = ctx.t("privacy.data_filename", date=now.date().isoformat())
    attachment = Attachment("document", filename=filename, mime_type="application/json", data=document,
                            size=len(document))
    ctx.reply(ctx.t("privacy.data_sent"), document=attachment)


@router.command("forgetme", describe="cmd.forgetme")
async def forget_me(ctx: Context) -> None:
    token = secrets.token_hex(4)
    ctx.start_flow(FORGET, "confirm", {"token": token})
    ask_confirmation(ctx, token)


def ask_confirmation(ctx: Context, token: str) -> None:
    ctx.reply(ctx.t("privacy.forget_confirm"),
              [Button(ctx.t("privacy.forget_yes"), f"privacy:forget:{token}"),
               Button(ctx.t("privacy.forget_no"), "privacy:keep")])


@router.flow(FORGET)
async def typed_while_confirming(ctx: Context) -> None:
    """Only the buttons decide: a typed "yes" could be an answer to something else."""
    token = str(ctx.state.data.get("token") or "")
    ctx.reply(ctx.t("privacy.forget_use_buttons"))
    ask_confirmation(ctx, token)


@router.button("privacy:forget")
async def forget_confirmed(ctx: Context) -> None:
    """The token must be the one this member's /forgetme showed: a button from elsewhere deletes nothing."""
    token = (ctx.incoming.payload or "").rpartition(":")[2]
    if ctx.state.flow != FORGET or not token or token != ctx.state.data.get("token"):
        ctx.reply(ctx.t("core.button_expired"))
        return
    done = await privacy.forget(ctx.session, ctx.user, ctx.settings, ctx.clock.now())
    if done.sessions_cancelled:  # whoever had a session with them is told
        ctx.queued_deliveries = True
    # The conversation row went with the rest; the state is left as loaded, so the engine writes none back.
    ctx.reply(ctx.t("privacy.forgotten_kept" if done.retained.get("submissions") else "privacy.forgotten"))


@router.button("privacy:keep")
async def forget_cancelled(ctx: Context) -> None:
    if ctx.state.flow == FORGET:
        ctx.end_flow()
    ctx.reply(ctx.t("privacy.forget_cancelled"), ctx.menu())
