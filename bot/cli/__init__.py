"""The `cohortbot` command line: one module per subcommand; part of the composition root."""
