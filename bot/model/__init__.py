"""The platform-neutral model: inbound events, outgoing messages, ports, roles."""
