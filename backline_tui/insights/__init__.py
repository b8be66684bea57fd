"""Insights: the voice of the customer (what drives the cases, which bugs hurt, what is not
documented) and the team's own numbers, computed in SQL on the replica. No textual here."""

from backline_tui.insights.service import Insights, Snapshot, Window

__all__ = ["Insights", "Snapshot", "Window"]
