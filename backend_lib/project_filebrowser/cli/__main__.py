"""``python -m project_filebrowser.cli``."""

from . import main

main()
