"""Key remapping (issue 14, point 10): the binding-id list is the live bindings, the README's
table is made from it, unknown ids and clashes are one-line errors, and every key hint on
screen follows a remap."""

from __future__ import annotations

from pathlib import Path

import pytest

from backline_tui import keys as K
from backline_tui.app import BacklineApp
from backline_tui.config import Config
from backline_tui.screens import dialogs
from backline_tui.screens.compose import ArticleComposeScreen, ComposeScreen
from backline_tui.screens.detail import DetailScreen
from backline_tui.screens.main import MainScreen
from backline_tui.screens.outbox import OutboxScreen
from backline_tui.screens.picker import PickerScreen
from backline_tui.screens.reply import ReplyScreen
from backline_tui.widgets.insights import InsightsPane
from tests.test_cli import assert_one_line_error, run
from tests.test_ui_actions import first, select
from tests.test_ui_support import notes, screen_text, settle

LIVE = (BacklineApp, MainScreen, DetailScreen, ComposeScreen, ArticleComposeScreen, dialogs.ConfirmScreen,
        dialogs.PromptScreen, dialogs.ChoiceScreen, dialogs.HelpScreen, InsightsPane, OutboxScreen, PickerScreen,
        ReplyScreen)


def test_the_binding_id_list_is_exactly_the_live_bindings():
    live: dict[str, set[str]] = {}
    for cls in LIVE:
        for b in cls.BINDINGS:
            if b.id is not None:
                live.setdefault(b.id, set()).add(",".join(K.key_list(b.key)))
    assert set(live) == set(K.BY_ID)
    for bid, keysets in live.items():
        assert keysets == {",".join(K.key_list(K.BY_ID[bid].keys))}, bid


def test_the_readme_key_table_is_made_from_the_live_bindings():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert K.markdown_table() in readme
    # nothing but table rows between the table's header and the blank line after it
    start = readme.index("| binding id | key |")
    block = readme[start:readme.index("\n\n", start)]
    assert all(line.startswith("|") for line in block.splitlines())


def test_an_unknown_binding_id_is_a_one_line_error_naming_it_and_the_known_ids(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[keys]\nclam = "C"\n', encoding="utf-8")
    p = run("keys", "--config", str(cfg), "--db", str(tmp_path / "x.db"))
    assert_one_line_error(p)
    assert "unknown binding id 'clam'" in p.stderr and "claim" in p.stderr and "respond" in p.stderr


def test_a_clash_is_refused_naming_both_actions():
    with pytest.raises(Exception, match=r"claim = 'r' clashes with respond"):
        Config(keys={"claim": "r"})
    with pytest.raises(Exception, match=r"clashes with sync"):
        Config(keys={"quit": "S"})
    Config(keys={"claim": "C", "help": "?", "confirm.yes": "Y"})  # no clash


def test_backline_keys_prints_the_remapped_keys(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[keys]\nclaim = "C"\n', encoding="utf-8")
    p = run("keys", "--config", str(cfg), "--db", str(tmp_path / "x.db"))
    assert p.returncode == 0
    line = next(x for x in p.stdout.splitlines() if x.startswith("claim "))
    assert " C " in line


async def test_every_key_hint_follows_a_remap(wb):
    remap = {"claim": "C", "undo": "Z", "confirm.yes": "Y", "confirm.no": "N", "filter.mine": "W",
             "compose.submit": "ctrl+k", "note": "N", "help": "h"}
    wb.config = wb.config.model_copy(update={"keys": remap})
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        shown = screen_text(app)
        footer = shown.splitlines()[-1]
        assert "C Claim" in footer and "c Claim" not in footer
        assert "W mine" in shown and "M mine" not in shown
        await pilot.press("C")
        await settle(pilot)
        assert f"claimed {row['ref']} · Z to undo" in notes(app)
        await pilot.press("Z")
        await settle(pilot)
        assert isinstance(app.screen, dialogs.ConfirmScreen)
        assert "Y = undo it, N = keep it" in screen_text(app)
        await pilot.press("N")
        await settle(pilot)
        await pilot.press("N")  # note, remapped
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert "ctrl+k = save note" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, dialogs.HelpScreen)
        help_text = " ".join(str(w.render()) for w in app.screen.query(".help-column"))  # it scrolls
        assert "C         claim" in help_text and "c         claim" not in help_text
