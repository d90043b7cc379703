"""Submitting an idea to the network's competition: /idea, /mysubmissions, and the coordinators' /status.

The questions are data (the form file, ``settings.form_file``, loaded as ``LoadedForm``); this
module only knows the kinds of question. The conversation, one state a line (``ctx.state.step`` while the
flow is "idea"); every answer is written to the draft in the same transaction as the new state:

    /idea or 💡 ─┬─ call closed            → says when the next call opens; no flow
                 ├─ drafts to pick up       → "continue «title»" buttons / "start a new idea" (if under the limit)
                 └─ start a new idea        → the form's intro, then its first field
    <field>      one state per field of the form, in the file's order (those whose `when` holds):
                 an answer that passes its check → saved → the next field (or back to SUMMARY when editing);
                 one that fails → the reason, the same question again (the input is noted in the draft);
                 ⬅️ back → the previous field · ⏭️ skip (optional fields) · ✔️ keep (already answered);
                 a multichoice field toggles its buttons (suggestions pre-marked) until ✔️ done saves them
    SUMMARY      every answer; ✏️ <field> → that field → SUMMARY; ✅ submit → reference code, confirmation,
                 coordinators notified, flow ends; 💾 later → flow ends, the draft stays
    /cancel      (handlers/start.py) ends the flow anywhere; the draft stays

    /mysubmissions   each of the user's submissions with its status; drafts can be continued
    /status REF S    coordinators: set a submission's status; the entrepreneur is told in their language
"""

from __future__ import annotations

import logging
from typing import Any

from babel.dates import format_date

from bot.db.models import Submission
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Button, Reply, rows
from bot.router import Router
from bot.services import submissions, users
from bot.services.display import shown
from bot.services.submissions import Accepted, FormField, IdeaForm, Problem

router = Router("idea")
log = logging.getLogger("handlers.idea")

FLOW = "idea"
SUMMARY = "_summary"  # field names never start with "_", so a step is a field's name or this
MAX_DRAFT_BUTTONS = 5


LoadedForm = submissions.LoadedForm  # the form content, shared with the coordinators' commands
router.content_loader(submissions.load_form_content)


def form_of(ctx: Context) -> IdeaForm:
    return ctx.content(LoadedForm).form


# -- /idea: the way in --------------------------------------------------------------------------------


@router.menu_item("idea", label="menu.idea", order=10)
@router.command("idea", describe="cmd.idea", consent=True)
async def idea_command(ctx: Context) -> None:
    if ctx.state.flow == FLOW:  # "/idea" half-way through means "where was I?"
        await ask_current(ctx)
        return
    if not call_is_open(ctx):
        return
    drafts = await submissions.drafts_of(ctx.session, ctx.user.id)
    if drafts:
        await offer_drafts(ctx, drafts)
        return
    await start_new(ctx)


def call_is_open(ctx: Context) -> bool:
    """Answers for a closed call (with when the next one opens, in the user's language) and says False."""
    competition = form_of(ctx).competition
    today = ctx.clock.now().date()
    if competition.is_open(today):
        return True
    text = submissions.pick(competition.closed, ctx.lang)
    reopens = competition.next_opening_after(today)
    if reopens is not None:
        text += " " + ctx.t("idea.next_call", date=format_date(reopens, "long", locale=ctx.lang))
    else:
        text += " " + ctx.t("idea.next_call_unknown")
    ctx.end_flow()
    ctx.reply(text, ctx.menu())
    return False


async def offer_drafts(ctx: Context, drafts: list[Submission]) -> None:
    under_limit = await has_room(ctx)
    buttons = [Button(ctx.t("idea.continue_draft", title=draft_title(ctx, d)), f"idea:continue:{d.id}")
               for d in drafts[:MAX_DRAFT_BUTTONS]]
    if under_limit:
        buttons.append(Button(ctx.t("idea.start_new"), "idea:new"))
    text = ctx.t("idea.drafts_found", count=len(drafts))
    if not under_limit:
        text += "\n\n" + limit_text(ctx)
    ctx.reply(text, buttons)


async def has_room(ctx: Context) -> bool:
    """Under the form file's limit of open submissions (drafts included) for one person."""
    limit = form_of(ctx).competition.max_open_submissions
    return await submissions.open_count(ctx.session, ctx.user.id) < limit


def limit_text(ctx: Context) -> str:
    return ctx.t("idea.limit_reached", max=form_of(ctx).competition.max_open_submissions)


def draft_title(ctx: Context, submission: Submission) -> str:
    return submissions.clip(submission.title, 40) if submission.title else ctx.t("idea.untitled")


async def start_new(ctx: Context) -> None:
    if not await has_room(ctx):
        ctx.reply(limit_text(ctx), [Button(ctx.t("menu.mysubmissions"), "menu:mysubmissions")])
        return
    form = form_of(ctx)
    ctx.start_flow(FLOW, data={"sid": None, "editing": False})  # the draft row is made with the first input
    ctx.reply(submissions.pick(form.competition.intro, ctx.lang))
    await ask(ctx, form.fields[0], {})


async def continue_draft(ctx: Context, submission: Submission) -> None:
    """Back to a saved draft: its first unanswered question, or its summary when nothing is missing."""
    ctx.start_flow(FLOW, data={"sid": submission.id, "editing": False})
    ctx.reply(ctx.t("idea.welcome_back", title=draft_title(ctx, submission)))
    missing = form_of(ctx).missing(submission.answers or {})
    if missing:
        await ask(ctx, missing[0], submission.answers or {})
    else:
        show_summary(ctx, submission)


# -- <field>: asking one question ---------------------------------------------------------------------


async def ask(
    ctx: Context, item: FormField, answers: dict[str, Any], problem: Problem | None = None, *, edit: bool = False
) -> None:
    """Put the question of ``item``: the reason first when the last answer failed, its help, the answer it
    already has, and the buttons its type needs plus back / skip / keep. ``edit`` redraws the message whose
    button was pressed (toggling a multichoice), where the channel can, instead of adding one."""
    if ctx.state.flow != FLOW:  # the draft went away while handling this message (``current_draft``)
        return
    ctx.state.step = item.name
    form = form_of(ctx)
    shown = form.visible(answers)
    position = [f.name for f in shown].index(item.name) + 1 if item in shown else len(shown)
    lines = [problem_text(ctx, item, problem), ""] if problem else []
    lines.append(f"{position}/{len(shown)} · {submissions.pick(item.prompt, ctx.lang)}")
    if item.help:
        lines.append("💡 " + submissions.pick(item.help, ctx.lang))
    if item.type == "multichoice":
        buttons = multichoice_buttons(ctx, item, answers, lines)
    else:
        forget_picks(ctx)
        buttons = [[Button(c.label_in(ctx.lang), f"idea:pick:{item.name}:{c.value}")] for c in item.choices]
        if answers.get(item.name) is not None:
            current = submissions.display_value(item, answers[item.name], ctx.lang)
            lines.append(ctx.t("idea.current_answer", value=current))
    buttons.append(navigation_buttons(ctx, item, answers))
    ctx.reply("\n".join(lines), [row for row in buttons if row], edit=edit)


def multichoice_buttons(
    ctx: Context, item: FormField, answers: dict[str, Any], lines: list[str]
) -> list[list[Button]]:
    """Toggle buttons, ✅ on the marked ones, the choices suggested by the text already given first.

    The marks being made live in the conversation state (``picking``/``picked``, saved with every press, so
    a restart keeps them); the draft gets them as the answer on ✔️ done. They start from the saved answer,
    or from the suggestions the first time: a suggestion is marked for the user but is never taken as
    their answer until they confirm it."""
    suggested = submissions.suggest(item, answers, form_of(ctx))
    if ctx.state.data.get("picking") != item.name:
        saved = answers.get(item.name)
        ctx.state.data["picking"] = item.name
        ctx.state.data["picked"] = list(saved) if isinstance(saved, list) else list(suggested)
    if suggested:
        labels = ", ".join(c.label_in(ctx.lang) for v in suggested if (c := item.choice(v)))
        lines.append(ctx.t("idea.suggested", choices=labels))
    marked = list(ctx.state.data["picked"])
    ordered = [c for c in item.choices if c.value in suggested] + [c for c in item.choices if c.value not in suggested]
    toggles = [Button(("✅ " if c.value in marked else "") + c.label_in(ctx.lang), f"idea:toggle:{item.name}:{c.value}")
               for c in ordered]
    done = Button(ctx.t("idea.done", count=len(marked)), f"idea:done:{item.name}")
    return [list(row) for row in rows(*toggles, per_row=2)] + [[done]]


def forget_picks(ctx: Context) -> None:
    """Leaving a multichoice question without ✔️ done drops its unconfirmed marks."""
    ctx.state.data.pop("picking", None)
    ctx.state.data.pop("picked", None)


def navigation_buttons(ctx: Context, item: FormField, answers: dict[str, Any]) -> list[Button]:
    editing = ctx.state.data.get("editing")
    buttons = []
    if editing:
        buttons.append(Button(ctx.t("idea.back_to_summary"), f"idea:back:{item.name}"))
    elif form_of(ctx).before(item.name, answers) is not None:
        buttons.append(Button(ctx.t("idea.back"), f"idea:back:{item.name}"))
    if item.optional:
        buttons.append(Button(ctx.t("idea.skip"), f"idea:skip:{item.name}"))
    if item.type != "multichoice" and answers.get(item.name) is not None:
        buttons.append(Button(ctx.t("idea.keep"), f"idea:keep:{item.name}"))
    return buttons


def problem_text(ctx: Context, item: FormField, problem: Problem) -> str:
    """The exact reason, with the field's own limits and choices, in the user's language."""
    choices = ", ".join(c.label_in(ctx.lang) for c in item.choices)
    return "⚠️ " + ctx.t(problem.key, label=item.label_in(ctx.lang), choices=choices, **problem.values)


async def ask_current(ctx: Context, problem: Problem | None = None) -> None:
    """Repeat where the user is (after /idea mid-flow, a stale button, or a restart)."""
    submission = await current_draft(ctx)
    answers = submission.answers if submission else {}
    item = form_of(ctx).field(ctx.state.step)
    if ctx.state.step == SUMMARY and submission is not None:
        show_summary(ctx, submission)
        return
    if item is None or item not in form_of(ctx).visible(answers):  # the form file changed under the user
        await go_on(ctx, None, answers)
        return
    await ask(ctx, item, answers, problem)


# -- <field>: an answer arrives -------------------------------------------------------------------------


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    """Typed text or a file while in the flow: the answer to the current question."""
    if ctx.state.step == SUMMARY:
        submission = await current_draft(ctx)
        if submission is None:
            return
        ctx.reply(ctx.t("idea.use_buttons"))
        show_summary(ctx, submission)
        return
    item = form_of(ctx).field(ctx.state.step)
    if item is None:
        await ask_current(ctx)
        return
    await answer(ctx, item, submissions.check_answer(item, ctx.text, ctx.incoming.attachment))


async def answer(ctx: Context, item: FormField, result: Accepted | Problem, given: str | None = None) -> None:
    """Save what the user gave for ``item``: the value, or the rejected input (``given``, else what they
    typed or sent) with the reason, and ask again. Either way it is written before the reply, in the same
    transaction as the state."""
    submission = await draft_for_writing(ctx)
    if submission is None:
        return
    if isinstance(result, Problem):
        given = given if given is not None else ctx.text or describe_attachment(ctx)
        submissions.note_rejected(submission, item, given, result, ctx.clock.now())
        await ask(ctx, item, submission.answers, result)
        return
    submissions.set_answer(submission, item, result.value, ctx.clock.now())
    await go_on(ctx, item, submission.answers)


def describe_attachment(ctx: Context) -> str:
    attachment = ctx.incoming.attachment
    if attachment is None:
        return ""
    return f"[{attachment.kind}: {attachment.filename or attachment.file_ref}]"


async def go_on(ctx: Context, after: FormField | None, answers: dict[str, Any]) -> None:
    """The next question: in order when filling in; when editing, whatever the edit made necessary (e.g.
    "other region" asks which), else the summary."""
    form = form_of(ctx)
    if ctx.state.data.get("editing") or after is None:
        following = next(iter(form.missing(answers)), None)
    else:
        following = form.after(after.name, answers)
    if following is not None:
        await ask(ctx, following, answers)
        return
    submission = await current_draft(ctx)
    if submission is not None:
        show_summary(ctx, submission)


# -- buttons --------------------------------------------------------------------------------------------


@router.button("idea")
async def on_button(ctx: Context) -> None:
    """``idea:<action>[:<field>[:<value>]]``. Buttons of an earlier question are refused, never applied to
    the current one."""
    action, _, rest = (ctx.incoming.payload or "").partition(":")[2].partition(":")
    name, _, value = rest.partition(":")
    handler = BUTTON_ACTIONS.get(action)
    if handler is None:
        ctx.reply(ctx.t("core.button_expired"))
        return
    await handler(ctx, name, value)
    if not ctx.replies:  # it named no question or choice of the form (forged, or from an older form): no silence
        ctx.reply(ctx.t("core.button_expired"))


@router.button("idea:new", consent=True)
async def pressed_new(ctx: Context) -> None:
    if call_is_open(ctx):
        await start_new(ctx)


@router.button("idea:continue", consent=True)
async def pressed_continue(ctx: Context) -> None:
    """``idea:continue:<draft id>``"""
    if not call_is_open(ctx):
        return
    draft_id = (ctx.incoming.payload or "").rpartition(":")[2]
    submission = await submissions.own_draft(ctx.session, ctx.user.id, draft_id)
    if submission is None:
        ctx.reply(ctx.t("idea.draft_gone"), ctx.menu())
        return
    await continue_draft(ctx, submission)


async def pressed_back(ctx: Context, name: str, _value: str) -> None:
    if not await at_step(ctx, name):
        return
    submission = await current_draft(ctx)
    answers = submission.answers if submission else {}
    if ctx.state.data.get("editing") and submission is not None:
        show_summary(ctx, submission)
        return
    previous = form_of(ctx).before(name, answers)
    if previous is None:
        await ask_current(ctx)
        return
    await ask(ctx, previous, answers)


async def pressed_skip(ctx: Context, name: str, _value: str) -> None:
    item = form_of(ctx).field(name)
    if not await at_step(ctx, name) or item is None:
        return
    if not item.optional:
        await ask_current(ctx, Problem("idea.error.required"))
        return
    await answer(ctx, item, Accepted(None))


async def pressed_keep(ctx: Context, name: str, _value: str) -> None:
    item = form_of(ctx).field(name)
    if not await at_step(ctx, name) or item is None:
        return
    submission = await current_draft(ctx)
    answers = submission.answers if submission else {}
    if answers.get(name) is None:
        await ask_current(ctx)
        return
    await go_on(ctx, item, answers)


async def pressed_pick(ctx: Context, name: str, value: str) -> None:
    item = form_of(ctx).field(name)
    if not await at_step(ctx, name) or item is None:
        return
    choice = item.choice(value)
    result: Accepted | Problem = Accepted(value) if choice else Problem("idea.error.not_a_choice", {"value": value})
    await answer(ctx, item, result)


async def pressed_toggle(ctx: Context, name: str, value: str) -> None:
    """Mark or unmark one choice, in the conversation state (see ``multichoice_buttons``)."""
    item = form_of(ctx).field(name)
    if not await at_step(ctx, name) or item is None or item.choice(value) is None:
        return
    submission = await current_draft(ctx)
    answers = submission.answers if submission else {}
    marked = list(ctx.state.data.get("picked") or []) if ctx.state.data.get("picking") == name else []
    problem = None
    if value in marked:
        marked.remove(value)
    elif len(marked) >= item.choice_range[1]:
        problem = Problem("idea.error.too_many", {"max": item.choice_range[1]})
    else:
        marked.append(value)
    ctx.state.data.update(picking=name, picked=marked)
    await ask(ctx, item, answers, problem, edit=True)


async def pressed_done(ctx: Context, name: str, _value: str) -> None:
    item = form_of(ctx).field(name)
    if not await at_step(ctx, name) or item is None:
        return
    marked = list(ctx.state.data.get("picked") or []) if ctx.state.data.get("picking") == name else []
    await answer(ctx, item, submissions.check_selection(item, marked), given=", ".join(marked))


async def pressed_edit(ctx: Context, name: str, _value: str) -> None:
    item = form_of(ctx).field(name)
    if not await at_step(ctx, SUMMARY) or item is None:
        return
    submission = await current_draft(ctx)
    if submission is None:
        return
    ctx.state.data["editing"] = True
    await ask(ctx, item, submission.answers)


async def pressed_later(ctx: Context, _name: str, _value: str) -> None:
    if ctx.state.flow != FLOW:
        ctx.reply(ctx.t("core.button_expired"))
        return
    ctx.end_flow()
    ctx.reply(ctx.t("idea.saved_for_later"), ctx.menu())


async def at_step(ctx: Context, step: str) -> bool:
    """True when the button belongs to the question on screen; otherwise says so and repeats that question
    (or, outside the flow, how to come back)."""
    if ctx.state.flow == FLOW and ctx.state.step == step:
        return True
    ctx.reply(ctx.t("core.button_expired"))
    if ctx.state.flow == FLOW:
        await ask_current(ctx)
    return False


# -- the draft ------------------------------------------------------------------------------------------


async def current_draft(ctx: Context) -> Submission | None:
    """The draft this conversation fills, or None before the first input. A draft that is gone (submitted
    from elsewhere, deleted) ends the flow with a word, rather than writing into something else."""
    sid = ctx.state.data.get("sid")
    if sid is None:
        return None
    submission = await submissions.own_draft(ctx.session, ctx.user.id, sid)
    if submission is None:
        ctx.end_flow()
        ctx.reply(ctx.t("idea.draft_gone"), ctx.menu())
    return submission


async def draft_for_writing(ctx: Context) -> Submission | None:
    """The draft, made on the first input (so an /idea abandoned at once leaves no empty row)."""
    if ctx.state.data.get("sid") is None:
        submission = await submissions.create_draft(ctx.session, ctx.user.id, ctx.clock.now())
        ctx.state.data["sid"] = submission.id
        return submission
    return await current_draft(ctx)


# -- SUMMARY and submit ---------------------------------------------------------------------------------


def show_summary(ctx: Context, submission: Submission) -> None:
    """Every answer, an edit button per question, and submit once nothing required is missing."""
    form = form_of(ctx)
    answers = submission.answers or {}
    ctx.state.step = SUMMARY
    ctx.state.data["editing"] = False
    forget_picks(ctx)
    text = ctx.t("idea.summary_title") + "\n\n" + submissions.summary_text(form, answers, ctx.lang)
    missing = form.missing(answers)
    edit = [Button("✏️ " + item.label_in(ctx.lang), f"idea:edit:{item.name}") for item in form.visible(answers)]
    buttons = [list(row) for row in rows(*edit, per_row=2)]
    if missing:
        text += "\n\n" + ctx.t("idea.still_missing", fields=", ".join(item.label_in(ctx.lang) for item in missing))
    else:
        text += "\n\n" + ctx.t("idea.ready_to_submit")
        buttons.append([Button(ctx.t("idea.submit"), "idea:submit:")])
    buttons.append([Button(ctx.t("idea.later"), "idea:later:")])
    ctx.reply(text, buttons)


async def pressed_submit(ctx: Context, _name: str, _value: str) -> None:
    if not await at_step(ctx, SUMMARY):
        return
    submission = await current_draft(ctx)
    if submission is None or not call_is_open(ctx):
        return
    form = form_of(ctx)
    if form.missing(submission.answers or {}):
        show_summary(ctx, submission)
        return
    reference = await submissions.submit(ctx.session, submission, form, ctx.clock.now())
    ctx.end_flow()
    summary = submissions.summary_text(form, submission.answers, ctx.lang)
    ctx.reply(ctx.t("idea.submitted", reference=reference) + "\n\n" + summary + "\n\n"
              + submissions.pick(form.competition.submitted, ctx.lang), ctx.menu())
    await notify_coordinators(ctx, submission)


async def notify_coordinators(ctx: Context, submission: Submission) -> None:
    """Each coordinator gets the new submission in their own language, through the outbox."""
    form = form_of(ctx)
    author = ctx.user.display_name or f"{ctx.user.channel}:{ctx.user.external_id}"
    for coordinator in await users.coordinators(ctx.session):
        if coordinator.id == ctx.user.id:
            continue
        lang = coordinator.language
        text = (translate("idea.coordinator_new", lang, reference=submission.reference, author=author)
                + "\n\n" + submissions.summary_text(form, submission.answers, lang)
                + "\n\n" + translate("idea.coordinator_hint", lang, reference=submission.reference))
        await ctx.notify(coordinator, [Reply(text=shown(text), link_preview=False)])


BUTTON_ACTIONS = {
    "back": pressed_back,
    "skip": pressed_skip,
    "keep": pressed_keep,
    "pick": pressed_pick,
    "toggle": pressed_toggle,
    "done": pressed_done,
    "edit": pressed_edit,
    "submit": pressed_submit,
    "later": pressed_later,
}


# -- /mysubmissions ---------------------------------------------------------------------------------------


@router.menu_item("mysubmissions", label="menu.mysubmissions", order=40)
@router.command("mysubmissions", describe="cmd.mysubmissions", consent=True)
async def my_submissions(ctx: Context) -> None:
    mine = await submissions.submissions_of(ctx.session, ctx.user.id)
    if not mine:
        ctx.reply(ctx.t("idea.none_yet"), [Button(ctx.t("menu.idea"), "menu:idea")])
        return
    lines = [ctx.t("idea.mine_title")] + [submission_line(ctx, s) for s in mine]
    drafts = [s for s in mine if s.status == "draft"][:MAX_DRAFT_BUTTONS]
    buttons = [Button(ctx.t("idea.continue_draft", title=draft_title(ctx, d)), f"idea:continue:{d.id}") for d in drafts]
    ctx.reply("\n".join(lines), buttons or ctx.menu())


def submission_line(ctx: Context, submission: Submission) -> str:
    when = submission.submitted_at or submission.updated_at
    return ctx.t(
        "idea.mine_line",
        reference=submission.reference or ctx.t("idea.no_reference"),
        title=draft_title(ctx, submission),
        status=submissions.status_label(submission.status, ctx.lang),
        date=format_date(when.date(), "medium", locale=ctx.lang),
    )


# -- /status (coordinators) -----------------------------------------------------------------------------


@router.command("status", describe="cmd.status", coordinator=True)
async def set_status(ctx: Context) -> None:
    """``/status LID-2026-0007 finalist``: the engine checks the role on every call; this checks the rest."""
    reference, _, wanted = ctx.incoming.command_args.partition(" ")
    statuses = ", ".join(submissions.REVIEW_STATUSES)
    if not reference or not wanted.strip():
        ctx.reply(ctx.t("idea.status_usage", statuses=statuses))
        return
    submission = await submissions.find_by_reference(ctx.session, reference)
    if submission is None:
        ctx.reply(ctx.t("idea.status_unknown_reference", reference=submissions.clip(reference, 30)))
        return
    status = submissions.parse_status(wanted)
    if status not in submissions.REVIEW_STATUSES:
        ctx.reply(ctx.t("idea.status_unknown", value=submissions.clip(wanted.strip(), 30), statuses=statuses))
        return
    label = submissions.status_label(status, ctx.lang)
    if submission.status == status:
        ctx.reply(ctx.t("idea.status_same", reference=submission.reference, status=label))
        return
    await submissions.change_status(ctx.session, submission, status, ctx.user, ctx.notify,
                                    now=ctx.clock.now(), form=form_of(ctx))
    ctx.reply(ctx.t("idea.status_set", reference=submission.reference, status=label))
