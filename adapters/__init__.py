"""Chat platform adapters: the only code that imports a Slack or Teams SDK."""
