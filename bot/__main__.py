"""`python -m bot` runs the cohortbot command line."""

from bot.cli.main import main

main()
