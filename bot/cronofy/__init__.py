"""Cronofy: client, org setup, recruiter connect, scheduling links."""
