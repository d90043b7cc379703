"""/stats: the competition at a glance, as counts and one PNG chart (matplotlib, headless Agg backend).

Sections are registered, so a feature adds its own without touching /stats (mentoring: sessions and their
feedback; the network: offers and needs):

    from bot.services.stats import Section, StatsContext, section

    @section(order=60)
    async def offers(ctx: StatsContext) -> Section | None:
        rows = ...  # a query on ctx.session
        return Section(ctx.t("network.stats_title"), [(label, count), ...])

A section returns labelled counts (None or no counts: left out); each becomes a text block and one panel of
the chart, in ``order``.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # no display: the chart is a file sent in the chat

from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.db.models import Submission, User  # noqa: E402
from bot.i18n import translate  # noqa: E402
from bot.services.submissions import IdeaForm, status_label  # noqa: E402

WEEKS = 12


@dataclass(frozen=True)
class Section:
    title: str
    counts: list[tuple[str, int]]
    kind: str = "bar"  # "bar" (horizontal bars) or "timeline" (columns in order, e.g. weeks)


@dataclass(frozen=True)
class StatsContext:
    session: AsyncSession
    form: IdeaForm
    lang: str
    now: datetime

    def t(self, key: str, /, **values: object) -> str:
        return translate(key, self.lang, **values)


SectionFunction = Callable[[StatsContext], Awaitable[Section | None]]
SECTIONS: list[tuple[int, SectionFunction]] = []


def section(order: int) -> Callable[[SectionFunction], SectionFunction]:
    def register(function: SectionFunction) -> SectionFunction:
        if all(existing is not function for _, existing in SECTIONS):
            SECTIONS.append((order, function))
            SECTIONS.sort(key=lambda pair: pair[0])
        return function

    return register


async def collect(ctx: StatsContext) -> list[Section]:
    found: list[Section] = []
    for _, function in SECTIONS:
        result = await function(ctx)
        if result is not None and result.counts:
            found.append(result)
    return found


def as_text(sections: list[Section]) -> str:
    blocks = []
    for item in sections:
        lines = [f"📊 {item.title}"] + [f"• {label}: {count}" for label, count in item.counts]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def chart(sections: list[Section], title: str) -> bytes:
    """One PNG: a panel per section, two columns. CPU-bound: call it in a thread."""
    columns = 2 if len(sections) > 1 else 1
    lines = math.ceil(len(sections) / columns)
    figure = Figure(figsize=(6 * columns, 3.2 * lines), dpi=110, layout="constrained")
    figure.suptitle(title, fontsize=14, fontweight="bold")
    for index, item in enumerate(sections):
        axes = figure.add_subplot(lines, columns, index + 1)
        labels = [plain(label) for label, _ in item.counts]
        values = [count for _, count in item.counts]
        if item.kind == "timeline":
            axes.bar(range(len(values)), values, color="#2a9d8f")
            axes.set_xticks(range(len(values)), labels, rotation=45, ha="right", fontsize=7)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            positions = list(range(len(values)))[::-1]
            axes.barh(positions, values, height=0.6, color="#e76f51")
            axes.set_yticks(positions, labels, fontsize=8)
            axes.set_ylim(-0.7, max(len(values), 4) - 0.3)  # a lone bar stays a bar, not a block
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            for position, value in zip(positions, values, strict=True):
                axes.text(value, position, f" {value}", va="center", fontsize=7)
        axes.set_title(item.title, fontsize=10)
        axes.spines[["top", "right"]].set_visible(False)
        axes.margins(x=0.15)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plain(label: str, limit: int = 28) -> str:
    """A label the chart's font can draw: without emoji and other symbols, cut to ``limit``."""
    text = " ".join("".join(ch for ch in label if unicodedata.category(ch) not in ("So", "Cn", "Mn")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the competition's own sections ---------------------------------------------------------------------


def choice_label(form: IdeaForm, field: str, value: str | None, lang: str, none: str) -> str:
    if not value:
        return none
    item = form.field(field)
    choice = item.choice(value) if item else None
    return choice.label_in(lang) if choice else value


@section(order=10)
async def by_status(ctx: StatsContext) -> Section | None:
    rows = await ctx.session.execute(select(Submission.status, func.count()).group_by(Submission.status))
    counts = {status: count for status, count in rows.all()}
    order = ["draft", "submitted", "in_review", "finalist", "accepted", "declined"]
    return Section(ctx.t("stats.by_status"),
                   [(status_label(status, ctx.lang), counts[status]) for status in order if counts.get(status)])


@section(order=20)
async def by_region(ctx: StatsContext) -> Section | None:
    rows = await ctx.session.execute(select(Submission.region, func.count()).where(Submission.status != "draft")
                                     .group_by(Submission.region).order_by(func.count().desc()))
    none = ctx.t("stats.unknown")
    counts = [(choice_label(ctx.form, "region", region, ctx.lang, none), count) for region, count in rows.all()]
    return Section(ctx.t("stats.by_region"), counts)


@section(order=30)
async def by_sdg(ctx: StatsContext) -> Section | None:
    counter: Counter[str] = Counter()
    for answers in await ctx.session.scalars(select(Submission.answers).where(Submission.status != "draft")):
        for value in (answers or {}).get("sdgs") or []:
            counter[str(value)] += 1
    ordered = sorted(counter.items(), key=lambda pair: (-pair[1], int(pair[0]) if pair[0].isdigit() else 99))
    return Section(ctx.t("stats.by_sdg"), [(ctx.t("stats.sdg", number=sdg), count) for sdg, count in ordered])


@section(order=40)
async def by_language(ctx: StatsContext) -> Section | None:
    rows = await ctx.session.execute(select(User.language, func.count()).where(User.consent_at.is_not(None))
                                     .group_by(User.language).order_by(func.count().desc()))
    return Section(ctx.t("stats.by_language"), [(ctx.t(f"bc.language.{language}"), count)
                                                 for language, count in rows.all()])


@section(order=50)
async def by_source(ctx: StatsContext) -> Section | None:
    rows = await ctx.session.execute(select(User.source, func.count()).where(User.consent_at.is_not(None))
                                     .group_by(User.source).order_by(func.count().desc()).limit(10))
    none = ctx.t("stats.direct")
    return Section(ctx.t("stats.by_source"), [(source or none, count) for source, count in rows.all()])


@section(order=60)
async def by_week(ctx: StatsContext) -> Section | None:
    """Ideas submitted per week over the last ``WEEKS`` weeks (weeks with none show as zero)."""
    start = (ctx.now - timedelta(weeks=WEEKS - 1)).date()
    start -= timedelta(days=start.weekday())
    counter: Counter[str] = Counter()
    for when in await ctx.session.scalars(select(Submission.submitted_at).where(Submission.submitted_at.is_not(None))):
        if when is not None and when.date() >= start:
            monday = when.date() - timedelta(days=when.weekday())
            counter[monday.isoformat()] += 1
    if not counter:
        return None
    weeks = [(start + timedelta(weeks=n)).isoformat() for n in range(WEEKS)]
    return Section(ctx.t("stats.by_week"), [(week[5:], counter.get(week, 0)) for week in weeks], kind="timeline")
