"""/export: a table as a CSV or XLSX document sent in the chat (the command line: ``lideres export``).

    /export                    → a button per table and format
    /export submissions xlsx   → the file at once; the tables are ``bot.services.exports.EXPORTS``
"""

from __future__ import annotations

from bot.engine import Context
from bot.i18n import catalog
from bot.messages import Attachment, Button
from bot.router import Router
from bot.services import exports
from bot.services.submissions import LoadedForm

router = Router("admin.export")


@router.command("export", describe="cmd.export", coordinator=True)
async def export_command(ctx: Context) -> None:
    words = ctx.incoming.command_args.lower().split()
    if not words:
        buttons = [(Button(f"📄 {label(ctx, name)} · CSV", f"ex:{name}:csv"),
                    Button(f"📊 {label(ctx, name)} · XLSX", f"ex:{name}:xlsx")) for name in exports.EXPORTS]
        ctx.reply(ctx.t("export.choose"), buttons)
        return
    what, fmt = words[0], (words[1] if len(words) > 1 else "xlsx")
    await send_export(ctx, what, fmt)


@router.button("ex", coordinator=True)
async def export_pressed(ctx: Context) -> None:
    parts = (ctx.incoming.payload or "").split(":")
    if len(parts) != 3:
        ctx.reply(ctx.t("core.button_expired"))
        return
    await send_export(ctx, parts[1], parts[2])


def label(ctx: Context, name: str) -> str:
    """A table's name in the coordinator's language (``export.table.NAME``); a table without one, its name."""
    key = f"export.table.{name}"
    return ctx.t(key) if key in catalog(ctx.lang) else name


async def send_export(ctx: Context, what: str, fmt: str) -> None:
    if what not in exports.EXPORTS or fmt not in exports.FORMATS:
        ctx.reply(ctx.t("export.usage", tables=", ".join(exports.EXPORTS), formats=", ".join(exports.FORMATS)))
        return
    table = await exports.build(ctx.session, what, ctx.content(LoadedForm).form, ctx.lang)
    data = exports.render(table, fmt)
    name = exports.filename(table, fmt, ctx.clock.now())
    ctx.audit("export", what, format=fmt, rows=len(table.rows))
    ctx.reply(ctx.t("export.ready", table=label(ctx, what), rows=len(table.rows)),
              document=Attachment("document", filename=name, mime_type=exports.MIME[fmt], size=len(data), data=data))
