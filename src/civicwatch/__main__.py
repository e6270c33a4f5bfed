"""``python -m civicwatch`` runs the command line."""

from civicwatch.cli import main

main()
