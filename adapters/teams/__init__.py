"""Microsoft Teams: botbuilder-python behind the neutral adapter interface."""
