"""The `/cohort` grammar (parser) and the router that runs a parsed command for a person."""
