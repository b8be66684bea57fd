"""Jira (Cloud REST v3, Data Center REST v2): client, ADF ↔ text, mapping, connector."""

from backline_tui.sync.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
