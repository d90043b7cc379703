"""/broadcast: a coordinator writes to many members; /broadcasts: recent ones, with pause, resume and cancel.

The conversation (flow "broadcast"), one state a line; /cancel leaves it at any point and nothing is sent:

    /broadcast  → "write the message" (text, or a picture or a document with its caption)
    TEXT        text over 4,096 characters, a sticker or a voice note → why, and the same question again;
                → "add the <other language> version?" [add it] [same text for everyone]
    TRANSLATION the text in the other language (a file here → "text please", the same question again)
    AUDIENCE    the audience so far and how many it reaches; a button per dimension (region, language, role,
                submission status, SDG, deep-link source) opens its values as toggles; 👁 preview
    PREVIEW     the message as members will see it, the number of recipients; ✅ send now · 🕒 schedule ·
                👥 change the audience · ✖ discard (an audience of nobody offers only the change)
    SCHEDULE    "YYYY-MM-DD HH:MM" in the coordinator's time zone → PREVIEW with the date, ✅ confirm
    TEMPLATE    (when WhatsApp is on) an approved template's name and its parameters, "name | p1 | p2", for
                members outside WhatsApp's 24-hour window (without one the channel's notice template is used)
    ✅          the ``broadcasts`` row is committed; the outbox starts it (now or when scheduled) and edits a
                progress message for its author until the final report

Every step checks the role again (the flow's messages too, not only /broadcast), and every button's payload
is checked against what this state offers, so a stale or forged button changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from sqlalchemy import func, select

from bot.config import LANGUAGES
from bot.db.models import ROLES, Broadcast, User
from bot.engine import Context
from bot.messages import Button, Reply, rows
from bot.router import COORDINATOR, Router
from bot.services import broadcasts
from bot.services.submissions import REVIEW_STATUSES, LoadedForm, status_label

router = Router("admin.broadcast")

FLOW = "broadcast"
PREFIX = "bc"
LIST_LIMIT = 8
MAX_SOURCES = 12
MAX_AHEAD = timedelta(days=90)
FILE_KINDS = ("photo", "document")
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")


# -- writing --------------------------------------------------------------------------------------------


@router.command("broadcast", describe="cmd.broadcast", coordinator=True)
async def broadcast_command(ctx: Context) -> None:
    ctx.start_flow(FLOW, "text", {"texts": {}, "attachment": None, "audience": {}})
    ctx.reply(ctx.t("bc.ask_text", limit=broadcasts.MAX_TEXT))


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    """Typed input while writing a broadcast; the role is checked again, as on every coordinator call."""
    if not await ctx.engine.guards[COORDINATOR](ctx):
        ctx.end_flow()
        return
    step = ctx.state.step
    if step == "text":
        await take_text(ctx)
    elif step == "translation":
        await take_translation(ctx)
    elif step == "schedule":
        await take_schedule(ctx)
    elif step == "template":
        await take_template(ctx)
    else:  # the audience and the preview are answered with buttons
        ctx.reply(ctx.t("bc.use_buttons"))
        await show_step(ctx)


async def take_text(ctx: Context) -> None:
    attachment = ctx.incoming.attachment
    if attachment is not None and attachment.kind not in FILE_KINDS:
        ctx.reply(ctx.t("bc.file_kind"))
        return
    text = ctx.text
    if len(text) > broadcasts.MAX_TEXT:
        ctx.reply(ctx.t("bc.too_long", length=len(text), limit=broadcasts.MAX_TEXT))
        return
    if not text and attachment is None:
        ctx.reply(ctx.t("bc.ask_text", limit=broadcasts.MAX_TEXT))
        return
    ctx.state.data["texts"] = {ctx.lang: text}
    ctx.state.data["attachment"] = broadcasts.attachment_json(attachment)
    ctx.state.step = "language"
    other = other_language(ctx)
    ctx.reply(ctx.t("bc.ask_translation", language=ctx.t(f"bc.language.{other}")),
              [Button(ctx.t("bc.add_translation", language=ctx.t(f"bc.language.{other}")), f"{PREFIX}:translate"),
               Button(ctx.t("bc.same_text"), f"{PREFIX}:audience")])


async def take_translation(ctx: Context) -> None:
    if ctx.incoming.attachment is not None or not ctx.text:
        ctx.reply(ctx.t("bc.text_expected"))
        return
    if len(ctx.text) > broadcasts.MAX_TEXT:
        ctx.reply(ctx.t("bc.too_long", length=len(ctx.text), limit=broadcasts.MAX_TEXT))
        return
    ctx.state.data["texts"][other_language(ctx)] = ctx.text
    ctx.reply(ctx.t("bc.translation_saved"))
    await show_audience(ctx)


async def take_schedule(ctx: Context) -> None:
    zone = time_zone(ctx.user)
    when = parse_when(ctx.text, zone)
    now = ctx.clock.now()
    if when is None:
        ctx.reply(ctx.t("bc.when_unreadable", example=(now + timedelta(days=1)).astimezone(zone)
                        .strftime("%Y-%m-%d 09:00"), zone=zone.key))
        return
    if not now < when <= now + MAX_AHEAD:
        ctx.reply(ctx.t("bc.when_out_of_range", days=MAX_AHEAD.days))
        return
    ctx.state.data["when"] = when.isoformat()
    ctx.state.step = "preview"
    await show_preview(ctx)


async def take_template(ctx: Context) -> None:
    """``news_update | Taller de finanzas | jueves``: WhatsApp template names are lower case, digits and _."""
    name, *params = [part.strip() for part in ctx.text.split("|")]
    if ctx.incoming.attachment is not None or not TEMPLATE_NAME.fullmatch(name) or len(params) > 10 \
            or any(len(param) > 1024 or not param for param in params):
        ctx.reply(ctx.t("bc.template_unreadable"))
        return
    ctx.state.data["template"] = {"name": name, "params": params}
    await show_preview(ctx)


def other_language(ctx: Context) -> str:
    return next(lang for lang in LANGUAGES if lang != ctx.lang)


def time_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_when(text: str, zone: ZoneInfo) -> datetime | None:
    """``2026-12-01 09:30`` (or with a T, or seconds) in the coordinator's zone; None when unreadable."""
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(" ".join(text.split()), pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


# -- the audience ---------------------------------------------------------------------------------------


async def dimension_values(ctx: Context, dimension: str) -> list[tuple[str, str]]:
    """(value, label) pairs a dimension offers now: the form's regions and SDGs, the roles, statuses, and the
    deep-link sources members came from."""
    form = ctx.content(LoadedForm).form
    if dimension in ("region", "sdg"):
        item = form.field("region" if dimension == "region" else "sdgs")
        return [(choice.value, choice.label_in(ctx.lang)) for choice in (item.choices if item else [])]
    if dimension == "language":
        return [(lang, ctx.t(f"bc.language.{lang}")) for lang in LANGUAGES]
    if dimension == "role":
        return [(role, ctx.t(f"bc.role.{role}")) for role in ROLES]
    if dimension == "status":
        return ([(status, status_label(status, ctx.lang)) for status in REVIEW_STATUSES]
                + [(broadcasts.NO_SUBMISSION, ctx.t("bc.no_submission"))])
    if dimension == "source":
        found = await ctx.session.scalars(
            select(User.source).where(User.source.is_not(None)).group_by(User.source)
            .order_by(func.count(User.id).desc(), User.source).limit(MAX_SOURCES)
        )
        return [(source, source) for source in found if source]
    return []


async def audience_text(ctx: Context, audience: broadcasts.Audience) -> str:
    if not audience:
        return ctx.t("bc.audience_everyone")
    parts = []
    for dimension, values in audience.items():
        labels = dict(await dimension_values(ctx, dimension))
        parts.append(f"{ctx.t(f'bc.dimension.{dimension}')}: {', '.join(labels.get(v, v) for v in values)}")
    return "\n".join(parts)


async def show_audience(ctx: Context) -> None:
    audience = broadcasts.clean_audience(ctx.state.data.get("audience"))
    count = await broadcasts.count_recipients(ctx.session, audience)
    ctx.state.step = "audience"
    text = ctx.t("bc.audience", audience=await audience_text(ctx, audience), count=broadcasts.number(count, ctx.lang))
    buttons = [Button(ctx.t(f"bc.dimension.{d}"), f"{PREFIX}:dim:{d}") for d in broadcasts.DIMENSIONS]
    laid = [*rows(*buttons, per_row=3)]
    laid.append((Button(ctx.t("bc.preview"), f"{PREFIX}:preview"), Button(ctx.t("bc.clear"), f"{PREFIX}:clear")))
    ctx.reply(text, laid)


async def show_dimension(ctx: Context, dimension: str) -> None:
    values = await dimension_values(ctx, dimension)
    chosen = set(broadcasts.clean_audience(ctx.state.data.get("audience")).get(dimension, []))
    ctx.state.step = "audience"
    ctx.state.data["dimension"] = dimension
    ctx.state.data["choices"] = [value for value, _ in values]
    buttons = [Button(("✅ " if value in chosen else "▫️ ") + label, f"{PREFIX}:val:{index}")
               for index, (value, label) in enumerate(values)]
    laid = [*rows(*buttons, per_row=3 if dimension == "sdg" else 2),
            (Button(ctx.t("bc.back_to_audience"), f"{PREFIX}:audience"),)]
    key = "bc.pick_values" if values else "bc.no_values"
    ctx.reply(ctx.t(key, dimension=ctx.t(f"bc.dimension.{dimension}")), laid, edit=True)


def toggle(ctx: Context, index: str) -> str | None:
    """Flip one value of the open dimension, by its position in what was shown; None when stale or forged."""
    dimension = ctx.state.data.get("dimension")
    choices = ctx.state.data.get("choices")
    if dimension not in broadcasts.DIMENSIONS or not isinstance(choices, list) or not index.isdigit():
        return None
    if int(index) >= len(choices):
        return None
    value = str(choices[int(index)])
    audience = broadcasts.clean_audience(ctx.state.data.get("audience"))
    chosen = set(audience.get(dimension, []))
    chosen ^= {value}
    audience[dimension] = sorted(chosen)
    ctx.state.data["audience"] = broadcasts.clean_audience(audience)
    return str(dimension)


# -- preview and confirmation ---------------------------------------------------------------------------


def draft_message(ctx: Context, lang: str) -> Reply:
    texts: dict[str, str] = ctx.state.data.get("texts") or {}
    draft = Broadcast(texts=texts, attachment=ctx.state.data.get("attachment"))
    return broadcasts.message_for(draft, lang)


async def show_preview(ctx: Context) -> None:
    audience = broadcasts.clean_audience(ctx.state.data.get("audience"))
    count = await broadcasts.count_recipients(ctx.session, audience)
    ctx.state.step = "preview"
    if count == 0:
        ctx.reply(ctx.t("bc.nobody"), [Button(ctx.t("bc.change_audience"), f"{PREFIX}:audience")])
        return
    texts: dict[str, str] = ctx.state.data.get("texts") or {}
    for lang in texts:
        ctx.replies.append(draft_message(ctx, lang))
    when = ctx.state.data.get("when")
    summary = ctx.t("bc.preview_summary", count=broadcasts.number(count, ctx.lang),
                    audience=await audience_text(ctx, audience),
                    languages=", ".join(ctx.t(f"bc.language.{lang}") for lang in texts))
    if isinstance(when, str):
        summary += "\n" + ctx.t("bc.scheduled_for", when=local_time(ctx, datetime.fromisoformat(when)))
        send = Button(ctx.t("bc.confirm_schedule"), f"{PREFIX}:send")
    else:
        send = Button(ctx.t("bc.send_now"), f"{PREFIX}:send")
    template = ctx.state.data.get("template")
    if isinstance(template, dict):
        summary += "\n" + ctx.t("bc.template_set", name=template["name"],
                                params=" | ".join(template["params"]) or "—")
    buttons = [(send,), (Button(ctx.t("bc.schedule"), f"{PREFIX}:schedule"),
                         Button(ctx.t("bc.change_audience"), f"{PREFIX}:audience"))]
    if ctx.settings.whatsapp_token is not None:
        buttons.append((Button(ctx.t("bc.template"), f"{PREFIX}:template"),))
    buttons.append((Button(ctx.t("bc.discard"), f"{PREFIX}:discard"),))
    ctx.reply(summary, buttons)


def local_time(ctx: Context, when: datetime) -> str:
    zone = time_zone(ctx.user)
    return f"{format_datetime(when.astimezone(zone), 'medium', locale=ctx.lang)} ({zone.key})"


async def confirm(ctx: Context) -> None:
    """The row is committed with this handler; the outbox starts it when due and reports to its author."""
    texts: dict[str, str] = ctx.state.data.get("texts") or {}
    audience = broadcasts.clean_audience(ctx.state.data.get("audience"))
    if not texts or await broadcasts.count_recipients(ctx.session, audience) == 0:
        await show_preview(ctx)
        return
    now = ctx.clock.now()
    when_text = ctx.state.data.get("when")
    when = datetime.fromisoformat(when_text) if isinstance(when_text, str) else now
    template = ctx.state.data.get("template")
    row = Broadcast(author_id=ctx.user.id, texts=texts, attachment=ctx.state.data.get("attachment"),
                    audience=audience, status="scheduled", scheduled_at=max(when, now), created_at=now,
                    template=template if isinstance(template, dict) else None)
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.audit("broadcast.create", f"broadcast:{row.id}", audience=audience, languages=sorted(texts),
              scheduled=when > now)
    ctx.end_flow()
    ctx.queued_deliveries = True  # wakes the outbox once committed
    if when > now:
        ctx.reply(ctx.t("bc.scheduled", number=row.id, when=local_time(ctx, when)))
    else:
        ctx.reply(ctx.t("bc.started", number=row.id))


async def show_step(ctx: Context) -> None:
    if ctx.state.step == "preview":
        await show_preview(ctx)
    else:
        await show_audience(ctx)


# -- buttons --------------------------------------------------------------------------------------------


@router.button(PREFIX, coordinator=True)
async def on_button(ctx: Context) -> None:
    action, _, argument = (ctx.incoming.payload or "").partition(":")[2].partition(":")
    if action in MANAGE:
        await MANAGE[action](ctx, argument)
        return
    if ctx.state.flow != FLOW or action not in WRITING:
        ctx.reply(ctx.t("core.button_expired"))
        return
    await WRITING[action](ctx, argument)


async def pressed_translate(ctx: Context, _argument: str) -> None:
    if ctx.state.step != "language":
        await show_step(ctx)
        return
    ctx.state.step = "translation"
    ctx.reply(ctx.t("bc.ask_other_text", language=ctx.t(f"bc.language.{other_language(ctx)}")))


async def pressed_audience(ctx: Context, _argument: str) -> None:
    if ctx.state.step in ("text", "translation") and not ctx.state.data.get("texts"):
        ctx.reply(ctx.t("core.button_expired"))
        return
    ctx.state.data.pop("when", None)
    await show_audience(ctx)


async def pressed_dimension(ctx: Context, argument: str) -> None:
    if argument not in broadcasts.DIMENSIONS or ctx.state.step not in ("audience", "preview"):
        ctx.reply(ctx.t("core.button_expired"))
        return
    await show_dimension(ctx, argument)


async def pressed_value(ctx: Context, argument: str) -> None:
    dimension = toggle(ctx, argument) if ctx.state.step == "audience" else None
    if dimension is None:
        ctx.reply(ctx.t("core.button_expired"))
        return
    await show_dimension(ctx, dimension)


async def pressed_clear(ctx: Context, _argument: str) -> None:
    ctx.state.data["audience"] = {}
    await show_audience(ctx)


async def pressed_preview(ctx: Context, _argument: str) -> None:
    if ctx.state.step not in ("audience", "preview"):
        ctx.reply(ctx.t("core.button_expired"))
        return
    await show_preview(ctx)


async def pressed_schedule(ctx: Context, _argument: str) -> None:
    if ctx.state.step != "preview":
        ctx.reply(ctx.t("core.button_expired"))
        return
    ctx.state.step = "schedule"
    zone = time_zone(ctx.user)
    example = (ctx.clock.now() + timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%d 09:00")
    ctx.reply(ctx.t("bc.ask_when", example=example, zone=zone.key))


async def pressed_template(ctx: Context, _argument: str) -> None:
    if ctx.state.step != "preview":
        ctx.reply(ctx.t("core.button_expired"))
        return
    ctx.state.step = "template"
    ctx.reply(ctx.t("bc.ask_template"))


async def pressed_send(ctx: Context, _argument: str) -> None:
    if ctx.state.step != "preview":
        ctx.reply(ctx.t("core.button_expired"))
        return
    await confirm(ctx)


async def pressed_discard(ctx: Context, _argument: str) -> None:
    ctx.end_flow()
    ctx.reply(ctx.t("bc.discarded"), ctx.menu())


Action = Callable[[Context, str], Awaitable[None]]
WRITING: dict[str, Action] = {
    "translate": pressed_translate,
    "audience": pressed_audience,
    "dim": pressed_dimension,
    "val": pressed_value,
    "clear": pressed_clear,
    "preview": pressed_preview,
    "schedule": pressed_schedule,
    "template": pressed_template,
    "send": pressed_send,
    "discard": pressed_discard,
}


# -- /broadcasts: recent ones, pause, resume, cancel ----------------------------------------------------


@router.command("broadcasts", describe="cmd.broadcasts", coordinator=True)
async def list_broadcasts(ctx: Context) -> None:
    recent = list(await ctx.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(LIST_LIMIT)))
    if not recent:
        ctx.reply(ctx.t("bc.none_yet"))
        return
    counted = await broadcasts.figures(ctx.session, [b.id for b in recent])
    lines = [ctx.t("bc.list_title")]
    buttons: list[tuple[Button, ...]] = []
    for row in recent:
        lines.append(describe(ctx, row, counted[row.id]))
        buttons.extend(manage_buttons(ctx, row))
        if counted[row.id].unconfirmed and row.status in ("done", "cancelled"):
            buttons.append((Button(ctx.t("bc.resend", number=row.id, count=counted[row.id].unconfirmed),
                                   f"{PREFIX}:resend:{row.id}"),))
    ctx.reply("\n\n".join(lines), buttons)


def describe(ctx: Context, row: Broadcast, figures: broadcasts.Figures) -> str:
    text = next(iter((row.texts or {}).values()), "") or "📎"
    first_line = text.splitlines()[0][:60] if text.strip() else "📎"
    head = ctx.t("bc.list_line", number=row.id, state=ctx.t(f"broadcast.state.{row.status}"),
                 when=local_time(ctx, row.started_at or row.scheduled_at), text=first_line)
    if row.status == "scheduled":
        return head
    return f"{head}\n{broadcasts.progress_text(row, figures, ctx.lang, ctx.clock.now()).split(chr(10), 1)[1]}"


def manage_buttons(ctx: Context, row: Broadcast) -> list[tuple[Button, ...]]:
    if row.status == "running":
        return [(Button(ctx.t("bc.pause", number=row.id), f"{PREFIX}:pause:{row.id}"),
                 Button(ctx.t("bc.cancel", number=row.id), f"{PREFIX}:cancel:{row.id}"))]
    if row.status == "paused":
        return [(Button(ctx.t("bc.resume", number=row.id), f"{PREFIX}:resume:{row.id}"),
                 Button(ctx.t("bc.cancel", number=row.id), f"{PREFIX}:cancel:{row.id}"))]
    if row.status == "scheduled":
        return [(Button(ctx.t("bc.cancel", number=row.id), f"{PREFIX}:cancel:{row.id}"),)]
    return []


async def broadcast_of(ctx: Context, argument: str) -> Broadcast | None:
    if not argument.isdigit() or len(argument) > 9:
        ctx.reply(ctx.t("core.button_expired"))
        return None
    row = await ctx.session.get(Broadcast, int(argument), with_for_update=True)
    if row is None:
        ctx.reply(ctx.t("core.button_expired"))
    return row


async def pressed_pause(ctx: Context, argument: str) -> None:
    await pause_or_resume(ctx, argument, paused=True)


async def pressed_resume(ctx: Context, argument: str) -> None:
    await pause_or_resume(ctx, argument, paused=False)


async def pause_or_resume(ctx: Context, argument: str, *, paused: bool) -> None:
    row = await broadcast_of(ctx, argument)
    if row is None:
        return
    if not await broadcasts.set_paused(ctx.session, row, paused):
        ctx.reply(ctx.t("bc.not_now", number=row.id, state=ctx.t(f"broadcast.state.{row.status}")))
        return
    ctx.audit("broadcast.pause" if paused else "broadcast.resume", f"broadcast:{row.id}")
    ctx.queued_deliveries = True
    ctx.reply(ctx.t("bc.paused" if paused else "bc.resumed", number=row.id))


async def pressed_cancel(ctx: Context, argument: str) -> None:
    row = await broadcast_of(ctx, argument)
    if row is None:
        return
    if row.status not in ("scheduled", "running", "paused"):
        ctx.reply(ctx.t("bc.not_now", number=row.id, state=ctx.t(f"broadcast.state.{row.status}")))
        return
    ctx.reply(ctx.t("bc.cancel_sure", number=row.id),
              [Button(ctx.t("bc.cancel_yes"), f"{PREFIX}:cancel_yes:{row.id}"),
               Button(ctx.t("bc.cancel_no"), f"{PREFIX}:cancel_no:{row.id}")])


async def pressed_cancel_yes(ctx: Context, argument: str) -> None:
    row = await broadcast_of(ctx, argument)
    if row is None:
        return
    if not await broadcasts.cancel(ctx.session, row, ctx.clock.now()):
        ctx.reply(ctx.t("bc.not_now", number=row.id, state=ctx.t(f"broadcast.state.{row.status}")))
        return
    ctx.audit("broadcast.cancel", f"broadcast:{row.id}")
    ctx.queued_deliveries = True
    ctx.reply(ctx.t("bc.cancelled", number=row.id))


async def pressed_resend(ctx: Context, argument: str) -> None:
    row = await broadcast_of(ctx, argument)
    if row is None:
        return
    count = await broadcasts.resend_unconfirmed(ctx.session, row)
    if not count:
        ctx.reply(ctx.t("bc.nothing_to_resend", number=row.id))
        return
    ctx.audit("broadcast.resend", f"broadcast:{row.id}", rows=count)
    ctx.queued_deliveries = True
    ctx.reply(ctx.t("bc.resent", number=row.id, count=count))


async def pressed_cancel_no(ctx: Context, _argument: str) -> None:
    ctx.reply(ctx.t("bc.kept"))


MANAGE: dict[str, Action] = {
    "pause": pressed_pause,
    "resume": pressed_resume,
    "cancel": pressed_cancel,
    "cancel_yes": pressed_cancel_yes,
    "cancel_no": pressed_cancel_no,
    "resend": pressed_resend,
}
