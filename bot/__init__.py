"""The bot itself: neutral model, configuration, runtime, command router, web pages, CLI."""
