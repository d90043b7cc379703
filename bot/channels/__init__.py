"""Everything that knows a platform lives in this package; the rest of the bot speaks ``bot.messages``."""
