"""Reader accounts: registration, login, tokens, password reset, magic links, throttling."""
