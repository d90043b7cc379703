"""Submissions for coordinators: /submissions (filtered, a page at a time), /submission CODE (everything about
one, its files sent again), /review CODE (a score per criterion of the form file's ``review_criteria``, a
comment; several reviewers, the average and the spread). /status CODE STATUS is in handlers/idea.py.

    /submissions [status=S] [region=R] [sdg=N]   ← bare words work too: "/submissions finalist jalisco 8"
        → a page of 10 (reference, title, status, region, average score) with ◀️ ▶️ buttons that keep the filters
    /submission LID-2026-0007
        → every answer, the author and their contact, dates, the reviews so far; then each attached file
    /review LID-2026-0007                                            (flow "review")
        SCORE     one criterion at a time: buttons 1..5 (or the digit typed); ⬅️ the previous one
        COMMENT   any text, or ⏭️ no comment
        → saved (a reviewer's second review replaces the first); the averages and spread of every reviewer
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from sqlalchemy import String, cast, func, select

from bot.db.models import Review, Submission, User
from bot.engine import Context
from bot.messages import Attachment, Button, Reply, rows
from bot.router import COORDINATOR, Router
from bot.services import submissions
from bot.services.display import shown
from bot.services.submissions import REVIEW_STATUSES, IdeaForm, LoadedForm

router = Router("admin.review")

PAGE = 10
FLOW = "review"
MAX_COMMENT = 2000
SCORES = range(1, 6)


def form_of(ctx: Context) -> IdeaForm:
    return ctx.content(LoadedForm).form


# -- /submissions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    status: str = ""
    region: str = ""
    sdg: str = ""

    def payload(self, page: int) -> str:
        return f"sub:page:{page}:{self.status}:{self.region}:{self.sdg}"

    def describe(self, ctx: Context) -> str:
        parts = []
        if self.status:
            parts.append(submissions.status_label(self.status, ctx.lang))
        if self.region:
            parts.append(choice_label(form_of(ctx), "region", self.region, ctx.lang))
        if self.sdg:
            parts.append(ctx.t("review.sdg", number=self.sdg))
        return " · ".join(parts) or ctx.t("review.all")


def choice_label(form: IdeaForm, field: str, value: str, lang: str) -> str:
    item = form.field(field)
    choice = item.choice(value) if item else None
    return choice.label_in(lang) if choice else value


def parse_filters(text: str, form: IdeaForm) -> Filters | str:
    """``status=finalist region=jalisco sdg=8``, or the bare words; the word not understood otherwise."""
    region_field, sdg_field = form.field("region"), form.field("sdgs")
    found: dict[str, str] = {}
    for word in text.split():
        key, _, value = word.partition("=") if "=" in word else ("", "", word)
        status = submissions.parse_status(value)
        if key in ("", "status") and status is not None:
            found["status"] = status
        elif key in ("", "region") and region_field and region_field.choice(value.lower()):
            found["region"] = value.lower()
        elif key in ("", "sdg", "ods") and sdg_field and sdg_field.choice(value):
            found["sdg"] = value
        else:
            return word
    return Filters(**found)


def filtered(filters: Filters) -> Any:
    query = select(Submission).where(Submission.status != "draft")
    if filters.status:
        query = query.where(Submission.status == filters.status)
    if filters.region:
        query = query.where(Submission.region == filters.region)
    if filters.sdg:
        query = query.where(cast(Submission.answers["sdgs"], String).like(f'%"{filters.sdg}"%'))
    return query


@router.command("submissions", describe="cmd.submissions", coordinator=True)
async def list_submissions(ctx: Context) -> None:
    parsed = parse_filters(ctx.incoming.command_args, form_of(ctx))
    if isinstance(parsed, str):
        ctx.reply(ctx.t("review.bad_filter", word=submissions.clip(parsed, 30),
                        statuses=", ".join(REVIEW_STATUSES)))
        return
    await show_page(ctx, parsed, 0)


@router.button("sub", coordinator=True)
async def page_pressed(ctx: Context) -> None:
    parts = (ctx.incoming.payload or "").split(":")
    form = form_of(ctx)
    if len(parts) != 6 or parts[1] != "page" or not parts[2].isdigit():
        ctx.reply(ctx.t("core.button_expired"))
        return
    filters = parse_filters(" ".join(f"{k}={v}" for k, v in zip(("status", "region", "sdg"), parts[3:], strict=True)
                                     if v), form)
    if isinstance(filters, str):
        ctx.reply(ctx.t("core.button_expired"))
        return
    await show_page(ctx, filters, int(parts[2]), edit=True)


async def show_page(ctx: Context, filters: Filters, page: int, *, edit: bool = False) -> None:
    query = filtered(filters)
    total = int(await ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if total == 0:
        ctx.reply(ctx.t("review.none", filters=filters.describe(ctx)), edit=edit)
        return
    pages = (total + PAGE - 1) // PAGE
    page = min(page, pages - 1)
    found = list(await ctx.session.scalars(
        query.order_by(Submission.submitted_at.desc(), Submission.id.desc()).offset(page * PAGE).limit(PAGE)))
    averages = await average_scores(ctx, [s.id for s in found])
    lines = [ctx.t("review.page_title", filters=filters.describe(ctx), total=total, page=page + 1, pages=pages)]
    for item in found:
        average = averages.get(item.id)
        title = submissions.clip(item.title or "—", 50)
        lines.append(ctx.t("review.line", reference=item.reference or "—", title=title,
                           status=submissions.status_label(item.status, ctx.lang),
                           region=choice_label(form_of(ctx), "region", item.region or "", ctx.lang) or "—",
                           score=f"{average:.1f}" if average is not None else "—"))
    lines.append(ctx.t("review.page_howto"))
    buttons = []
    if page > 0:
        buttons.append(Button("◀️", filters.payload(page - 1)))
    if page + 1 < pages:
        buttons.append(Button("▶️", filters.payload(page + 1)))
    ctx.reply(shown("\n".join(lines)), [tuple(buttons)] if buttons else (), edit=edit, link_preview=False)


async def average_scores(ctx: Context, submission_ids: Sequence[int]) -> dict[int, float]:
    reviews = await ctx.session.scalars(select(Review).where(Review.submission_id.in_(list(submission_ids))))
    by_submission: dict[int, list[float]] = {}
    for review in reviews:
        mean = review_mean(review)
        if mean is not None:
            by_submission.setdefault(review.submission_id, []).append(mean)
    return {key: statistics.fmean(values) for key, values in by_submission.items()}


def review_mean(review: Review) -> float | None:
    scores = [float(v) for v in (review.scores or {}).values() if isinstance(v, int | float)]
    return statistics.fmean(scores) if scores else None


# -- /submission CODE -----------------------------------------------------------------------------------


async def by_code(ctx: Context, usage_key: str) -> Submission | None:
    code = ctx.incoming.command_args.split(" ")[0]
    if not code:
        ctx.reply(ctx.t(usage_key))
        return None
    found = await submissions.find_by_reference(ctx.session, code)
    if found is None:
        ctx.reply(ctx.t("review.unknown_code", code=submissions.clip(code, 30)))
    return found


@router.command("submission", describe="cmd.submission", coordinator=True)
async def show_submission(ctx: Context) -> None:
    found = await by_code(ctx, "review.show_usage")
    if found is None:
        return
    form = form_of(ctx)
    author = await ctx.session.get(User, found.user_id)
    when = found.submitted_at or found.created_at
    head = ctx.t("review.head", reference=found.reference, status=submissions.status_label(found.status, ctx.lang),
                 author=(author.display_name if author else None) or "?",
                 member=f"{author.channel}:{author.external_id}" if author else "?",
                 date=format_date(when.date(), "medium", locale=ctx.lang))
    body = submissions.summary_text(form, found.answers or {}, ctx.lang, limit=3500)
    ctx.reply(shown(f"{head}\n\n{body}\n\n{await reviews_text(ctx, found, form)}"),
              [Button(ctx.t("review.review_button"), f"rv:start:{found.id}")], link_preview=False)
    for item in form.fields:
        value = (found.answers or {}).get(item.name)
        if item.type == "file" and isinstance(value, dict) and value.get("file_ref"):
            attachment = Attachment(kind=str(value.get("kind") or "document"), file_ref=str(value["file_ref"]),
                                    filename=value.get("name"), mime_type=value.get("mime"), size=value.get("size"))
            caption = f"{found.reference} · {item.label_in(ctx.lang)}"
            if attachment.kind == "photo":
                ctx.replies.append(Reply(text=caption, picture=attachment))
            else:
                ctx.replies.append(Reply(text=caption, document=attachment))


async def reviews_text(ctx: Context, submission: Submission, form: IdeaForm) -> str:
    """The average and spread of the reviewers' means, and each criterion's average."""
    reviews = list(await ctx.session.scalars(select(Review).where(Review.submission_id == submission.id)
                                             .order_by(Review.created_at)))
    means = [mean for review in reviews if (mean := review_mean(review)) is not None]
    if not means:
        return ctx.t("review.no_reviews")
    spread = statistics.pstdev(means) if len(means) > 1 else 0.0
    lines = [ctx.t("review.summary", average=f"{statistics.fmean(means):.1f}", spread=f"{spread:.1f}",
                   reviewers=len(means))]
    for criterion in form.review_criteria:
        given = [float(r.scores[criterion.name]) for r in reviews if isinstance(r.scores.get(criterion.name), int)]
        if given:
            lines.append(f"• {criterion.label_in(ctx.lang)}: {statistics.fmean(given):.1f}")
    comments = [r.comment for r in reviews if r.comment]
    lines += [f"💬 {submissions.clip(comment, 300)}" for comment in comments[-5:]]
    return "\n".join(lines)


# -- /review CODE ---------------------------------------------------------------------------------------


@router.command("review", describe="cmd.review", coordinator=True)
async def review_command(ctx: Context) -> None:
    found = await by_code(ctx, "review.review_usage")
    if found is not None:
        await begin(ctx, found)


@router.button("rv", coordinator=True)
async def review_button(ctx: Context) -> None:
    _, action, argument = ((ctx.incoming.payload or "").split(":") + ["", ""])[:3]
    if action == "start" and argument.isdigit():
        found = await ctx.session.get(Submission, int(argument))
        if found is None or found.status == "draft":
            ctx.reply(ctx.t("core.button_expired"))
            return
        await begin(ctx, found)
    elif ctx.state.flow != FLOW:
        ctx.reply(ctx.t("core.button_expired"))
    elif action == "score" and argument.isdigit():
        await take_score(ctx, int(argument))
    elif action == "back":
        ctx.state.data["index"] = max(0, int(ctx.state.data.get("index", 0)) - 1)
        ask_score(ctx)
    elif action == "nocomment" and ctx.state.step == "comment":
        await save(ctx, None)
    else:
        ctx.reply(ctx.t("core.button_expired"))


async def begin(ctx: Context, found: Submission) -> None:
    form = form_of(ctx)
    if found.status == "draft":
        ctx.reply(ctx.t("review.unknown_code", code=found.reference or "?"))
        return
    if not form.review_criteria:
        ctx.reply(ctx.t("review.no_criteria"))
        return
    ctx.start_flow(FLOW, "score", {"submission": found.id, "reference": found.reference, "scores": {}, "index": 0})
    ctx.reply(shown(ctx.t("review.intro", reference=found.reference, title=found.title or "—",
                          count=len(form.review_criteria))), link_preview=False)
    ask_score(ctx)


def ask_score(ctx: Context) -> None:
    criteria = form_of(ctx).review_criteria
    index = int(ctx.state.data.get("index", 0))
    if index >= len(criteria):
        ctx.state.step = "comment"
        ctx.reply(ctx.t("review.ask_comment"), [Button(ctx.t("review.no_comment"), "rv:nocomment")])
        return
    ctx.state.step = "score"
    criterion = criteria[index]
    buttons: list[tuple[Button, ...]] = [tuple(Button(str(n), f"rv:score:{n}") for n in SCORES)]
    if index:
        buttons.append((Button(ctx.t("review.previous"), "rv:back"),))
    ctx.reply(ctx.t("review.ask_score", number=index + 1, count=len(criteria),
                    criterion=criterion.label_in(ctx.lang)), buttons)


async def take_score(ctx: Context, score: int) -> None:
    criteria = form_of(ctx).review_criteria
    index = int(ctx.state.data.get("index", 0))
    if ctx.state.step != "score" or score not in SCORES or index >= len(criteria):
        ctx.reply(ctx.t("review.score_range"))
        ask_score(ctx)
        return
    ctx.state.data["scores"][criteria[index].name] = score
    ctx.state.data["index"] = index + 1
    ask_score(ctx)


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    if not await ctx.engine.guards[COORDINATOR](ctx):
        ctx.end_flow()
        return
    if ctx.state.step == "score":
        text = ctx.text
        if ctx.incoming.attachment is not None or not text.isdigit():
            ctx.reply(ctx.t("review.score_range"))
            ask_score(ctx)
            return
        await take_score(ctx, int(text))
        return
    if ctx.incoming.attachment is not None or not ctx.text:
        ctx.reply(ctx.t("review.comment_text"))
        return
    if len(ctx.text) > MAX_COMMENT:
        ctx.reply(ctx.t("review.comment_too_long", length=len(ctx.text), limit=MAX_COMMENT))
        return
    await save(ctx, ctx.text)


async def save(ctx: Context, comment: str | None) -> None:
    """One review per reviewer and submission: a second one replaces the first."""
    form = form_of(ctx)
    submission = await ctx.session.get(Submission, int(ctx.state.data.get("submission", 0)))
    scores = {k: v for k, v in dict(ctx.state.data.get("scores") or {}).items() if isinstance(v, int)}
    ctx.end_flow()
    if submission is None or len(scores) != len(form.review_criteria):
        ctx.reply(ctx.t("core.button_expired"))
        return
    now = ctx.clock.now()
    review = await ctx.session.scalar(select(Review).where(Review.submission_id == submission.id,
                                                           Review.reviewer_id == ctx.user.id))
    if review is None:
        review = Review(submission_id=submission.id, reviewer_id=ctx.user.id, created_at=now)
        ctx.session.add(review)
    review.scores, review.comment, review.updated_at = scores, comment, now
    await ctx.session.flush()
    ctx.audit("submission.review", submission.reference, scores=scores)
    ctx.reply(ctx.t("review.saved", reference=submission.reference) + "\n\n" + await reviews_text(ctx, submission,
                                                                                                   form),
              [*rows(Button(ctx.t("review.status_hint"), f"sub:page:0:{submission.status}::"))])
