"""The mutual-aid network as members see it: a profile in a few steps, who can help whom (reciprocity first),
and introductions that share contacts only once accepted, on both databases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import Introduction, Profile, User
from bot.messages import Incoming, Reply
from bot.services import network
from tests.harness import ChatHarness

TAGS_FILE = PROJECT_ROOT / "handlers" / "network_tags.yaml"


class Transcript:
    """Every reply the engine gives and every message the outbox sends, to every user: a contact must not
    appear in any of them before the introduction is accepted."""

    def __init__(self, bot: ChatHarness) -> None:
        self.bot = bot
        self.seen: list[tuple[str, str]] = []  # (user, text with the button labels)
        handle: Callable[[Incoming, Any], Awaitable[list[Reply]]] = bot.app.engine.handle

        async def recording(incoming: Incoming, within: Any = None) -> list[Reply]:
            replies = await handle(incoming, within)
            self.seen += [(incoming.user_id, _shown(reply)) for reply in replies]
            return replies

        bot.app.engine.handle = recording  # type: ignore[method-assign]

    async def deliver(self) -> None:
        """Send what the outbox holds, and keep it in the transcript."""
        before = len(self.bot.output.sent)
        while await self.bot.app.outbox.send_due():
            pass
        self.seen += [(user, _shown(reply)) for user, reply in self.bot.output.sent[before:]]

    def to(self, user: str) -> str:
        return "\n".join(text for who, text in self.seen if who == user)

    def leaks(self, **owners: str) -> list[tuple[str, str]]:
        """Messages showing a contact of ``ANA``/``BEA`` (the constants' names) to someone who is not its owner."""
        contacts = {"ANA": ANA_CONTACT, "BEA": BEA_CONTACT}
        return [(who, text) for name, owner in owners.items() for who, text in self.holding(*contacts[name])
                if who != owner]

    def holding(self, *values: str) -> list[tuple[str, str]]:
        return [(who, text) for who, text in self.seen if any(value.casefold() in text.casefold() for value in values)]


def _shown(reply: Reply) -> str:
    return "\n".join([reply.text, *(button.label for button in reply.button_list)])


@pytest.fixture
def transcript(bot: ChatHarness) -> Transcript:
    return Transcript(bot)


async def make_profile(bot: ChatHarness, user: str, *, kind: str = "enterprise", region: str = "leon",
                       offers: tuple[str, ...] = (), offers_text: str | None = None, needs: tuple[str, ...] = (),
                       needs_text: str | None = None, contact: str | None = None, lang: str = "es") -> None:
    """A member (agreeing to the notice first, if new) makes a profile through the chat, with buttons where a
    person would."""
    await bot.send("/start", user=user, lang=lang)
    if any(button.payload == "consent:yes" for reply in bot.replies[user] for button in reply.button_list):
        await bot.press("consent:yes", user=user)
    await bot.send("/profile", user=user)
    await bot.press(f"net:kind:{kind}", user=user)
    await bot.press("net:name_default", user=user)
    await bot.press(f"net:region:{region}", user=user)
    for side, tags, text in (("offers", offers, offers_text), ("needs", needs, needs_text)):
        for tag in tags:
            await bot.press(f"net:toggle:{side}:{tag}", user=user)
        await bot.press(f"net:done:{side}", user=user)
        if text is None:
            await bot.press(f"net:skip:{side}_text", user=user)
        else:
            await bot.send(text, user=user)
    await bot.send(contact or f"{user}@example.org", user=user)
    assert "✅" in " ".join(bot.labels(user)), bot.text_of(user)  # the summary, with "done"
    await bot.press("net:finish", user=user)


async def profile_of(bot: ChatHarness, user: str) -> Profile:
    async with bot.app.sessions() as session:
        found = await session.scalar(select(Profile).join(User, User.id == Profile.user_id)
                                     .where(User.external_id == user))
        assert found is not None
        return found


async def user_id(bot: ChatHarness, user: str) -> int:
    async with bot.app.sessions() as session:
        found = await session.scalar(select(User.id).where(User.external_id == user))
        assert found is not None
        return found


# -- the profile -----------------------------------------------------------------------------------------------


async def test_a_profile_in_a_few_steps_shown_as_others_see_it(bot):
    await bot.onboard()
    await bot.send("/profile")
    assert "Tus datos de contacto no se muestran a nadie" in bot.last_text
    assert "1/8 · ¿Quién eres?" in bot.last_text
    assert bot.labels() == ["🙋 Persona", "🏭 Empresa o cooperativa", "🤲 Asociación", "🏛️ Entidad pública"]
    await bot.press("Asociación")
    assert "2/8" in bot.last_text and bot.labels() == ["Usar «Ana»"]
    await bot.send("Asociación Apícola del Bierzo")
    await bot.send("Madrid")
    assert "«Madrid» no es una de las opciones" in bot.last_text and "3/8" in bot.last_text
    await bot.send("leon (espana)")  # typed instead of pressed: a label, without its accents
    assert "4/8 · ¿Qué puedes ofrecer" in bot.last_text
    await bot.press("Formación")
    assert "✅ Formación" in bot.labels() and "✔️ Listo (1)" in bot.labels()
    await bot.press("Formación")  # unmarked again
    assert "Formación" in bot.labels() and "✔️ Listo (0)" in bot.labels()
    await bot.send("formación, mentoría, cursos de apicultura ecológica")  # tags by name, the rest kept as words
    assert "Guardé «cursos de apicultura ecológica»" in bot.last_text
    assert {"✅ Formación", "✅ Mentoría"} <= set(bot.labels())
    await bot.press("Listo")
    assert "6/8 · ¿Qué necesitas" in bot.last_text  # the words already say what is offered
    await bot.press("Local o espacio")
    await bot.press("Listo")
    await bot.send("Una nave pequeña para extraer y envasar miel")
    assert "8/8" in bot.last_text and "Nadie más lo verá" in bot.last_text
    await bot.send("no tengo")
    assert "Necesito un correo electrónico o un teléfono" in bot.last_text
    await bot.send("apicola@bierzo.example, +34 987 654 321")
    summary = bot.last_text
    assert "Asociación Apícola del Bierzo · 🤲 Asociación · León (España)" in summary
    assert "Ofrece: Formación, Mentoría · «cursos de apicultura ecológica»" in summary
    assert "Necesita: Local o espacio de trabajo · «Una nave pequeña para extraer y envasar miel»" in summary
    assert "apicola@bierzo.example · +34 987 654 321" in summary  # its owner sees the contact
    assert "visible para los miembros" in summary
    await bot.press("Ocultar")
    assert "tu perfil está oculto" in bot.last_text
    await bot.press("Mostrar")
    assert "vuelve a estar visible" in bot.last_text
    await bot.press("✏️ Región")
    assert "Ahora: León (España)" in bot.last_text
    await bot.press("Cantabria")
    assert "Cantabria (España)" in bot.last_text and "Tu perfil, tal como lo ven" in bot.last_text
    await bot.press("Terminado")
    assert "¡Tu perfil está listo!" in bot.last_text
    profile = await profile_of(bot, "ana")
    assert (profile.kind, profile.region, profile.offers, profile.needs) == (
        "association", "cantabria", ["training", "mentoring"], ["premises"])
    assert profile.contact == {"email": "apicola@bierzo.example", "phone": "+34 987 654 321"}


async def test_contact_details_never_go_in_what_every_member_sees(bot):
    await bot.onboard()
    await bot.send("/profile")
    await bot.press("Persona")
    for text, what in [("Ana ana@mail.example", "un correo electrónico"), ("Ana @anita_coop", "un usuario"),
                       ("Ana 600 111 222", "un número de teléfono"), ("Ana www.anacoop.org", "un enlace")]:
        await bot.send(text)
        assert f"Veo {what}" in bot.last_text, text
        assert "2/8" in bot.last_text  # the same question again
    await bot.send("Ana Pérez, 16 años en la cooperativa desde 2009")  # numbers are fine
    assert "3/8" in bot.last_text
    await bot.press("León")
    await bot.press("Listo")
    await bot.send("x" * 301)
    assert "Tiene 301 caracteres y el máximo es 300" in bot.last_text
    await bot.send(attachment=None, text=None, payload="net:toggle:offers:web")  # a button of a past question
    assert "caducó" in bot.last_text and "5/8" in bot.last_text
    async with bot.app.sessions() as session:
        profile = await session.scalar(select(Profile))
    assert profile is not None and profile.name == "Ana Pérez, 16 años en la cooperativa desde 2009"


async def test_network_needs_consent_then_a_profile(bot):
    await bot.send("/network")
    assert "¿Estás de acuerdo?" in bot.last_text  # the consent guard
    await bot.press("Acepto")
    await bot.press("Continuar")
    assert "necesito tu perfil" in bot.last_text
    await bot.press("Hacer mi perfil")
    assert "1/8" in bot.last_text


# -- matching ------------------------------------------------------------------------------------------------


async def test_reciprocal_pairs_come_first_then_tags_text_and_region(bot):
    await make_profile(bot, "ana", offers=("web", "training"), needs=("funding", "legal"),
                       needs_text="busco financiación para comprar maquinaria")
    await make_profile(bot, "bea", region="cantabria", offers=("funding",), needs=("web",))  # helps both ways
    await make_profile(bot, "carlos", region="leon", offers=("funding", "legal"))  # two tags, one way
    await make_profile(bot, "dani", region="leon", offers=("legal",))  # one tag, same region as ana
    await make_profile(bot, "eva", region="jalisco", offers=("legal",))  # one tag, elsewhere
    await make_profile(bot, "fede", region="jalisco", offers_text="Asesoro sobre financiacion y maquinarias")
    await make_profile(bot, "gus", offers=("premises",), needs=("equipment",))  # nothing in common
    await make_profile(bot, "hana", offers=("funding",), needs=("web",))  # reciprocal, but hidden
    await bot.send("/profile", user="hana")
    await bot.press("net:visibility", user="hana")

    await bot.send("/network", user="ana")
    text = bot.text_of("ana")
    order = [name for name in ("Bea", "Carlos", "Dani", "Eva", "Fede") if name in text]
    assert order == ["Bea", "Carlos", "Dani", "Eva", "Fede"]
    assert sorted(order, key=text.index) == order
    assert "Gus" not in text and "Hana" not in text
    assert "Encontré 5 miembro(s)" in text
    assert "🔁 Bea" in text and "🔁 Carlos" not in text
    assert "Te puede ayudar con: Financiación y subvenciones" in text
    assert "Tú le puedes ayudar con: Web y redes sociales" in text
    assert "Ofrece algo parecido a lo que necesitas" in text  # Fede, by the words alone
    assert bot.labels("ana")[:5] == [f"🤝 {n}. Presentarme a {name}" for n, name in
                                     enumerate(["Bea", "Carlos", "Dani", "Eva", "Fede"], start=1)]


def profile(user_id: int, **values: object) -> Profile:
    defaults: dict[str, object] = {"kind": "person", "name": f"m{user_id}", "region": "leon", "offers": [],
                                   "needs": [], "contact": {"email": "x@y.org"}, "hidden": False}
    return Profile(user_id=user_id, **(defaults | values))


def test_free_text_meets_with_typos_accents_and_plurals():
    vocabulary = network.load_vocabulary(TAGS_FILE)
    me = profile(1, needs_text="Necesito diseño web para mi tienda", offers_text="Clases de contabilidad")
    web = profile(2, offers_text="Diseno de webs y tiendas online")
    accounts = profile(3, needs_text="alguien que lleve la contabilidad")
    tags_only = profile(4, offers=["web"])  # the tag's label meets the words too
    nothing = profile(5, offers_text="Alquilo furgoneta", needs_text="Busco local")
    ranked = network.rank(me, [web, accounts, tags_only, nothing], vocabulary)
    by_id = {match.profile.user_id: match for match in ranked}
    assert set(by_id) == {2, 3, 4}
    assert by_id[2].helps_me and by_id[2].text_for_me >= network.TEXT_HELPS
    assert by_id[3].i_help and not by_id[3].helps_me
    assert by_id[4].helps_me


def test_ranking_order_is_reciprocity_then_overlap_then_text_then_region():
    vocabulary = network.load_vocabulary(TAGS_FILE)
    me = profile(1, offers=["web", "training"], needs=["funding", "legal", "premises"], region="leon")
    candidates = [
        profile(2, offers=["funding", "legal", "premises"], region="leon"),  # 3 tags, one way
        profile(3, offers=["funding"], needs=["training"], region="jalisco"),  # reciprocal, 2 tags
        profile(4, offers=["legal"], region="jalisco"),
        profile(5, offers=["legal"], region="leon"),  # same overlap as 4, same region
    ]
    assert [m.profile.user_id for m in network.rank(me, candidates, vocabulary)] == [3, 2, 5, 4]


# -- introductions -----------------------------------------------------------------------------------------------


ANA_CONTACT = ("ana.coop@example.org", "+34 600 111 222")
BEA_CONTACT = ("bea.miel@example.org", "+591 70012345")


async def test_contacts_are_exchanged_only_once_the_other_accepts(bot, transcript):
    await make_profile(bot, "ana", offers=("web",), needs=("funding",), contact=" ".join(ANA_CONTACT))
    await make_profile(bot, "bea", offers=("funding",), needs=("web",), contact=" ".join(BEA_CONTACT), lang="en")
    await make_profile(bot, "carlos", offers=("funding",), contact="carlos@example.org")
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")
    assert "Le pedí a Bea" in bot.text_of("ana")
    await transcript.deliver()
    request = transcript.to("bea")
    assert "A member of the network would like to meet you" in request  # in Bea's language
    assert "Ana · 🏭 Enterprise or cooperative · León (Spain)" in request
    [intro] = await introductions(bot)
    assert intro.status == "pending"

    # Nobody but Bea can accept: not Ana pressing a forged button, not Carlos; nothing changes, nothing is sent.
    for forger in ("ana", "carlos"):
        await bot.send(payload=f"net:accept:{intro.id}", user=forger)
        assert "no es para ti" in bot.text_of(forger)
    await bot.send(payload="net:accept:99999", user="bea")
    await bot.send(payload="net:accept:1;drop", user="bea")
    await transcript.deliver()
    assert [i.status for i in await introductions(bot)] == ["pending"]
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")  # asking twice is not sent twice
    assert "estamos esperando su respuesta" in bot.text_of("ana")
    await transcript.deliver()
    assert transcript.to("bea").count("would like to meet you") == 1
    assert transcript.leaks(ANA="ana", BEA="bea") == []  # no contact shown to anyone else before acceptance

    await bot.send("/network", user="bea")  # the request waits in /network too, should the message be lost
    assert "would like to meet you" in bot.text_of("bea")
    await bot.press("Accept", user="bea")
    assert "Connected! Ana's contact: ana.coop@example.org · +34 600 111 222" in bot.text_of("bea")
    await transcript.deliver()
    assert "¡Bea aceptó la presentación! Su contacto: bea.miel@example.org · +591 70012345" in transcript.to("ana")
    assert {who for who, _ in transcript.holding(*ANA_CONTACT)} == {"ana", "bea"}
    assert {who for who, _ in transcript.holding(*BEA_CONTACT)} == {"ana", "bea"}  # and nobody else, ever

    await bot.send(payload=f"net:accept:{intro.id}", user="bea")  # the same button again
    assert "no longer pending" in bot.text_of("bea")
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")
    assert "Ya estás en contacto con Bea: bea.miel@example.org" in bot.text_of("ana")
    assert [i.status for i in await introductions(bot)] == ["accepted"]


async def test_a_declined_introduction_shares_nothing_and_is_not_asked_again(bot, transcript):
    await make_profile(bot, "ana", offers=("web",), needs=("funding",), contact=" ".join(ANA_CONTACT))
    await make_profile(bot, "bea", offers=("funding",), contact=" ".join(BEA_CONTACT))
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")
    await transcript.deliver()
    await bot.send("/network", user="bea")
    await bot.press("Ahora no", user="bea")
    assert "no compartí nada" in bot.text_of("bea")
    await transcript.deliver()
    assert "Bea no puede aceptar la presentación en este momento" in transcript.to("ana")
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")
    assert "no se la vuelvo a pedir" in bot.text_of("ana")
    await transcript.deliver()
    assert transcript.leaks(ANA="ana", BEA="bea") == []
    assert [i.status for i in await introductions(bot)] == ["declined"]


async def test_introductions_are_limited_per_member_and_day(bot, clock):
    await make_profile(bot, "ana", offers=("web",), needs=("funding",))
    for name in ("bea", "carlos", "dani", "eva"):
        await make_profile(bot, name, offers=("funding",))
    ids = {name: await user_id(bot, name) for name in ("bea", "carlos", "dani", "eva")}
    for name in ("bea", "carlos", "dani"):
        await bot.send(payload=f"net:intro:{ids[name]}", user="ana")
        assert "Le pedí a" in bot.text_of("ana")
        clock.advance(hours=1)
    await bot.send(payload=f"net:intro:{ids['eva']}", user="ana")
    assert "Ya pediste 3 presentaciones en las últimas 24 horas" in bot.text_of("ana")
    assert "21 horas" in bot.text_of("ana")  # the first request, 3 hours old, leaves the window in 21
    clock.advance(hours=21)
    await bot.send(payload=f"net:intro:{ids['eva']}", user="ana")
    assert "Le pedí a Eva" in bot.text_of("ana")
    assert len(await introductions(bot)) == 4


async def test_hidden_or_unknown_members_cannot_be_asked(bot, transcript):
    await make_profile(bot, "ana", offers=("web",), needs=("funding",))
    await make_profile(bot, "bea", offers=("funding",))
    bea = await user_id(bot, "bea")
    await bot.send("/profile", user="bea")
    await bot.press("net:visibility", user="bea")  # Bea hides after Ana saw her
    for payload in (f"net:intro:{bea}", "net:intro:424242", "net:intro:abc", f"net:intro:{await user_id(bot, 'ana')}"):
        await bot.send(payload=payload, user="ana")
        assert "ya no está disponible" in bot.text_of("ana"), payload
    await transcript.deliver()
    assert transcript.to("bea").count("quiere conocerte") == 0
    assert await introductions(bot) == []


async def introductions(bot: ChatHarness) -> list[Introduction]:
    async with bot.app.sessions() as session:
        return list(await session.scalars(select(Introduction).order_by(Introduction.id)))


# -- what coordinators see, and the vocabulary file -------------------------------------------------------------


async def test_stats_show_offers_and_needs_by_tag_and_region_and_needs_nobody_offers(bot):
    await make_profile(bot, "ana", offers=("web", "training"), needs=("funding", "premises"))
    await make_profile(bot, "bea", region="cantabria", offers=("funding",), needs=("premises", "logistics"))
    await make_profile(bot, "carlos", region="cantabria", offers=("web",), needs=("premises",))
    await bot.send("/network", user="ana")
    await bot.press("Presentarme a Bea", user="ana")
    async with bot.app.sessions() as session:
        figures = await network.figures(session)
    assert figures.profiles == 3 and figures.offers["web"] == 2 and figures.needs["premises"] == 3
    assert figures.unmet == [("premises", 3), ("logistics", 1)]
    await bot.send("/stats", user="ana")
    assert "No conozco el comando /stats" in bot.text_of("ana")  # a refused call reveals nothing
    await bot.onboard(user="coord", lang="en")  # an admin from the settings
    await bot.send("/stats", user="coord")
    text = bot.text_of("coord")
    assert "📊 Network: what is offered (3 profiles)\n• Website and social media: 2\n• Funding and grants: 1\n" \
           "• Training: 1" in text  # most first, ties in the vocabulary's order
    assert "📊 Needs nobody offers (whom to bring in)\n• Premises or workspace: 3\n• Transport and logistics: 1" in text
    assert "• Cantabria (Spain): offers: 2\n• Cantabria (Spain): needs: 3" in text
    assert "📊 Introductions between members\n• pending: 1" in text
    assert any(reply.picture is not None for reply in bot.replies["coord"])  # the chart has the panels too


def test_the_vocabulary_file_names_every_problem(tmp_path: Path):
    broken = tmp_path / "tags.yaml"
    broken.write_text(TAGS_FILE.read_text(encoding="utf-8").replace('en: "Business plan"', 'fr: "Plan"')
                      .replace("value: legal,", "value: Legal Advice,").replace("max_tags: 6", "max_tags: 0"))
    with pytest.raises(network.NetworkFileError) as error:
        network.load_vocabulary(broken)
    message = str(error.value)
    assert "3 problem(s)" in message
    assert "tags.0.label" in message and "missing the text in en" in message
    assert "tags.1.value" in message and "limits.max_tags" in message
    broken.write_text("kinds: [")
    with pytest.raises(network.NetworkFileError, match="not valid YAML"):
        network.load_vocabulary(broken)


async def test_a_broken_vocabulary_at_reload_keeps_the_loaded_one(bot, tmp_path: Path):
    broken = tmp_path / "tags.yaml"
    broken.write_text("name: {es: x}\n")
    bot.app.settings.network_tags_file = broken
    await bot.app.engine.reload_content()
    assert len(bot.app.engine.content(network.NetworkVocabulary).tags) == 18


def test_two_people_in_two_terminals_meet_through_the_console(tmp_path: Path):
    """``lideres chat`` on one database, as two people: the outbox's messages reach each terminal's own user."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LIDERES_")}
    env["LIDERES_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"

    def chat(user: str, lang: str, *lines: str) -> str:
        result = subprocess.run([sys.executable, "-m", "bot", "chat", "--user", user, "--lang", lang],
                                input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, timeout=120,
                                cwd=PROJECT_ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout

    chat("ana", "es", "/start", "Acepto", "/profile", "Empresa o cooperativa", "Cooperativa La Colmena", "León",
         "Web y redes sociales", "listo", "Diseñamos webs", "Financiación y subvenciones", "listo", "Nada que añadir",
         "hola@lacolmena.example", "Terminado")
    out = chat("bea", "en", "/start", "I agree", "/profile", "Association", "Mujeres del Bierzo", "León",
               "Funding and grants", "done", "Nothing to add", "Website and social media", "done", "Nothing to add",
               "bea@bierzo.example", "Done", "/network", "1")
    assert "🔁 Cooperativa La Colmena" in out and "I asked Cooperativa La Colmena" in out
    assert "lacolmena.example" not in out
    out = chat("ana", "es", "Aceptar")
    assert out.startswith("📬\n🤝 Un miembro de la red quiere conocerte") and "Mujeres del Bierzo" in out
    assert "¡Conectados! El contacto de Mujeres del Bierzo: bea@bierzo.example" in out
    out = chat("bea", "en", "/menu")
    assert "Cooperativa La Colmena accepted the introduction! Their contact: hola@lacolmena.example" in out
    assert chat("bea", "en", "/menu").count("📬") == 0  # shown once
