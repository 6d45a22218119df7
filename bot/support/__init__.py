"""Small helpers with no home of their own: durations, text, logs, metrics, the server secret."""
