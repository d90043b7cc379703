"""Mentoring in the chat, through the real engine and database (SQLite and PostgreSQL): a coordinator adds a
mentor, the mentor adds free times in their zone, an entrepreneur in another zone books one and both get a
confirmation with a calendar file in their own language and zone; either side cancels or changes the time;
when no mentor fits, the request goes to the coordinators as before booking existed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.db.models import Delivery, MentoringSession, Submission, Unanswered, User
from tests.mentoring_support import (
    add_mentor,
    add_slots,
    event_of,
    labels,
    plain,
    press_incoming,
    reminders_of,
    said,
    sent_to,
    slots_of,
    texts,
)

THU_17_MADRID = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 12:00 in La Paz, 10:00 in Mexico City


# -- no mentor fits: the coordinators, as before --------------------------------------------------------------


async def test_without_free_times_the_request_reaches_coordinators_and_the_answer_comes_back(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard()
    await bot.press("Mentorías")
    assert "ningún mentor tiene horarios libres" in said(bot) and "qué mentoría necesitas" in said(bot)
    await bot.send("finanzas")
    assert "al menos 10 caracteres" in said(bot)  # asked again, nothing sent yet
    await bot.send("Finanzas para mi cooperativa de miel; puedo los martes por la tarde 🐝")
    assert "solicitud de mentoría (n.º 1)" in said(bot)
    assert texts(await sent_to(bot, "coord")) == [
        "New question no. 1 from Ana:\n\"[Mentoría] Finanzas para mi cooperativa de miel; puedo los martes por la"
        " tarde 🐝\"\nReply with /answer 1 your answer"
    ]
    await bot.send("/answer 1 Te escribe Laura el martes 3 a las 17:00", user="coord")
    assert "Laura el martes 3" in (await sent_to(bot, "ana"))[-1].text


async def test_cancel_leaves_without_sending_and_consent_comes_first(bot):
    await bot.send("/mentoring")
    assert "¿Estás de acuerdo?" in said(bot)
    await bot.press("Acepto")
    await bot.press("Continuar donde estaba")
    assert "qué mentoría necesitas" in said(bot)
    await bot.send("/cancel")
    await bot.send("Finanzas para mi cooperativa de miel, los martes")  # after /cancel: not a request
    assert "solicitud de mentoría" not in said(bot)
    async with bot.app.sessions() as session:
        assert (await session.scalars(select(Unanswered))).all() == []


# -- the whole way, as people do it -------------------------------------------------------------------------------


async def test_coordinator_adds_a_mentor_who_adds_a_time_and_an_entrepreneur_elsewhere_books_it(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard(user="laura", lang="en")
    await bot.send("/mentors", user="coord")
    assert "No mentors yet" in said(bot, "coord")
    await bot.press("Add a mentor", user="coord")
    await bot.send("laura", user="coord")
    assert "is not channel:id" in said(bot, "coord")  # the same question again
    await bot.send("test:laura", user="coord")
    await bot.send("Laura Pérez", user="coord")
    await bot.send("Finanzas, marketing digital, finanzas", user="coord")
    await bot.press("Both", user="coord")
    await bot.send("Europe/Nowhere", user="coord")
    assert "I don't know the time zone “Europe/Nowhere”" in said(bot, "coord")
    await bot.press("Spain (Madrid) Time", user="coord")
    assert "Laura Pérez is now a mentor" in said(bot, "coord")
    told = texts(await sent_to(bot, "laura"))
    assert told == ["🤝 Hello Laura Pérez! The coordinators added you as a mentor of the network (Finanzas, "
                    "marketing digital). Add your free times with /slots; I'll tell you about every booking."]

    await bot.send("/slots", user="laura")
    assert "Your times, in Spain (Madrid) Time" in said(bot, "laura")
    await bot.press("Add a free time", user="laura")
    await bot.send("mañana por la tarde", user="laura")
    assert "I can't read “mañana por la tarde” as a day and time" in said(bot, "laura")
    await bot.send("20/11 17:00", user="laura")  # without a year: the next 20 November, a year ahead: fine
    assert "How long is it?" in said(bot, "laura")
    await bot.send("/cancel", user="laura")  # nothing added: the time is only kept in the conversation
    await bot.send("/slots", user="laura")
    assert "None yet" in said(bot, "laura")
    await bot.press("Add a free time", user="laura")
    await bot.send("2026-11-20 17:00", user="laura")
    assert "that time has passed" in said(bot, "laura")
    await bot.send("03/12 17:00", user="laura")
    assert "Thursday, December 3, 5:00 PM · Spain (Madrid) Time" in said(bot, "laura")
    await bot.send("500", user="laura")
    assert "the length must be 15 to 240 minutes" in said(bot, "laura")
    await bot.press("60 min", user="laura")
    await bot.press("Only that day", user="laura")
    assert "1 time(s) added" in said(bot, "laura")
    assert "Thursday, December 3, 5:00 PM–6:00 PM · Spain (Madrid) Time — free" in said(bot, "laura")

    await bot.onboard(user="ana", lang="es")
    await bot.press("Mentorías", user="ana")
    assert "¿Sobre qué tema" in said(bot, "ana")
    assert {"Finanzas", "marketing digital"} <= set(labels(bot, "ana"))
    await bot.press("Finanzas", user="ana")
    assert "¿En qué zona horaria estás?" in said(bot, "ana")  # asked once, with the network's zones
    assert labels(bot, "ana") == ["hora de Bolivia", "hora de México (Ciudad de México)", "hora de España (Madrid)"]
    await bot.press("hora de Bolivia", user="ana")
    text = said(bot, "ana")
    assert "te muestro las horas en hora de Bolivia" in text and "en hora de Bolivia. Elige uno" in text
    assert "jue 3 dic · 12:00 · Laura Pérez" in labels(bot, "ana")  # 17:00 in Madrid is 12:00 in La Paz
    await bot.press("jue 3 dic · 12:00", user="ana")
    assert "jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia" in said(bot, "ana")
    assert "habla: es, en" in said(bot, "ana")
    await bot.press("Reservar", user="ana")
    confirmation, calendar = bot.replies["ana"]
    assert confirmation.text.startswith("✅ ¡Reservada! Tu mentoría con Laura Pérez sobre «Finanzas»:\n"
                                        "🕐 jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia")
    event = event_of(calendar)
    assert event["start"] == THU_17_MADRID and event["end"] == THU_17_MADRID + timedelta(hours=1)
    assert event["method"] == "PUBLISH" and event["status"] == "CONFIRMED" and event["sequence"] == 0
    assert event["summary"] == "Mentoría con Laura Pérez: Finanzas"

    notice, mentor_calendar = (await sent_to(bot, "laura"))[-2:]
    assert plain(notice.text) == ("📌 New session: Ana booked you on “Finanzas”.\n🕐 Thursday, December 3, "
                                  "5:00 PM–6:00 PM · Spain (Madrid) Time\n\nYour sessions: /mysessions.")
    assert event_of(mentor_calendar)["uid"] == event["uid"] and event_of(mentor_calendar)["summary"] == \
        "Mentoring with Ana: Finanzas"
    await bot.send("/slots", user="laura")
    assert "5:00 PM–6:00 PM · Spain (Madrid) Time — 📌 Ana, “Finanzas”" in said(bot, "laura")
    await bot.send("/mysessions", user="laura")
    assert "you mentor Ana, “Finanzas”" in said(bot, "laura")
    await bot.send("/mentoring", user="ana")  # nothing else is free now
    assert "ningún mentor tiene horarios libres" in said(bot, "ana")


async def test_each_reader_sees_times_in_their_own_zone_and_language(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    for who, lang, zone, label in (
        ("ana", "es", "America/La_Paz", "jue 3 dic · 12:00 · Laura Pérez"),
        ("maria", "es", "America/Mexico_City", "jue 3 dic · 10:00 · Laura Pérez"),
        ("tom", "en", "Europe/Madrid", "Thu, Dec 3 · 5:00 PM · Laura Pérez"),
    ):
        await bot.onboard(user=who, lang=lang)
        await bot.send("/timezone Mars/Olympus_Mons", user=who)
        assert "Olympus_Mons" in said(bot, who) and len(labels(bot, who)) == 3  # the reason, and the zones again
        await bot.send(f"/timezone {zone}", user=who)
        await bot.send("/mentoring", user=who)
        await bot.press("Finanzas", user=who)
        assert labels(bot, who)[0] == label, who


async def test_a_weekly_series_keeps_the_mentors_wall_clock_across_the_change_to_summer_time(bot):
    """Madrid moves to summer time on 28 March 2027; La Paz has none, Mexico none since 2022: 10:00 in Madrid
    stays 10:00 for the mentor and moves an hour earlier for readers in America."""
    bot.clock.advance(days=100)  # early March 2027
    mentor = await add_mentor(bot)
    async with bot.app.sessions() as session, session.begin():
        from bot.db.models import Mentor
        from bot.services import mentoring

        added = await mentoring.add_slots(session, await session.get(Mentor, mentor),
                                          datetime(2027, 3, 18, 9, 0, tzinfo=UTC), 60, now=bot.clock.now(), count=3)
    assert [s.starts_at.hour for s in added.created] == [9, 9, 8]  # UTC: CET, CET, then CEST
    await bot.send("/slots", user="laura")
    assert said(bot, "laura").count("10:00 AM–11:00 AM · Spain (Madrid) Time — free") == 3
    await bot.onboard(user="ana")
    await bot.send("/timezone America/La_Paz", user="ana")
    await bot.send("/mentoring", user="ana")
    await bot.press("Finanzas", user="ana")
    assert [label.rsplit(" · ", 1)[0] for label in labels(bot, "ana")[:3]] == [
        "jue 18 mar · 5:00", "jue 25 mar · 5:00", "jue 1 abr · 4:00"]
    await bot.send("/timezone America/Mexico_City", user="ana")
    await bot.send("/mentoring", user="ana")
    await bot.press("Finanzas", user="ana")
    assert [label.rsplit(" · ", 1)[0] for label in labels(bot, "ana")[:3]] == [
        "jue 18 mar · 3:00", "jue 25 mar · 3:00", "jue 1 abr · 2:00"]


# -- one session per slot --------------------------------------------------------------------------------------


async def test_a_slot_cannot_be_booked_twice_even_by_two_people_pressing_at_the_same_moment(bot):
    mentor = await add_mentor(bot)
    slots = await add_slots(bot, mentor, THU_17_MADRID, count=4)
    for who in ("ana", "luis"):
        await bot.onboard(user=who)
        await bot.send("/timezone America/La_Paz", user=who)
        await bot.send("/mentoring", user=who)
        await bot.send("finanzas", user=who)  # typed instead of pressed
        assert "Horarios libres para «Finanzas»" in said(bot, who)
    for round_number, slot in enumerate(slots):  # both press "book" on the same time, truly at once
        replies = await asyncio.gather(*(
            bot.engine.handle(press_incoming(who, f"mentoring:book:{slot}", round_number))
            for who in ("ana", "luis")
        ))
        outcomes = sorted("Reservada" in replies[i][0].text for i in range(2))
        assert outcomes == [False, True], [r[0].text for r in replies]
        loser = next(r for r in replies if "Reservada" not in r[0].text)
        assert "¡Justo alguien reservó ese horario! Elige otro:" in loser[0].text  # and the times still free
        for who in ("ana", "luis"):  # back into the list for the next round
            await bot.send("/mentoring", user=who)
            if round_number < len(slots) - 1:
                await bot.press("Finanzas", user=who)
    async with bot.app.sessions() as session:
        booked = list(await session.scalars(select(MentoringSession.slot_id)))
        notices = await session.scalar(select(func.count()).select_from(Delivery)
                                       .where(Delivery.renderer == "mentoring.notice"))
    assert sorted(booked) == sorted(slots) and notices == len(slots)  # one session and one notice per slot


async def test_a_time_taken_meanwhile_a_forged_button_and_a_removed_slot_get_a_clear_answer(bot):
    mentor = await add_mentor(bot)
    first, second = await add_slots(bot, mentor, THU_17_MADRID, count=2)
    await bot.onboard(user="luis")
    await bot.onboard()
    await bot.send("/timezone America/La_Paz")
    await bot.send("/mentoring")
    await bot.press("Finanzas")
    await bot.press("jue 3 dic · 12:00")
    await bot.send("/timezone America/La_Paz", user="luis")
    await bot.send("/mentoring", user="luis")
    await bot.press("Finanzas", user="luis")
    await bot.send(payload=f"mentoring:book:{first}", user="luis")
    await bot.press("Reservar")  # Luis was faster
    assert "¡Justo alguien reservó ese horario! Elige otro:" in said(bot)
    assert labels(bot)[0] == "jue 10 dic · 12:00 · Laura Pérez"  # the list goes on with what is free
    for forged in ("mentoring:book:99999", "mentoring:book:abc", "mentoring:book:", "mentoring:slot:-1",
                   "mentoring:cancel:1", "mentoring:rate:1:5", "mentoring:rm:1", "mentoring:slots:1"):
        await bot.send(payload=forged)
        assert said(bot) and "error" not in said(bot).lower(), forged
    await bot.send("/mysessions")
    assert "No tienes mentorías próximas" in said(bot)  # Luis's session is not Ana's
    await bot.send("/slots", user="laura")
    await bot.press(f"mentoring:rm:{second}", user="laura")
    assert "Withdrawn: Thursday, December 10" in said(bot, "laura")
    await bot.send(payload=f"mentoring:book:{second}")
    assert "Ese horario ya no está disponible" in said(bot)


# -- cancel and change the time -------------------------------------------------------------------------------


async def book(bot, who: str = "ana", zone: str = "America/La_Paz", label: str = "jue 3 dic · 12:00") -> None:
    await bot.onboard(user=who)
    await bot.send(f"/timezone {zone}", user=who)
    await bot.send("/mentoring", user=who)
    await bot.press("Finanzas", user=who)
    await bot.press(label, user=who)
    await bot.press("Reservar", user=who)
    assert "Reservada" in said(bot, who)


async def test_the_entrepreneur_cancels_the_mentor_is_told_and_the_time_is_free_again(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    await book(bot)
    await sent_to(bot, "laura")
    await bot.send("/mysessions")
    assert "jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia — con Laura Pérez, «Finanzas»" in said(bot)
    await bot.press("Cancelar jue 3 dic")
    assert "¿Cancelo la mentoría con Laura Pérez" in said(bot)
    await bot.press("No, mantenerla")
    assert "Tus próximas mentorías" in said(bot)
    await bot.press("Cancelar jue 3 dic")
    await bot.press("Sí, cancelar")
    assert event_of(bot.replies["ana"][-1])["method"] == "CANCEL"
    notice, calendar = (await sent_to(bot, "laura"))[-2:]
    assert plain(notice.text) == ("❌ Your session with Ana on “Finanzas” (Thursday, December 3, 5:00 PM–6:00 PM · "
                                  "Spain (Madrid) Time) is cancelled; cancelled by Ana.")
    assert event_of(calendar)["status"] == "CANCELLED" and event_of(calendar)["sequence"] == 1
    assert all(r.status == "cancelled" for r in await reminders_of(bot))
    await bot.onboard(user="luis")
    await bot.send("/mentoring", user="luis")
    await bot.press("Finanzas", user="luis")
    await bot.press("hora de Bolivia", user="luis")
    assert "jue 3 dic · 12:00 · Laura Pérez" in labels(bot, "luis")  # free again


async def test_the_mentor_moves_the_session_and_reminders_follow(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    later = await add_slots(bot, mentor, THU_17_MADRID + timedelta(days=1, hours=1))
    await book(bot)
    before = {(r.kind, r.user_id): r.due_at for r in await reminders_of(bot) if r.status == "pending"}
    await bot.send("/mysessions", user="laura")
    await bot.press("Move Thu, Dec 3", user="laura")
    assert "Which time shall I move it to?" in said(bot, "laura")
    await bot.press(f"mentoring:moveto:1:{later[0]}", user="laura")
    assert "the session with Ana is now Friday, December 4, 6:00 PM–7:00 PM" in said(bot, "laura")
    notice, calendar = (await sent_to(bot, "ana"))[-2:]
    assert plain(notice.text).startswith("🔁 Nueva hora para tu mentoría con Laura Pérez sobre «Finanzas» (la cambió "
                                         "Laura Pérez).\n"
                                  "Ahora: viernes 4 de diciembre, 13:00–14:00 · hora de Bolivia\n"
                                  "Antes: jueves 3 de diciembre, 12:00 · hora de Bolivia")
    assert event_of(calendar)["sequence"] == 1 and event_of(calendar)["start"] == THU_17_MADRID + timedelta(hours=25)
    after = {(r.kind, r.user_id): r.due_at for r in await reminders_of(bot) if r.status == "pending"}
    assert after.keys() == before.keys()
    assert all(after[key] - before[key] == timedelta(hours=25) for key in after)
    slots = await slots_of(bot, mentor)
    assert [s.status for s in slots] == ["open", "open"]  # the first time is free again


async def test_a_coordinator_assigns_a_session_from_a_request(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.onboard()
    await bot.send("/mentoring")
    await bot.send("Necesito ayuda con los costes de mi panadería")
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    await bot.send("/assign 1", user="ana")  # the role is checked on every call
    assert "A session for" not in said(bot) and "Ana" not in said(bot)
    await bot.send("/assign 1", user="coord")
    assert "A session for Ana. With whom?" in said(bot, "coord")
    await bot.press("Laura Pérez", user="coord")
    await bot.press("Thu, Dec 3", user="coord")
    await bot.press("Marketing", user="coord")
    assert "Booked: Ana with Laura Pérez" in said(bot, "coord")
    assert (await sent_to(bot, "ana"))[-2].text.startswith("📌 La coordinación te reservó una mentoría con Laura Pérez")
    assert (await sent_to(bot, "laura"))[-2].text.startswith(
        "📌 The coordinators assigned you a session with Ana on “Marketing”")
    async with bot.app.sessions() as session:
        request = await session.get(Unanswered, 1)
        ana = await session.scalar(select(User).where(User.external_id == "ana"))
    assert request.status == "answered" and ana.timezone is None  # never asked: times shown in the mentor's zone


async def test_when_only_finalists_book_others_can_still_write_to_the_coordinators(database_url, clock):
    from bot.app import App
    from bot.config import load_settings
    from tests.harness import ChatHarness

    settings = load_settings(database_url=database_url, admins="test:coord", mentoring_open_to="finalists")
    bot = ChatHarness(await App.create(settings, clock=clock, migrate=False), clock)
    try:
        mentor = await add_mentor(bot)
        slots = await add_slots(bot, mentor, THU_17_MADRID)
        await bot.onboard()
        await bot.send("/mentoring")
        assert "son para los proyectos finalistas" in said(bot)
        await bot.send(payload=f"mentoring:book:{slots[0]}")  # the button of someone else's screen
        assert "son para los proyectos finalistas" in said(bot)
        await bot.press("Escribir a la coordinación")
        assert "qué mentoría necesitas" in said(bot)
        async with bot.app.sessions() as session, session.begin():
            ana = await session.scalar(select(User).where(User.external_id == "ana"))
            session.add(Submission(user_id=ana.id, status="finalist", reference="LID-2026-0001", answers={}))
        await bot.send("/mentoring")
        assert "¿Sobre qué tema" in said(bot)
    finally:
        await bot.app.close()


async def test_a_mentor_added_before_writing_to_the_bot_gets_their_own_language_when_they_do(bot):
    await bot.onboard(user="coord", lang="en")
    await bot.press("Mentors", user="coord")  # the coordinators' menu has it
    await bot.press("Add a mentor", user="coord")
    for answer in ("test:tom", "Tom Baker", "Marketing"):
        await bot.send(answer, user="coord")
    await bot.press("English", user="coord")
    await bot.send("america/bogota", user="coord")  # typed, in any case
    assert "Tom Baker is now a mentor" in said(bot, "coord") and "haven't written to the bot yet" in said(bot, "coord")
    assert await sent_to(bot, "tom") == []  # no platform lets a bot write first
    await bot.onboard(user="tom", lang="en")  # the default language is Spanish; Tom's platform says English
    assert "Thank you!" in said(bot, "tom")
    await bot.send("/slots", user="tom")
    assert "Your times, in Colombia Time" in said(bot, "tom")
    await bot.onboard(user="ana")
    await bot.send("/slots", user="ana")
    assert "/slots es para mentores" in said(bot, "ana")
    for forged in ("mentoring:newmentor", "mentoring:toggle:1", "mentoring:am:1", "mentoring:booked:1"):
        await bot.send(payload=forged, user="ana")  # coordinators' buttons: the role is checked on every call
        assert "Tom" not in said(bot, "ana")
    await bot.send("/mentors", user="ana")
    assert "Tom" not in said(bot, "ana")
    await bot.send(payload="mentoring:addslot:1", user="ana")  # someone else's times
    assert "ya no sirve" in said(bot, "ana")


async def test_forgetting_an_entrepreneur_removes_their_sessions_and_reminders_and_frees_the_time(bot):
    """/forgetme (bot/services/privacy.py) finds the mentoring tables by their keys to users."""
    from bot.services import privacy

    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    await book(bot)
    async with bot.app.sessions() as session, session.begin():
        ana = await session.scalar(select(User).where(User.external_id == "ana"))
        done = await privacy.forget(session, ana, bot.app.settings, bot.clock.now())
    assert done.remaining == {} and done.deleted.get("mentoring_sessions") == 1
    assert await reminders_of(bot) == []  # the mentor's reminders of that session too
    notice, calendar = (await sent_to(bot, "laura"))[-2:]  # told, in her language and zone, that the time is free
    assert plain(notice.text) == ("❌ The session on Thursday, December 3, 5:00 PM–6:00 PM · Spain (Madrid) Time is "
                                  "cancelled: the entrepreneur is no longer part of the network. That time is free "
                                  "again.")
    assert event_of(calendar)["method"] == "CANCEL" and "Ana" not in notice.text + event_of(calendar)["summary"]
    await bot.onboard(user="luis")
    await bot.send("/timezone America/La_Paz", user="luis")
    await bot.send("/mentoring", user="luis")
    await bot.press("Finanzas", user="luis")
    assert "jue 3 dic · 12:00 · Laura Pérez" in labels(bot, "luis")


async def test_a_mentor_who_leaves_the_network_tells_each_entrepreneur_and_no_reminder_follows(bot):
    from tests.mentoring_support import set_clock

    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID, count=2)
    await book(bot)
    await book(bot, who="luis", zone="Europe/Madrid", label="jue 10 dic · 17:00")
    await bot.send("/lang en", user="luis")
    told_before = {who: len(await sent_to(bot, who)) for who in ("ana", "luis")}
    await bot.send("/forgetme", user="laura")
    await bot.press("🗑️ Yes, delete my data", user="laura")
    notice, calendar = (await sent_to(bot, "ana"))[told_before["ana"]:]
    assert plain(notice.text) == ("❌ Tu mentoría del jueves 3 de diciembre, 12:00–13:00 · hora de Bolivia quedó "
                                  "cancelada: la persona mentora ya no forma parte de la red. Puedes reservar otra "
                                  "con /mentoring.")
    event = event_of(calendar)  # removes the event the booking put in her phone's calendar
    assert (event["method"], event["uid"], event["sequence"]) == ("CANCEL", "mentoring-1@lideres-bot", 1)
    [notice, _] = (await sent_to(bot, "luis"))[told_before["luis"]:]
    assert plain(notice.text).startswith("❌ Your mentoring session on Thursday, December 10, 5:00 PM–6:00 PM · "
                                         "Spain (Madrid) Time is cancelled: the mentor is no longer part")
    assert await reminders_of(bot) == []
    set_clock(bot.clock, THU_17_MADRID + timedelta(days=8))  # past every reminder and feedback question
    await bot.app.reminders.run_due()
    for who in ("ana", "luis"):
        assert len(await sent_to(bot, who)) == told_before[who] + 2, who
    await bot.send("/mysessions")
    assert "No tienes mentorías próximas" in said(bot)


async def test_a_mentor_adding_an_overlapping_time_in_the_chat_is_told_why_and_the_rest_is_added(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID + timedelta(days=7))  # Thursday 10 December, 17:00 in Madrid
    await bot.send("/slots", user="laura")
    await bot.press("Add a free time", user="laura")
    await bot.send("2026-12-03 17:30", user="laura")
    await bot.send("90", user="laura")  # typed instead of pressed
    await bot.press("Every week, 4 times", user="laura")
    text = said(bot, "laura")
    assert "✅ 3 time(s) added." in text
    assert ("⚠️ Thursday, December 10, 5:30 PM · Spain (Madrid) Time: it overlaps another time you already "
            "offer.") in text
    assert [s.starts_at.day for s in await slots_of(bot, mentor)] == [3, 10, 17, 24]


async def test_a_double_tap_on_book_finds_the_booking_already_made(bot):
    mentor = await add_mentor(bot)
    [slot] = await add_slots(bot, mentor, THU_17_MADRID)
    await book(bot)
    await bot.send(payload=f"mentoring:book:{slot}")
    assert "Esa hora ya es tuya: la reservaste" in said(bot)
    async with bot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MentoringSession)) == 1


async def test_the_mentor_reads_whom_the_session_is_with_when_moving_or_cancelling_it(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID, count=2)
    await book(bot)
    await bot.send("/mysessions", user="laura")
    await bot.press("Move Thu, Dec 3", user="laura")
    assert said(bot, "laura").startswith("Your session with Ana is on Thursday, December 3")
    await bot.send("/mysessions", user="laura")
    await bot.press("Cancel Thu, Dec 3", user="laura")
    assert said(bot, "laura").startswith("Shall I cancel the session with Ana on Thursday, December 3")
    await bot.press("Yes, cancel it", user="laura")
    assert said(bot, "laura").startswith("The session with Ana (Thursday, December 3, 5:00 PM")
    notice = (await sent_to(bot, "ana"))[-2]
    assert notice.text.startswith("❌ Cancelada tu mentoría con Laura Pérez sobre «Finanzas» (jueves 3 de diciembre, "
                                  "12:00–13:00 · hora de Bolivia); la canceló Laura Pérez.")
    assert [s.status for s in await slots_of(bot, mentor)] == ["removed", "open"]  # the mentor can't make it


async def test_a_coordinator_cancels_a_booked_session_and_both_sides_are_told(bot):
    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID)
    await book(bot)
    await sent_to(bot, "laura")
    await bot.onboard(user="coord", lang="en")
    await bot.send("/mentors", user="coord")
    await bot.press("🗓 Laura Pérez", user="coord")
    assert "📌 Ana, “Finanzas”" in said(bot, "coord")
    await bot.press("Cancel a booked session", user="coord")
    await bot.press("Cancel Thu, Dec 3", user="coord")
    await bot.press("Yes, cancel it", user="coord")
    assert said(bot, "coord").startswith("The session of Ana with Laura Pérez is cancelled; both have been told.")
    assert (await sent_to(bot, "ana"))[-2].text.endswith("la canceló la coordinación. Puedes reservar otra con "
                                                         "/mentoring.")
    assert plain((await sent_to(bot, "laura"))[-2].text).endswith("is cancelled; cancelled by the coordinators.")
    assert [s.status for s in await slots_of(bot, mentor)] == ["open"]  # the mentor's time is free again


# -- the coordinators' export ---------------------------------------------------------------------------------


async def test_coordinators_export_the_sessions_with_times_status_and_feedback_in_their_language(bot):
    import csv
    import io

    from openpyxl import load_workbook

    from tests.mentoring_support import set_clock

    mentor = await add_mentor(bot)
    await add_slots(bot, mentor, THU_17_MADRID, count=2)
    await book(bot)
    await book(bot, who="luis", label="jue 10 dic · 12:00")
    await bot.send("/mysessions", user="luis")
    await bot.press("Cancelar jue 10 dic", user="luis")
    await bot.press("Sí, cancelar", user="luis")
    set_clock(bot.clock, THU_17_MADRID + timedelta(hours=1))
    await bot.send(payload="mentoring:rate:1:4")
    await bot.send("=Muy útil, gracias")  # a formula-like comment stays text in a spreadsheet
    await bot.onboard(user="coord", lang="es")
    await bot.send("/export", user="coord")
    assert "📊 Mentorías · XLSX" in labels(bot, "coord")
    await bot.press("📄 Mentorías · CSV", user="coord")
    [reply] = bot.replies["coord"]
    assert reply.text.startswith("📎 Mentorías: 2 filas")
    assert reply.document is not None and reply.document.filename.startswith("mentoring-")
    header, ana, luis = list(csv.reader(io.StringIO(reply.document.data.decode("utf-8-sig"))))
    row = dict(zip(header, ana, strict=True))
    assert header[:3] == ["sesión", "mentor/a", "cuenta del mentor/a"] and "teléfono" not in " ".join(header)
    assert row["mentor/a"] == "Laura Pérez" and row["cuenta del emprendedor/a"] == "test:ana"
    assert row["tema"] == "Finanzas" and row["inicio (UTC)"] == "2026-12-03 16:00:00"
    assert row["inicio (hora del mentor/a)"] == "2026-12-03 17:00:00" and row["zona del mentor/a"] == "Europe/Madrid"
    assert row["estado"] == "reservada" and row["valoración (1-5)"] == "4"
    assert row["comentario"] == "'=Muy útil, gracias"
    assert dict(zip(header, luis, strict=True))["cancelada por"] == "emprendedor/a"

    await bot.send("/lang en", user="coord")
    await bot.send("/export mentoring xlsx", user="coord")
    [reply] = bot.replies["coord"]
    sheet = load_workbook(io.BytesIO(reply.document.data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[header.index("status")] == "status" and "start (mentor's time)" in header
    assert [row[header.index("status")] for row in rows] == ["booked", "cancelled"]
    assert rows[0][header.index("start (UTC)")] == datetime(2026, 12, 3, 16, 0)
    await bot.send("/export mentoring csv", user="ana")  # the role is checked: nothing about anyone
    assert "Laura" not in said(bot) and bot.replies["ana"][-1].document is None
