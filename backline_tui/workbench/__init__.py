"""The one facade the UI calls, split by job:

- core.py: the replica, the config, the clock, and `_act`, the one way every action runs;
- panes.py: pane pages, counts, search, and the decorations the panes show;
- details.py: one record with its thread and links, and drafts made from it;
- actions.py: claim, respond, note, resolve, document, offer help, bug priority and target,
  link, escalate, take over, bulk: what each one checks and writes;
- articles.py: link, quote and unlink an article; validate, flag, archive, review, edit one;
- outbox.py: what waits to go upstream (retrying a refused op, rewriting or discarding one),
  the last sync, running one;
- drafts.py: text typed and not sent, kept per record and action.

The facade holds no SQL: reads are in storage/details.py, storage/panes.py and storage/search.py,
writes in storage/mutations.py, storage/outbox.py and storage/drafts.py."""

from __future__ import annotations

from backline_tui.storage.filters import PaneFilter
from backline_tui.workbench.actions import Actions
from backline_tui.workbench.core import ActionError
from backline_tui.workbench.drafts import Drafts
from backline_tui.workbench.outbox import OutboxAndSync
from backline_tui.workbench.panes import PAGE, PANE_KIND, PANE_TITLES, PANES

__all__ = ["ActionError", "PaneFilter", "Workbench", "PANES", "PAGE", "PANE_KIND", "PANE_TITLES"]


class Workbench(Actions, OutboxAndSync, Drafts):
    """Panes, details, actions, outbox and sync over one replica, config and clock."""
