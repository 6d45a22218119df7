"""`python -m bot` runs the cohortbot command line."""

from bot.cli import main

main()
