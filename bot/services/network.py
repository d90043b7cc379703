"""The mutual-aid network: its vocabulary (a file of the network's configuration), members' profiles, who
can help whom, introductions, and the figures coordinators see.

Cooperactivas and LÍDERES exist so that members help each other, so matching is about *reciprocity*: for a
member, the others who offer what they need and need what they offer. A profile says it with tags of the
network's vocabulary (buttons, so they compare exactly) and in the member's own words (compared fuzzily,
so "página web" meets "diseño de webs"). Ranking, in this order: both can help each other, then how many
tags meet, then how much of the free text meets (in steps of ``TEXT_STEP`` points, so that the region can
break near-ties), then the same region.

Nobody's contact is shown by matching: a member asks for an introduction, the other accepts or declines,
and only on acceptance does each receive the other's contact. Requests are limited per member and day
(the vocabulary file's ``limits``), counted from the ``introductions`` rows, so a restart forgets nothing.
The conversation is ``handlers/network.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES, ConfigError
from bot.db.models import Introduction, Profile, User
from bot.services.knowledge.lexicon import STOPWORDS
from bot.services.knowledge.text import words
from bot.services.submissions import Choice, Texts, pick
from bot.services.yaml_files import load_model

INTRODUCTION_WINDOW = timedelta(hours=24)  # the per-member limit counts requests in the last 24 hours
TEXT_HIT = 82  # rapidfuzz ratio at which two words are taken as the same ("diseno" / "disenos" / "diseño")
TEXT_HELPS = 30  # percent of one side's words met by the other's for the free text alone to count as help
TEXT_STEP = 10  # text scores are compared in steps of this many points before the region breaks a tie
MIN_WORD = 3


class NetworkFileError(ConfigError):
    """The network's vocabulary file is wrong; the message names the file and every problem."""


# -- the vocabulary file --------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    max_tags: int = Field(default=6, ge=1, le=20)  # tags a member may mark on each side (offers, needs)
    name_max: int = Field(default=60, ge=10, le=80)  # the profiles.name column holds 80
    text_max: int = Field(default=300, ge=20, le=2000)
    introductions_per_day: int = Field(default=3, ge=1, le=100)
    page_size: int = Field(default=5, ge=1, le=10)


class NetworkVocabulary(_Strict):
    """Who members can be (kinds), where they are (regions) and what they can offer or need (tags), each
    with its label in every language, and the network's limits."""

    name: Texts
    kinds: list[Choice] = Field(min_length=1)
    regions: list[Choice] = Field(min_length=1)
    tags: list[Choice] = Field(min_length=1)
    limits: Limits = Limits()

    @model_validator(mode="after")
    def _unique_values(self) -> NetworkVocabulary:
        for name in ("kinds", "regions", "tags"):
            values = [choice.value for choice in getattr(self, name)]
            repeated = sorted({value for value in values if values.count(value) > 1})
            if repeated:
                raise ValueError(f"{name}: values repeated: {', '.join(repeated)}")
        return self

    def kind(self, value: str | None) -> Choice | None:
        return next((choice for choice in self.kinds if choice.value == value), None)

    def region(self, value: str | None) -> Choice | None:
        return next((choice for choice in self.regions if choice.value == value), None)

    def tag(self, value: str | None) -> Choice | None:
        return self._tags.get(value or "")

    @cached_property
    def _tags(self) -> dict[str, Choice]:
        return {choice.value: choice for choice in self.tags}

    def labels(self, values: Iterable[str], lang: str) -> list[str]:
        """Labels of the known tags among ``values`` (a tag removed from the file is simply not shown)."""
        return [choice.label_in(lang) for value in values if (choice := self.tag(value)) is not None]

    def tag_words(self, values: Iterable[str]) -> str:
        """The labels of ``values`` in every language, for comparing with free text."""
        return " ".join(choice.label[lang] for value in values if (choice := self.tag(value)) for lang in LANGUAGES)

    def label_of(self, options: Sequence[Choice], value: str | None, lang: str) -> str:
        choice = next((option for option in options if option.value == value), None)
        return choice.label_in(lang) if choice else "—"

    def network_name(self, lang: str) -> str:
        return pick(self.name, lang)

    def summary(self) -> dict[str, object]:
        """For the content loader's log line and the reply to a reload."""
        return {"network": {"kinds": len(self.kinds), "regions": len(self.regions), "tags": len(self.tags)}}


def load_vocabulary(path: Path) -> NetworkVocabulary:
    """The vocabulary at ``path``, or a ``NetworkFileError`` naming every problem with where it is."""
    return load_model(path, NetworkVocabulary, NetworkFileError, what="network file",
                      shape="name, kinds, regions and tags")


# -- what a profile may say -----------------------------------------------------------------------------

ContactKind = Literal["email", "phone", "handle", "link"]
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # an address inside a text (not a whole answer)
_CONTACT_PATTERNS: tuple[tuple[ContactKind, re.Pattern[str]], ...] = (
    ("email", EMAIL_IN_TEXT),
    ("link", re.compile(r"(?:https?://|www\.|t\.me/|wa\.me/)\S+|\b[\w-]+\.(?:com|org|net|coop|info|es|mx|bo)\b",
                        re.IGNORECASE)),
    ("handle", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,}")),
    ("phone", re.compile(r"\+?\d[\d\s().-]{5,}\d")),
)


def contact_in(text: str) -> ContactKind | None:
    """The kind of contact detail ``text`` contains (an e-mail, a phone, an @handle, a link), if any.

    Profiles are shown to every member, and contacts must travel only with an accepted introduction, so the
    name and the free texts of a profile may not carry one. A phone needs at least 7 digits, so years and
    counts ("16 empresas desde 2017") are fine."""
    for kind, pattern in _CONTACT_PATTERNS:
        for found in pattern.finditer(text):
            if kind != "phone" or sum(ch.isdigit() for ch in found.group()) >= 7:
                return kind
    return None


def is_ready(profile: Profile | None) -> bool:
    """Complete enough to be matched: who, where, how to be reached, and something offered or needed."""
    return (profile is not None and bool(profile.kind and profile.name and profile.region and profile.contact)
            and bool(profile.offers or profile.needs or profile.offers_text or profile.needs_text))


def contact_text(contact: dict[str, Any] | None) -> str:
    """``ana@x.org · +34 600 111 222``"""
    return " · ".join(str(value) for key in ("email", "phone") if (value := (contact or {}).get(key)))


# -- matching -------------------------------------------------------------------------------------------


# Words every offer or need says: they would make everyone meet everyone.
FILLER = frozenset("""
    necesito necesitamos busco buscamos buscando quiero queremos ofrezco ofrecemos ofrecer tengo tenemos
    puedo podemos alguien ayuda ayudar apoyo proyecto proyectos empresa empresas servicio servicios
    need needs looking offer offering want someone help support project projects business service services
""".split())


def content_words(text: str | None) -> frozenset[str]:
    """Folded words worth comparing: no stop words or fillers, nothing shorter than ``MIN_WORD``."""
    return _content_words(text or "")


@lru_cache(maxsize=50_000)
def _content_words(text: str) -> frozenset[str]:
    """Cached by text: a profile's words are read by every other member's /network, and rarely change."""
    return frozenset(word for word in words(text)
                     if len(word) >= MIN_WORD and word not in STOPWORDS and word not in FILLER)


@dataclass(frozen=True)
class Match:
    """Another member seen from the caller: what each can do for the other, and why they rank where they do."""

    profile: Profile
    they_offer: tuple[str, ...]  # tags they offer that the caller needs
    they_need: tuple[str, ...]  # tags they need that the caller offers
    text_for_me: int  # percent of the caller's needs text met by what they offer (text and tag labels)
    text_for_them: int  # percent of their needs text met by what the caller offers
    same_region: bool

    @property
    def helps_me(self) -> bool:
        return bool(self.they_offer) or self.text_for_me >= TEXT_HELPS

    @property
    def i_help(self) -> bool:
        return bool(self.they_need) or self.text_for_them >= TEXT_HELPS

    @property
    def reciprocal(self) -> bool:
        return self.helps_me and self.i_help

    @property
    def text_score(self) -> int:
        return max(self.text_for_me, self.text_for_them)

    def rank_key(self) -> tuple[bool, int, int, bool, int, int]:
        """Sorted descending: reciprocity, tag overlap, text (in steps), same region, exact text, oldest."""
        return (self.reciprocal, len(self.they_offer) + len(self.they_need), self.text_score // TEXT_STEP,
                self.same_region, self.text_score, -self.profile.user_id)


class _WordMatcher:
    """Which words of a vocabulary are close to each query word (rapidfuzz ``ratio`` ≥ ``TEXT_HIT``), computed
    once per query over the distinct words of every profile, instead of once per profile."""

    def __init__(self, query: frozenset[str], vocabulary: set[str]) -> None:
        self.query = sorted(query)
        self.near: list[set[str]] = [{word} for word in self.query]
        choices = sorted(vocabulary)
        for word, near in zip(self.query, self.near, strict=True):
            found = process.extract(word, choices, scorer=fuzz.ratio, score_cutoff=TEXT_HIT, limit=None)
            near.update(choice for choice, _score, _index in found)
        self.any_near: frozenset[str] = frozenset().union(*self.near)

    def percent_met(self, document: frozenset[str]) -> int:
        """How much of the query ``document`` meets, in percent of the query's words."""
        if not self.query or not document:
            return 0
        met = sum(1 for near in self.near if not near.isdisjoint(document))
        return round(100 * met / len(self.query))


def rank(me: Profile, others: Sequence[Profile], vocabulary: NetworkVocabulary) -> list[Match]:
    """The members who can help ``me`` or whom ``me`` can help, best first (see the module's docstring)."""
    my_needs, my_offers = set(me.needs or ()), set(me.offers or ())
    their_offer_docs = {p.user_id: content_words(f"{p.offers_text or ''} {vocabulary.tag_words(p.offers or ())}")
                        for p in others}
    their_need_docs = {p.user_id: content_words(p.needs_text) for p in others}
    for_me = _WordMatcher(content_words(me.needs_text), set().union(*their_offer_docs.values()))
    my_offer_doc = content_words(f"{me.offers_text or ''} {vocabulary.tag_words(me.offers or ())}")
    for_them = _WordMatcher(my_offer_doc, set().union(*their_need_docs.values()))
    matches = []
    for other in others:
        if other.user_id == me.user_id:
            continue
        match = Match(
            profile=other,
            they_offer=tuple(tag for tag in other.offers or () if tag in my_needs),
            they_need=tuple(tag for tag in other.needs or () if tag in my_offers),
            text_for_me=for_me.percent_met(their_offer_docs[other.user_id]),
            # their needs, met by what I offer: the share of *their* words I meet
            text_for_them=_percent_of(their_need_docs[other.user_id], for_them),
            same_region=bool(me.region) and other.region == me.region,
        )
        if match.helps_me or match.i_help:
            matches.append(match)
    return sorted(matches, key=Match.rank_key, reverse=True)


def _percent_of(needs: frozenset[str], offered: _WordMatcher) -> int:
    """Percent of ``needs`` words close to some word of what ``offered`` holds (the matcher's query)."""
    if not needs or not offered.query:
        return 0
    return round(100 * len(needs & offered.any_near) / len(needs))


async def listed_profiles(session: AsyncSession) -> list[Profile]:
    """Profiles other members may see: not hidden, of members who consented (and were not forgotten)."""
    query = (select(Profile).join(User, User.id == Profile.user_id)
             .where(Profile.hidden.is_(False), User.consent_at.is_not(None)))
    return [profile for profile in await session.scalars(query) if is_ready(profile)]


async def matches_for(session: AsyncSession, me: Profile, vocabulary: NetworkVocabulary) -> list[Match]:
    return rank(me, await listed_profiles(session), vocabulary)


async def match_between(session: AsyncSession, me: Profile, other_id: int,
                        vocabulary: NetworkVocabulary) -> Match | None:
    """``other_id`` seen from ``me``, if they are listed and one can help the other: a button naming any
    other member (forged, or from a list shown before they hid their profile) finds nobody."""
    other = await session.get(Profile, other_id)
    if other is None or other.hidden or not is_ready(other) or other.user_id == me.user_id:
        return None
    owner = await session.get(User, other_id)
    if owner is None or owner.consent_at is None:
        return None
    found = rank(me, [other], vocabulary)
    return found[0] if found else None


# -- introductions ----------------------------------------------------------------------------------------

RequestOutcome = Literal["created", "pending", "connected", "declined", "limited"]


@dataclass(frozen=True)
class Requested:
    outcome: RequestOutcome
    introduction: Introduction | None = None
    retry_at: datetime | None = None  # when "limited": the time the oldest request in the window leaves it


async def between(session: AsyncSession, a: int, b: int) -> list[Introduction]:
    """Every introduction between ``a`` and ``b``, whoever asked, newest first."""
    query = (select(Introduction)
             .where(or_((Introduction.requester_id == a) & (Introduction.target_id == b),
                        (Introduction.requester_id == b) & (Introduction.target_id == a)))
             .order_by(Introduction.created_at.desc(), Introduction.id.desc()))
    return list(await session.scalars(query))


async def request_introduction(session: AsyncSession, requester: User, target: User, now: datetime,
                               per_day: int) -> Requested:
    """Record ``requester``'s request to meet ``target`` unless they are already connected or waiting, the
    target declined them before (asking again would be pressing them), or the requester reached the day's
    limit. The caller tells the target, in the same transaction."""
    earlier = await between(session, requester.id, target.id)
    if any(intro.status == "accepted" for intro in earlier):
        return Requested("connected", next(i for i in earlier if i.status == "accepted"))
    if any(intro.status == "pending" for intro in earlier):
        return Requested("pending", next(i for i in earlier if i.status == "pending"))
    if any(intro.status == "declined" and intro.requester_id == requester.id for intro in earlier):
        return Requested("declined")
    since = now - INTRODUCTION_WINDOW
    window = select(Introduction.created_at).where(Introduction.requester_id == requester.id,
                                                   Introduction.created_at > since)
    recent = sorted(await session.scalars(window))
    if len(recent) >= per_day:
        return Requested("limited", retry_at=recent[len(recent) - per_day] + INTRODUCTION_WINDOW)
    introduction = Introduction(requester_id=requester.id, target_id=target.id, status="pending", created_at=now)
    session.add(introduction)
    await session.flush()
    return Requested("created", introduction)


async def pending_for_target(session: AsyncSession, introduction_id: str, target: User) -> Introduction | None:
    """The pending introduction with this id addressed to ``target``, locked for the answer; None for any
    other id (someone else's, already answered, or forged): pressing such a button changes nothing."""
    if not introduction_id.isdigit():
        return None
    introduction = await session.get(Introduction, int(introduction_id), with_for_update=True)
    if introduction is None or introduction.target_id != target.id or introduction.status != "pending":
        return None
    return introduction


async def requests_waiting(session: AsyncSession, target: User) -> list[Introduction]:
    query = (select(Introduction).where(Introduction.target_id == target.id, Introduction.status == "pending")
             .order_by(Introduction.created_at))
    return list(await session.scalars(query))


# -- what coordinators see ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkFigures:
    profiles: int
    hidden: int
    offers: Counter[str]  # tag → profiles offering it
    needs: Counter[str]
    regions: Counter[str]  # region → profiles
    region_offers: Counter[str]  # region → tags offered there (one per profile and tag)
    region_needs: Counter[str]
    introductions: Counter[str]  # status → count

    @property
    def unmet(self) -> list[tuple[str, int]]:
        """Tags needed that nobody offers, most needed first: whom the network should recruit."""
        return sorted(((tag, count) for tag, count in self.needs.items() if not self.offers.get(tag)),
                      key=lambda pair: (-pair[1], pair[0]))


async def figures(session: AsyncSession) -> NetworkFigures:
    """Offers and needs of every complete profile, hidden ones included (hiding keeps a member out of
    others' lists, not out of the network's own counts), of members who consented."""
    query = select(Profile).join(User, User.id == Profile.user_id).where(User.consent_at.is_not(None))
    offers: Counter[str] = Counter()
    needs: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    region_offers: Counter[str] = Counter()
    region_needs: Counter[str] = Counter()
    count = hidden = 0
    for profile in await session.scalars(query):
        if not is_ready(profile):
            continue
        count += 1
        hidden += profile.hidden
        region = profile.region or "?"
        regions[region] += 1
        offers.update(set(profile.offers or ()))
        needs.update(set(profile.needs or ()))
        region_offers[region] += len(set(profile.offers or ()))
        region_needs[region] += len(set(profile.needs or ()))
    statuses = await session.execute(select(Introduction.status, func.count()).group_by(Introduction.status))
    introductions: Counter[str] = Counter({status: int(number) for status, number in statuses.all()})
    return NetworkFigures(count, hidden, offers, needs, regions, region_offers, region_needs, introductions)
