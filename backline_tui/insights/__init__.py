"""Insights: the voice of the customer and the team's own numbers, computed in SQL. No textual."""
