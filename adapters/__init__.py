"""Platform adapters: Slack, Teams and the local playground, each behind the neutral model."""
