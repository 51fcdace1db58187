"""``python -m custdata.cli`` runs the command line."""

from custdata.cli import main

main()
