"""Entry script for the PyInstaller bundle (the same `ctxlab` command)."""

import sys

from app.main import main

sys.exit(main())
