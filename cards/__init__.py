"""Neutral message cards and their pure renderers (Block Kit, Adaptive Cards, plain text).

Nothing here imports a chat SDK.
"""
