"""HTTP pages the bot serves itself: operations endpoints, the dashboard, signed links."""
