"""Connectors and the sync engine. No textual here."""
