"""`python -m adapters.console`: the same as `python -m bot console`, whether or not the
platform's entry point is installed yet."""

from __future__ import annotations

import sys

from adapters.console.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
