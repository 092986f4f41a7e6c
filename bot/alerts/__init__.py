"""Alerts: Cronofy callbacks to candidate profiles to channel and DM alerts."""
