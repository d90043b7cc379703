"""The FAQ as a Telegram user meets it: `lideres ask --batch`'s JSON lines, but every question goes through
`lideres run` and python-telegram-bot against the fake Bot API, and the answer is read off what the fake
received. With report.py it scores a set over Telegram exactly as `make eval` scores it through the index:

    .venv/bin/python tests/eval/report.py SET.jsonl --cmd '.venv/bin/python tests/eval/telegram_batch.py {file}'

One member per language agrees to the privacy notice, then asks the questions one after the other, each
waiting for its answer, as a person in a chat would. A reply is an answer ("matched") unless it is the
"did you mean" or the "I don't have an answer" message; a best guess ("is this what you asked?") counts as
an answer, as in `lideres ask`. Suggestions are read off the buttons (an entry's title) and mapped back to
the entry's answer, so "right entry among the suggestions" means the same here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.config import PROJECT_ROOT, load_settings  # noqa: E402
from bot.i18n import translate  # noqa: E402
from bot.services.knowledge.entries import load_knowledge  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "424242:faq-sample-token"
MEMBERS = {"es": 7001, "en": 7002}


async def run(rows: list[dict[str, Any]]) -> int:
    entries = load_knowledge(load_settings().knowledge_dir).entries
    titles = {lang: {entry.title_for(lang): entry for entry in entries} for lang in MEMBERS}
    fake = await FakeTelegram(TOKEN).start()
    folder = tempfile.TemporaryDirectory()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIDERES_")}
    env |= {"LIDERES_TELEGRAM_TOKEN": TOKEN, "LIDERES_TELEGRAM_API_URL": fake.api_url,
            "LIDERES_DATABASE_URL": f"sqlite+aiosqlite:///{folder.name}/faq.db", "LIDERES_WEB_PORT": "0",
            "LIDERES_TELEGRAM_MAX_RATE": "0", "LIDERES_WEB_CHAT": "false"}
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=PROJECT_ROOT, env=env,
                                               stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    unexpected = 0
    try:
        for lang, member in MEMBERS.items():
            fake.message(member, "/start", language_code=lang)
            await fake.wait_sent(2, chat_id=member, guard=120)
            fake.press_button(member, translate("start.consent_yes", lang).strip(), language_code=lang)
            await fake.wait_sent(3, chat_id=member, guard=60)
        for row in rows:
            lang = row.get("lang") if row.get("lang") in MEMBERS else "es"
            member = MEMBERS[lang]
            before = len(fake.sent(chat_id=member))
            fake.message(member, row["question"], language_code=lang)
            reply = (await fake.wait_sent(before + 1, chat_id=member, guard=60))[before]
            print(json.dumps(read_reply(row["id"], lang, reply.text, reply.labels, titles[lang]),
                             ensure_ascii=False), flush=True)
        # one message per question: had a reply been two, the answers above would be read off the wrong ones
        unexpected = sum(len(fake.sent(chat_id=member)) for member in MEMBERS.values()) - 6 - len(rows)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 60)
        await fake.close()
        folder.cleanup()
    if unexpected:
        print(f"{unexpected} more messages than questions: scores are not reliable", file=sys.stderr)
        return 1
    return 0


def read_reply(question_id: str, lang: str, text: str, labels: list[str], titles: dict[str, Any]) -> dict[str, Any]:
    """`lideres ask --json`'s fields, from what the user saw."""
    refused = text.startswith(translate("faq.did_you_mean", lang)) or text.startswith(translate("faq.not_found", lang))
    guess = translate("faq.is_this_it", lang)
    answer = "" if refused else text.removesuffix(guess).rstrip()
    suggested = [{"id": titles[label].id, "answer": titles[label].answer(lang)} for label in labels if label in titles]
    return {"id": question_id, "matched": not refused, "answer": answer, "suggested": suggested,
            "suggestions": [item["id"] for item in suggested], "via": "telegram"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", type=Path, help="an evaluation set (JSON lines with id, lang, question)")
    path: Path = parser.parse_args().set
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return asyncio.run(run(rows))


if __name__ == "__main__":
    sys.exit(main())
