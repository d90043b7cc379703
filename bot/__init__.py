"""lideres-bot: the chat assistant of a social-economy entrepreneurship network."""
