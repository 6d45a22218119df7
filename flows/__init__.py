"""Features, one package each; `registry` wires them into the bot."""
