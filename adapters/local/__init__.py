"""The local platform: the playground page, the embedded default."""
