"""A small hand-made world for the knowledge tests: a question whose answer is in the KB (and was
given before), a draft, an archived article, another product's article, bugs that look alike."""

from __future__ import annotations

import pytest

from backline_tui.workbench import Workbench
from tests import factories as F


@pytest.fixture
def kw(tmp_path, config, clock):
    """A workbench on a fresh file holding the world below."""
    wb = Workbench.open(tmp_path / "kw.db", config, clock)
    build(wb)
    yield wb
    wb.close()


def build(wb: Workbench) -> None:
    F.load(
        wb.replica, wb.config,
        cases=[F.case("CASE-1", subject="Flux search timeout for Acme", body="Steps: search for * and wait 30 s.",
                      customer="Acme", tier="enterprise", product="Flux", component="Search", version="3.1",
                      severity="S2")],
        articles=[
            F.article("KB-1", title="Flux Search: timeout on large indexes", state="validated", product="Flux",
                      component="Search", body="## Resolution\n\nRaise search.timeout to 60 s and rebuild the index.\n"),
            # the same text as KB-1, but a draft: KB-1 must come first
            F.article("KB-2", title="Flux Search: timeout on large indexes", state="wip", product="Flux",
                      component="Search", body="## Resolution\n\nRaise search.timeout to 60 s and rebuild the index.\n"),
            F.article("KB-3", title="Flux Search timeout (old advice)", state="archived", product="Flux",
                      component="Search", body="## Resolution\n\nRestart everything.\n"),
            F.article("KB-4", title="Widget Editor crash on save", state="validated", product="Widget",
                      component="Editor", body="## Resolution\n\nDisable autosave plugins.\n"),
            F.article("KB-5", title="Gadget API timeout", state="validated", product="Gadget", component="API",
                      body="## Resolution\n\nSearch the API gateway logs for the timeout.\n"),
        ],
        bugs=[F.bug("PROJ-11", title="Flux search times out on large indexes", product="Flux", component="Search",
                    severity="S2"),
              F.bug("PROJ-110", title="Flux pipeline stalls", product="Flux", component="Pipeline"),
              F.bug("PROJ-1383", title="Widget editor crash on save", product="Widget", component="Editor")],
        help_requests=[
            F.help_request("HELP-1", subject="Flux search timeout on a big customer",
                           body="Searches time out after 30 s at Acme.", product="Flux", component="Search",
                           case_ref="CASE-1", created_at=F.ago(minutes=30), updated_at=F.ago(minutes=30)),
            F.help_request("HELP-2", subject="Search timeout in Flux again", body="Same timeout as last month.",
                           product="Flux", component="Search", status="claimed", owner="alice",
                           created_at=F.ago(days=3), updated_at=F.ago(days=3)),
            F.help_request("HELP-3", subject="Widget editor crash on save", body="The editor dies on save.",
                           product="Widget", component="Editor", created_at=F.ago(minutes=10),
                           updated_at=F.ago(minutes=10)),
        ],
        links=[("case_bug", "CASE-1", "PROJ-11")],
    )
    wb.respond("HELP-2", "Raise search.timeout to 60 s, then rebuild the index.")
    with wb.replica.transaction() as conn:
        conn.execute("DELETE FROM outbox")
