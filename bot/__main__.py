"""`python -m bot` (or `slotbot`): serve, worker, doctor and the admin tools."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
