"""The mutual-aid network: /profile (who I am, what I offer and need) and /network (who can help me, whom I
can help, and introductions). The vocabulary is the network's file (``settings.network_tags_file``, loaded
as ``NetworkVocabulary``); matching and introductions are ``bot/services/network.py``.

/profile or 🌐 ─┬─ no profile yet         → what it is for, then KIND
                ├─ a profile half done    → its first missing step
                └─ a complete profile     → SUMMARY
    KIND         buttons (person, enterprise, association, public body)
    NAME         the name other members see (typed, or "use «display name»"); no contact details in it
    REGION       buttons
    OFFERS       tag buttons toggled, ✔️ done saves them; typed words that are not tags go to OFFERS_TEXT
    OFFERS_TEXT  in your own words (optional, ⏭️ skip); no contact details
    NEEDS        as OFFERS          NEEDS_TEXT  as OFFERS_TEXT
    CONTACT      e-mail and/or phone: shown only to members whose introduction you accept
    SUMMARY      the profile as others see it, plus the contact; ✏️ <part> → that step → SUMMARY;
                 🙈 hide / 👁️ show; 🔎 see matches; ✅ done
    Every answer is written to the profile row in the same transaction as the new state; ✔️ keep moves on
    with the saved answer; /cancel (handlers/start.py) leaves, the profile stays as it is.

/network or 🔎   → no complete profile: the way to /profile · otherwise the ranked matches, a page at a
                   time, each with "ask for an introduction"; introductions waiting for the caller's answer
net:intro:<id>   → the request is recorded (rate-limited), the other member gets it with accept / decline
net:accept:<id>  → only the member it was sent to, only while pending: both get each other's contact
net:decline:<id> → the requester is told, without any contact

/stats (handlers/admin/stats.py) gets this feature's sections through ``bot.services.stats.section``: offers and
needs by tag and by region, the needs nobody offers, introductions by status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from babel.dates import format_timedelta

from bot.config import LANGUAGES, Settings
from bot.db.models import Introduction, Profile, User
from bot.engine import Context
from bot.i18n import translate
from bot.messages import Button, Reply, rows
from bot.router import Router
from bot.services import network, stats
from bot.services.network import Match, NetworkVocabulary
from bot.services.submissions import Accepted, Choice, FormField, check_answer, clip, normalize

router = Router("network")
log = logging.getLogger("handlers.network")

FLOW = "profile"
STEPS = ("kind", "name", "region", "offers", "offers_text", "needs", "needs_text", "contact")
TAG_STEPS = {"offers": "offers_text", "needs": "needs_text"}  # a tag step, and where its typed words go
TEXT_STEPS = ("offers_text", "needs_text")
SUMMARY = "_summary"
SHOWN_TEXT = 120  # characters of a member's own words shown in a list of matches

# The contact question is one of the idea form's kinds of question ("contact": an e-mail and/or a phone), so
# both flows accept the same answers.
CONTACT_QUESTION = FormField(name="contact", type="contact", label={"es": "Contacto", "en": "Contact"},
                             prompt={"es": "-", "en": "-"})
CONTACT_PROBLEMS = {"idea.error.not_email": "network.error.not_email",
                    "idea.error.not_phone": "network.error.not_phone"}


_loaded: list[NetworkVocabulary] = []  # the vocabulary the loader last built, for the labels of /stats sections


@router.content_loader
def load_vocabulary(settings: Settings, previous: object | None) -> NetworkVocabulary:
    """The vocabulary file at start-up and every reload. Broken at start-up: the bot does not start (the
    error names each problem); broken at a reload: the vocabulary already loaded stays, and the log says why."""
    try:
        vocabulary = network.load_vocabulary(settings.network_tags_file)
    except network.NetworkFileError as exc:
        if not isinstance(previous, NetworkVocabulary):
            raise
        log.error("network vocabulary not reloaded, the previous one stays", extra={"problems": str(exc)})
        return previous
    _loaded[:] = [vocabulary]
    return vocabulary


def vocabulary_of(ctx: Context) -> NetworkVocabulary:
    return ctx.content(NetworkVocabulary)


# -- /profile ---------------------------------------------------------------------------------------------


@router.command("profile", describe="cmd.profile", consent=True)
async def profile_command(ctx: Context) -> None:
    profile = await ctx.session.get(Profile, ctx.user.id)
    if profile is None:
        ctx.start_flow(FLOW, data={"editing": False})
        ctx.reply(ctx.t("network.profile_intro", network=vocabulary_of(ctx).network_name(ctx.lang)))
        ask(ctx, "kind", None)
        return
    missing = first_missing(profile)
    ctx.start_flow(FLOW, data={"editing": False})
    if missing is not None:
        ask(ctx, missing, profile)
        return
    show_summary(ctx, profile)


def first_missing(profile: Profile) -> str | None:
    """The first step the profile has no answer for (the texts are optional, and answered when skipped)."""
    answered = answered_steps(profile)
    return next((step for step in STEPS if step not in answered), None)


def answered_steps(profile: Profile | None) -> set[str]:
    if profile is None:
        return set()
    done = {step for step in ("kind", "name", "region", "contact") if getattr(profile, step)}
    done |= {step for step in TEXT_STEPS if getattr(profile, step) is not None}  # "" = skipped
    # A tag step is answered by tags, or by getting past it (its text step answered): offering nothing is fine.
    done |= {step for step, text_step in TAG_STEPS.items() if getattr(profile, step) or text_step in done}
    return done


def ask(ctx: Context, step: str, profile: Profile | None, problem: str | None = None, *, edit: bool = False) -> None:
    """Put the question of ``step``: the problem with the last answer first, the saved answer, and the
    buttons the step needs plus ⏭️ skip / ✔️ keep."""
    vocabulary = vocabulary_of(ctx)
    limits = vocabulary.limits
    ctx.state.step = step
    lines = [f"⚠️ {problem}", ""] if problem else []
    position = f"{STEPS.index(step) + 1}/{len(STEPS)} · "
    buttons: list[list[Button]] = []
    if step == "kind":
        lines.append(position + ctx.t("network.ask_kind"))
        buttons = [[Button(kind.label_in(ctx.lang), f"net:kind:{kind.value}")] for kind in vocabulary.kinds]
    elif step == "name":
        lines.append(position + ctx.t("network.ask_name", max=limits.name_max))
        suggested = default_name(ctx)
        if suggested:
            buttons.append([Button(ctx.t("network.use_name", name=suggested), "net:name_default")])
    elif step == "region":
        lines.append(position + ctx.t("network.ask_region"))
        buttons = [list(row) for row in rows(*(Button(region.label_in(ctx.lang), f"net:region:{region.value}")
                                               for region in vocabulary.regions), per_row=2)]
    elif step in TAG_STEPS:
        lines.append(position + ctx.t(f"network.ask_{step}", max=limits.max_tags))
        buttons = tag_buttons(ctx, step, profile)
    elif step in TEXT_STEPS:
        lines.append(position + ctx.t(f"network.ask_{step}", max=limits.text_max))
        buttons.append([Button(ctx.t("network.skip"), f"net:skip:{step}")])
    elif step == "contact":
        lines.append(position + ctx.t("network.ask_contact"))
    current = current_answer(ctx, step, profile)
    if current:
        lines.append(ctx.t("network.current_answer", value=current))
        if step not in TAG_STEPS:
            buttons.append([Button(ctx.t("network.keep"), f"net:keep:{step}")])
    if ctx.state.data.get("editing"):
        buttons.append([Button(ctx.t("network.back_to_summary"), f"net:summary:{step}")])
    ctx.reply("\n".join(lines), [row for row in buttons if row], edit=edit)


def default_name(ctx: Context) -> str | None:
    """The platform's name of the member, when it can be shown (short enough, no contact detail in it)."""
    name = (ctx.user.display_name or "").strip()
    limit = vocabulary_of(ctx).limits.name_max
    if not name or len(name) > limit or network.contact_in(name) is not None:
        return None
    return name


def current_answer(ctx: Context, step: str, profile: Profile | None) -> str:
    if profile is None:
        return ""
    vocabulary = vocabulary_of(ctx)
    if step == "kind":
        return vocabulary.label_of(vocabulary.kinds, profile.kind, ctx.lang) if profile.kind else ""
    if step == "region":
        return vocabulary.label_of(vocabulary.regions, profile.region, ctx.lang) if profile.region else ""
    if step == "contact":
        return network.contact_text(profile.contact)
    if step in TAG_STEPS:
        return ""  # the marked buttons show it
    value = getattr(profile, step)
    return str(value) if value else ""


def tag_buttons(ctx: Context, step: str, profile: Profile | None) -> list[list[Button]]:
    """Toggles, ✅ on the marked ones; the marks live in the conversation state until ✔️ done saves them."""
    vocabulary = vocabulary_of(ctx)
    if ctx.state.data.get("picking") != step:
        ctx.state.data["picking"] = step
        ctx.state.data["picked"] = list(getattr(profile, step) or []) if profile is not None else []
    marked = list(ctx.state.data["picked"])
    toggles = [Button(("✅ " if tag.value in marked else "") + tag.label_in(ctx.lang), f"net:toggle:{step}:{tag.value}")
               for tag in vocabulary.tags]
    done = Button(ctx.t("network.done", count=len(marked)), f"net:done:{step}")
    return [list(row) for row in rows(*toggles, per_row=2)] + [[done]]


@router.flow(FLOW)
async def on_message(ctx: Context) -> None:
    """Typed text (or a file) while in the profile: the answer to the step on screen."""
    step = ctx.state.step or ""
    profile = await ctx.session.get(Profile, ctx.user.id)
    if step == SUMMARY:
        ctx.reply(ctx.t("network.use_buttons"))
        await summary_or_first_missing(ctx, profile)
        return
    if step not in STEPS:
        await summary_or_first_missing(ctx, profile)
        return
    if ctx.incoming.attachment is not None:
        ask(ctx, step, profile, ctx.t("network.error.text_expected"))
        return
    if step in ("kind", "region"):
        await typed_choice(ctx, step, profile)
    elif step in TAG_STEPS:
        await typed_tags(ctx, step, profile)
    elif step == "contact":
        await typed_contact(ctx, profile)
    else:
        await typed_text(ctx, step, profile, ctx.text)


async def typed_choice(ctx: Context, step: str, profile: Profile | None) -> None:
    """A kind or a region typed instead of pressed: by its label in either language, or its value."""
    vocabulary = vocabulary_of(ctx)
    options = vocabulary.kinds if step == "kind" else vocabulary.regions
    wanted = normalize(ctx.text)
    choice = next((option for option in options if wanted and names_choice(wanted, option)), None)
    if choice is None:
        remember_rejected(ctx, step)
        ask(ctx, step, profile, ctx.t("network.error.use_buttons", value=clip(ctx.text, 40)))
        return
    profile = await profile_for_writing(ctx, profile)
    setattr(profile, step, choice.value)
    await saved(ctx, step, profile)


def names_choice(wanted: str, choice: Choice) -> bool:
    """``wanted`` (normalized) is the choice's value or its label in either language."""
    return wanted == choice.value or wanted in {normalize(label) for label in choice.label.values()}


async def typed_text(ctx: Context, step: str, profile: Profile | None, text: str) -> None:
    """The name or a free text: within the file's limits, and without contact details (those travel only
    with an accepted introduction)."""
    limits = vocabulary_of(ctx).limits
    limit = limits.name_max if step == "name" else limits.text_max
    problem = text_problem(ctx, text, limit, minimum=2 if step == "name" else 1)
    if problem is not None:
        remember_rejected(ctx, step)
        ask(ctx, step, profile, problem)
        return
    profile = await profile_for_writing(ctx, profile)
    setattr(profile, step, text)
    await saved(ctx, step, profile)


def text_problem(ctx: Context, text: str, limit: int, minimum: int = 1) -> str | None:
    if len(text) < minimum:
        return ctx.t("network.error.too_short", min=minimum)
    if len(text) > limit:
        return ctx.t("network.error.too_long", length=len(text), max=limit)
    found = network.contact_in(text)
    if found is not None:
        return ctx.t("network.error.contact_in_text", what=ctx.t(f"network.contact_kind.{found}"))
    return None


async def typed_tags(ctx: Context, step: str, profile: Profile | None) -> None:
    """Words typed at a tag step: the tags they name are marked; anything else is kept as the member's own
    words for that side (the next step), so nothing typed is lost."""
    vocabulary = vocabulary_of(ctx)
    if normalize(ctx.text) in done_words():
        await pressed_done(ctx, step, profile)  # "listo" typed (WhatsApp, the web chat) is the ✔️ button
        return
    marked = list(ctx.state.data.get("picked") or []) if ctx.state.data.get("picking") == step else []
    rest: list[str] = []
    for part in filter(None, (piece.strip() for piece in ctx.text.replace(";", ",").split(","))):
        wanted = normalize(part)
        tag = next((tag for tag in vocabulary.tags if names_choice(wanted, tag)), None)
        if tag is None:
            rest.append(part)
        elif tag.value not in marked and len(marked) < vocabulary.limits.max_tags:
            marked.append(tag.value)
    ctx.state.data.update(picking=step, picked=marked)
    if not rest:
        ask(ctx, step, profile)
        return
    words = ", ".join(rest)
    text_step = TAG_STEPS[step]
    problem = text_problem(ctx, words, vocabulary.limits.text_max)
    if problem is not None:
        remember_rejected(ctx, step)
        ask(ctx, step, profile, problem)
        return
    profile = await profile_for_writing(ctx, profile)
    earlier = getattr(profile, text_step) or ""
    combined = f"{earlier}; {words}" if earlier and words not in earlier else earlier or words
    setattr(profile, text_step, combined[: vocabulary.limits.text_max])
    profile.updated_at = ctx.clock.now()
    ctx.reply(ctx.t("network.kept_as_text", text=clip(words, 80)))
    ask(ctx, step, profile)


def done_words() -> set[str]:
    """What people type to say they are done marking, in either language (the catalog's lists)."""
    return {normalize(word) for lang in LANGUAGES for word in translate("network.done_words", lang).split(",")}


async def typed_contact(ctx: Context, profile: Profile | None) -> None:
    result = check_answer(CONTACT_QUESTION, ctx.text, None)
    if not isinstance(result, Accepted):
        remember_rejected(ctx, "contact")
        key = CONTACT_PROBLEMS.get(result.key, "network.error.no_contact")
        ask(ctx, "contact", profile, ctx.t(key, value=result.values.get("value", "")))
        return
    profile = await profile_for_writing(ctx, profile)
    profile.contact = dict(result.value)
    await saved(ctx, "contact", profile)


def remember_rejected(ctx: Context, step: str) -> None:
    """What the member typed that was not taken stays in their conversation (never in the profile others
    see), so nothing typed is lost; the next answer replaces it."""
    ctx.state.data["rejected"] = {"step": step, "input": ctx.text[:2000]}


async def profile_for_writing(ctx: Context, profile: Profile | None) -> Profile:
    """The member's profile row, made with their first answer (an abandoned /profile leaves no empty row)."""
    if profile is None:
        now = ctx.clock.now()
        profile = Profile(user_id=ctx.user.id, offers=[], needs=[], hidden=False, created_at=now, updated_at=now)
        ctx.session.add(profile)
    return profile


async def saved(ctx: Context, step: str, profile: Profile) -> None:
    """After an answer: the next step (in order when filling in, the next missing one when editing), or
    the summary."""
    profile.updated_at = ctx.clock.now()
    ctx.state.data.pop("rejected", None)
    if step in TAG_STEPS:
        ctx.state.data.pop("picking", None)
        ctx.state.data.pop("picked", None)
    answered = answered_steps(profile) | {step}
    if ctx.state.data.get("editing"):
        following = next((s for s in STEPS if s not in answered), None)
    else:
        following = next((s for s in STEPS[STEPS.index(step) + 1:] if s not in answered), None)
        following = following or next((s for s in STEPS if s not in answered), None)
    if following is not None:
        ask(ctx, following, profile)
        return
    show_summary(ctx, profile)


async def summary_or_first_missing(ctx: Context, profile: Profile | None) -> None:
    missing = first_missing(profile) if profile is not None else "kind"
    if missing is not None:
        ask(ctx, missing, profile)
        return
    assert profile is not None
    show_summary(ctx, profile)


def show_summary(ctx: Context, profile: Profile) -> None:
    """The profile as other members see it, the contact only its owner sees here, and what to do next."""
    ctx.state.step = SUMMARY
    ctx.state.data = {"editing": False}
    vocabulary = vocabulary_of(ctx)
    lines = [ctx.t("network.summary_title"), "", card(profile, vocabulary, ctx.lang),
             ctx.t("network.summary_contact", contact=network.contact_text(profile.contact) or "—"), ""]
    lines.append(ctx.t("network.summary_hidden" if profile.hidden else "network.summary_visible"))
    edits = [Button("✏️ " + ctx.t(f"network.part.{step}"), f"net:edit:{step}") for step in STEPS]
    buttons = [list(row) for row in rows(*edits, per_row=2)]
    buttons.append([Button(ctx.t("network.show" if profile.hidden else "network.hide"), "net:visibility"),
                    Button(ctx.t("network.see_matches"), "net:list:0")])
    buttons.append([Button(ctx.t("network.finish"), "net:finish")])
    ctx.reply("\n".join(lines), buttons)


def card(profile: Profile, vocabulary: NetworkVocabulary, lang: str, *, limit: int | None = None) -> str:
    """What every member may see of a profile: name, kind, region, offers and needs. Never the contact."""
    kind = vocabulary.label_of(vocabulary.kinds, profile.kind, lang)
    region = vocabulary.label_of(vocabulary.regions, profile.region, lang)
    lines = [f"{profile.name or '—'} · {kind} · {region}"]
    for side in ("offers", "needs"):
        tags = ", ".join(vocabulary.labels(getattr(profile, side) or (), lang))
        own = getattr(profile, f"{side}_text") or ""
        if limit is not None:
            own = clip(own, limit)
        parts = [part for part in (tags, f"«{own}»" if own else "") if part]
        lines.append(translate(f"network.card_{side}", lang, what=" · ".join(parts) or "—"))
    return "\n".join(lines)


# -- profile buttons ----------------------------------------------------------------------------------------


@router.button("net", consent=True)
async def on_button(ctx: Context) -> None:
    """``net:<action>[:<step>[:<value>]]`` for the profile's questions. A button of a question no longer on
    screen is refused and the current question asked again, never applied to another step."""
    action, _, rest = (ctx.incoming.payload or "").partition(":")[2].partition(":")
    step, _, value = rest.partition(":")
    profile = await ctx.session.get(Profile, ctx.user.id)
    if action in ("kind", "region"):
        await pressed_choice(ctx, action, value or step, profile)
    elif action == "name_default":
        await pressed_default_name(ctx, profile)
    elif action == "toggle":
        await pressed_toggle(ctx, step, value, profile)
    elif action == "done":
        await pressed_done(ctx, step, profile)
    elif action in ("skip", "keep"):
        await pressed_skip_or_keep(ctx, action, step, profile)
    elif action == "edit":
        await pressed_edit(ctx, step, profile)
    elif action == "summary":
        if await at_step(ctx, step, profile) and profile is not None:
            show_summary(ctx, profile)
    if not ctx.replies:  # an unknown action, or a step or tag the profile does not have (forged, truncated)
        ctx.reply(ctx.t("core.button_expired"))


async def at_step(ctx: Context, step: str, profile: Profile | None) -> bool:
    if ctx.state.flow == FLOW and ctx.state.step == step:
        return True
    ctx.reply(ctx.t("core.button_expired"))
    if ctx.state.flow == FLOW and ctx.state.step in STEPS:
        ask(ctx, ctx.state.step, profile)
    elif ctx.state.flow == FLOW:
        await summary_or_first_missing(ctx, profile)
    return False


async def pressed_choice(ctx: Context, step: str, value: str, profile: Profile | None) -> None:
    vocabulary = vocabulary_of(ctx)
    choice = vocabulary.kind(value) if step == "kind" else vocabulary.region(value)
    if not await at_step(ctx, step, profile):
        return
    if choice is None:
        ask(ctx, step, profile, ctx.t("network.error.use_buttons", value=clip(value, 40)))
        return
    profile = await profile_for_writing(ctx, profile)
    setattr(profile, step, choice.value)
    await saved(ctx, step, profile)


async def pressed_default_name(ctx: Context, profile: Profile | None) -> None:
    name = default_name(ctx)
    if not await at_step(ctx, "name", profile):
        return
    if name is None:
        ask(ctx, "name", profile)
        return
    await typed_text(ctx, "name", profile, name)


async def pressed_toggle(ctx: Context, step: str, value: str, profile: Profile | None) -> None:
    vocabulary = vocabulary_of(ctx)
    if step not in TAG_STEPS or not await at_step(ctx, step, profile) or vocabulary.tag(value) is None:
        if step in TAG_STEPS and ctx.state.step == step:
            ask(ctx, step, profile)
        return
    marked = list(ctx.state.data.get("picked") or []) if ctx.state.data.get("picking") == step else []
    problem = None
    if value in marked:
        marked.remove(value)
    elif len(marked) >= vocabulary.limits.max_tags:
        problem = ctx.t("network.error.too_many_tags", max=vocabulary.limits.max_tags)
    else:
        marked.append(value)
    ctx.state.data.update(picking=step, picked=marked)
    ask(ctx, step, profile, problem, edit=True)


async def pressed_done(ctx: Context, step: str, profile: Profile | None) -> None:
    if step not in TAG_STEPS or not await at_step(ctx, step, profile):
        return
    marked = list(ctx.state.data.get("picked") or []) if ctx.state.data.get("picking") == step else []
    profile = await profile_for_writing(ctx, profile)
    setattr(profile, step, [value for value in marked if vocabulary_of(ctx).tag(value) is not None])
    await saved(ctx, step, profile)


async def pressed_skip_or_keep(ctx: Context, action: str, step: str, profile: Profile | None) -> None:
    if step not in STEPS or not await at_step(ctx, step, profile):
        return
    if action == "skip" and step in TEXT_STEPS:
        profile = await profile_for_writing(ctx, profile)
        setattr(profile, step, getattr(profile, step) or "")  # "" = answered with nothing to add
        await saved(ctx, step, profile)
        return
    if action == "keep" and profile is not None and step in answered_steps(profile):
        await saved(ctx, step, profile)
        return
    ask(ctx, step, profile)


async def pressed_edit(ctx: Context, step: str, profile: Profile | None) -> None:
    if step not in STEPS or profile is None or not await at_step(ctx, SUMMARY, profile):
        return
    ctx.state.data["editing"] = True
    ask(ctx, step, profile)


@router.button("net:visibility", consent=True)
async def toggle_visibility(ctx: Context) -> None:
    profile = await ctx.session.get(Profile, ctx.user.id)
    if profile is None:
        ctx.reply(ctx.t("core.button_expired"))
        return
    profile.hidden = not profile.hidden
    profile.updated_at = ctx.clock.now()
    log.info("profile visibility", extra={"user": ctx.user.id, "hidden": profile.hidden})
    ctx.reply(ctx.t("network.now_hidden" if profile.hidden else "network.now_visible"))
    ctx.start_flow(FLOW)
    show_summary(ctx, profile)


@router.button("net:finish", consent=True)
async def finish(ctx: Context) -> None:
    if ctx.state.flow == FLOW:
        ctx.end_flow()
    profile = await ctx.session.get(Profile, ctx.user.id)
    ready = network.is_ready(profile)
    ctx.reply(ctx.t("network.finished" if ready else "network.finished_incomplete"),
              [Button(ctx.t("network.see_matches"), "net:list:0"), *[b for row in ctx.menu() for b in row]])


# -- /network: matches ----------------------------------------------------------------------------------------


@router.menu_item("network", label="menu.network", order=35)
@router.command("network", describe="cmd.network", consent=True)
async def network_command(ctx: Context) -> None:
    await show_matches(ctx, 0)


@router.button("net:list", consent=True)
async def list_pressed(ctx: Context) -> None:
    offset = (ctx.incoming.payload or "").rpartition(":")[2]
    await show_matches(ctx, int(offset) if offset.isdigit() else 0)


async def show_matches(ctx: Context, offset: int) -> None:
    """A page of the caller's matches, best first, each with a button to ask for an introduction; the
    introductions waiting for the caller's own answer come first."""
    if ctx.state.flow == FLOW:
        ctx.end_flow()
    vocabulary = vocabulary_of(ctx)
    me = await ctx.session.get(Profile, ctx.user.id)
    await show_waiting(ctx, vocabulary)
    if me is None or not network.is_ready(me):
        ctx.reply(ctx.t("network.need_profile"), [Button(ctx.t("network.make_profile"), "run:profile")])
        return
    matches = await network.matches_for(ctx.session, me, vocabulary)
    page_size = vocabulary.limits.page_size
    page = matches[offset: offset + page_size]
    if not page:
        key = "network.no_matches" if not matches else "network.no_more"
        ctx.reply(ctx.t(key), [Button(ctx.t("network.edit_profile"), "run:profile")])
        return
    lines = [ctx.t("network.matches_title", count=len(matches))]
    if me.hidden:
        lines.append(ctx.t("network.you_are_hidden"))
    buttons: list[Button] = []
    for number, match in enumerate(page, start=offset + 1):
        lines += ["", f"{number}. " + match_text(match, vocabulary, ctx.lang)]
        buttons.append(Button(ctx.t("network.ask_intro", number=number, name=clip(match.profile.name or "?", 24)),
                              f"net:intro:{match.profile.user_id}"))
    if offset + page_size < len(matches):
        buttons.append(Button(ctx.t("network.more"), f"net:list:{offset + page_size}"))
    buttons.append(Button(ctx.t("network.edit_profile"), "run:profile"))
    ctx.reply("\n".join(lines), buttons)


def match_text(match: Match, vocabulary: NetworkVocabulary, lang: str) -> str:
    """A match as the caller reads it: who, why (each side's tags, or the words that met), never a contact."""
    lines = [("🔁 " if match.reciprocal else "") + card(match.profile, vocabulary, lang, limit=SHOWN_TEXT)]
    if match.they_offer:
        lines.append(translate("network.they_help", lang, what=", ".join(vocabulary.labels(match.they_offer, lang))))
    elif match.helps_me:
        lines.append(translate("network.they_help_words", lang))
    if match.they_need:
        lines.append(translate("network.you_help", lang, what=", ".join(vocabulary.labels(match.they_need, lang))))
    elif match.i_help:
        lines.append(translate("network.you_help_words", lang))
    return "\n".join(lines)


async def show_waiting(ctx: Context, vocabulary: NetworkVocabulary) -> None:
    """Introductions others asked of the caller and still unanswered (the notification may be long gone)."""
    for introduction in (await network.requests_waiting(ctx.session, ctx.user))[:3]:
        requester = await ctx.session.get(Profile, introduction.requester_id)
        if requester is not None:
            ctx.reply(*request_message(introduction, requester, vocabulary, ctx.lang))


# -- introductions ----------------------------------------------------------------------------------------------


@router.button("net:intro", consent=True)
async def intro_pressed(ctx: Context) -> None:
    """``net:intro:<member>``: ask to be introduced. The member must still be listed and a match (a forged or
    stale button finds nobody); the request is limited per day; the other member is told through the outbox."""
    vocabulary = vocabulary_of(ctx)
    me = await ctx.session.get(Profile, ctx.user.id)
    if me is None or not network.is_ready(me):
        ctx.reply(ctx.t("network.need_profile"), [Button(ctx.t("network.make_profile"), "run:profile")])
        return
    other_id = (ctx.incoming.payload or "").rpartition(":")[2]
    match = await network.match_between(ctx.session, me, int(other_id), vocabulary) if other_id.isdigit() else None
    target = await ctx.session.get(User, match.profile.user_id) if match is not None else None
    if match is None or target is None:
        ctx.reply(ctx.t("network.member_unavailable"), [Button(ctx.t("network.see_matches"), "net:list:0")])
        return
    name = match.profile.name or "?"
    now = ctx.clock.now()
    requested = await network.request_introduction(ctx.session, ctx.user, target, now,
                                                   vocabulary.limits.introductions_per_day)
    if requested.outcome == "limited" and requested.retry_at is not None:
        wait = format_timedelta(requested.retry_at - now, threshold=1.5, locale=ctx.lang)
        ctx.reply(ctx.t("network.intro_limited", max=vocabulary.limits.introductions_per_day, wait=wait))
        return
    if requested.outcome == "connected":
        ctx.reply(ctx.t("network.intro_connected", name=name, contact=network.contact_text(match.profile.contact)))
        return
    if requested.outcome == "pending" and requested.introduction is not None:
        waiting_on_me = requested.introduction.target_id == ctx.user.id
        if waiting_on_me:
            ctx.reply(*request_message(requested.introduction, match.profile, vocabulary, ctx.lang))
        else:
            ctx.reply(ctx.t("network.intro_pending", name=name))
        return
    if requested.outcome == "declined" or requested.introduction is None:
        ctx.reply(ctx.t("network.intro_declined_before", name=name))
        return
    log.info("introduction requested", extra={"introduction": requested.introduction.id, "requester": ctx.user.id,
                                              "target": target.id})
    await ctx.notify(target, [Reply(*request_message(requested.introduction, me, vocabulary, target.language))])
    ctx.reply(ctx.t("network.intro_sent", name=name), ctx.menu())


def request_message(introduction: Introduction, requester: Profile, vocabulary: NetworkVocabulary,
                    lang: str) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """What the asked member gets: who asks (their card, no contact) and accept / decline buttons."""
    text = "\n\n".join([translate("network.intro_request", lang), card(requester, vocabulary, lang),
                        translate("network.intro_request_hint", lang)])
    buttons = ((Button(translate("network.accept", lang), f"net:accept:{introduction.id}"),
                Button(translate("network.decline", lang), f"net:decline:{introduction.id}")),)
    return text, buttons


@router.button("net:accept", consent=True)
async def accept(ctx: Context) -> None:
    """Only the member the request was sent to, only while it is pending; anything else changes nothing."""
    introduction = await answerable(ctx)
    if introduction is None:
        return
    requester = await ctx.session.get(User, introduction.requester_id)
    theirs = await ctx.session.get(Profile, introduction.requester_id)
    mine = await ctx.session.get(Profile, ctx.user.id)
    now = ctx.clock.now()
    if requester is None or theirs is None or not theirs.contact or mine is None or not mine.contact:
        introduction.status, introduction.answered_at = "cancelled", now
        key = "network.intro_gone" if mine is not None and mine.contact else "network.intro_need_contact"
        ctx.reply(ctx.t(key), [Button(ctx.t("network.edit_profile"), "run:profile")])
        return
    introduction.status, introduction.answered_at = "accepted", now
    log.info("introduction accepted", extra={"introduction": introduction.id})
    ctx.reply(ctx.t("network.accepted_you", name=theirs.name or "?", contact=network.contact_text(theirs.contact)),
              ctx.menu())
    text = translate("network.accepted_them", requester.language, name=mine.name or "?",
                     contact=network.contact_text(mine.contact))
    await ctx.notify(requester, [Reply(text=text)])


@router.button("net:decline", consent=True)
async def decline(ctx: Context) -> None:
    introduction = await answerable(ctx)
    if introduction is None:
        return
    introduction.status, introduction.answered_at = "declined", ctx.clock.now()
    log.info("introduction declined", extra={"introduction": introduction.id})
    ctx.reply(ctx.t("network.declined_you"), ctx.menu())
    requester = await ctx.session.get(User, introduction.requester_id)
    mine = await ctx.session.get(Profile, ctx.user.id)
    if requester is not None:
        text = translate("network.declined_them", requester.language, name=(mine.name if mine else None) or "?")
        await ctx.notify(requester, [Reply(text=text)])


async def answerable(ctx: Context) -> Introduction | None:
    """The pending introduction the pressed button names, if it was sent to this member."""
    introduction_id = (ctx.incoming.payload or "").rpartition(":")[2]
    introduction = await network.pending_for_target(ctx.session, introduction_id, ctx.user)
    if introduction is None:
        log.info("introduction answer refused", extra={"user": ctx.user.id})
        ctx.reply(ctx.t("network.intro_not_yours"))
    return introduction


# -- what coordinators see: sections of /stats ----------------------------------------------------------------

def vocabulary_for_stats() -> NetworkVocabulary | None:
    """/stats sections get no content from the engine, so the loader leaves its latest vocabulary here."""
    return _loaded[-1] if _loaded else None


def tag_counts(counts: Iterable[tuple[str, int]], vocabulary: NetworkVocabulary, lang: str,
               top: int = 10) -> list[tuple[str, int]]:
    """Most first; ties in the vocabulary's order, so the same figures always read the same."""
    order = {tag.value: position for position, tag in enumerate(vocabulary.tags)}
    pairs = sorted(counts, key=lambda pair: (-pair[1], order.get(pair[0], len(order))))
    return [(label, count) for value, count in pairs[:top] for label in vocabulary.labels([value], lang)]


@stats.section(order=80)
async def offered(ctx: stats.StatsContext) -> stats.Section | None:
    vocabulary = vocabulary_for_stats()
    if vocabulary is None:
        return None
    figures = await network.figures(ctx.session)
    return stats.Section(ctx.t("network.stats_offered", profiles=figures.profiles),
                         tag_counts(figures.offers.items(), vocabulary, ctx.lang))


@stats.section(order=81)
async def needed(ctx: stats.StatsContext) -> stats.Section | None:
    vocabulary = vocabulary_for_stats()
    if vocabulary is None:
        return None
    figures = await network.figures(ctx.session)
    return stats.Section(ctx.t("network.stats_needed"), tag_counts(figures.needs.items(), vocabulary, ctx.lang))


@stats.section(order=82)
async def unmet(ctx: stats.StatsContext) -> stats.Section | None:
    """Needs nobody in the network offers: whom the network should bring in."""
    vocabulary = vocabulary_for_stats()
    if vocabulary is None:
        return None
    figures = await network.figures(ctx.session)
    return stats.Section(ctx.t("network.stats_unmet"), tag_counts(figures.unmet, vocabulary, ctx.lang))


@stats.section(order=83)
async def by_region(ctx: stats.StatsContext) -> stats.Section | None:
    vocabulary = vocabulary_for_stats()
    if vocabulary is None:
        return None
    figures = await network.figures(ctx.session)
    counts = []
    for region, _ in figures.regions.most_common():
        label = vocabulary.label_of(vocabulary.regions, region, ctx.lang)
        counts.append((ctx.t("network.stats_offers_in", region=label), figures.region_offers[region]))
        counts.append((ctx.t("network.stats_needs_in", region=label), figures.region_needs[region]))
    return stats.Section(ctx.t("network.stats_by_region"), counts)


@stats.section(order=84)
async def introductions(ctx: stats.StatsContext) -> stats.Section | None:
    figures = await network.figures(ctx.session)
    return stats.Section(ctx.t("network.stats_introductions"),
                         [(ctx.t(f"network.intro_status.{status}"), figures.introductions[status])
                          for status in ("pending", "accepted", "declined") if figures.introductions[status]])
