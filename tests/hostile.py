"""Hostile text: what customers, strangers and broken tools put in tickets (docs/architecture.md §8).

Every entry of CORPUS is stored exactly and shown inert everywhere. Each carries a unique ASCII
marker (``HX<n>``) so a test can find where it lands on screen, and the byte sequences in
INJECTIONS are what must never reach a terminal's output stream when the string is displayed.

`records()` builds one record of every type holding hostile text, in the interchange form
(`RECORD_ADAPTER` validates it), for the import, export, sync and screen tests.
"""

from __future__ import annotations

from typing import Any

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

# name -> text. Markers HX01.. are unique and never a prefix of one another.
CORPUS: dict[str, str] = {
    # Textual/Rich markup: actions, links, broken brackets, text that looks like markup
    "click_quit": "HX01 [@click=app.quit]press me[/] and [@click=app.bell]ring[/]",
    "link_file": "HX02 [link=file:///etc/passwd]open me[/link]",
    "unbalanced": "HX03 x [/ y",
    "looks_like_markup": "HX04 [INFO] [1/3] [bold]not bold[/bold] [red]",
    "nested_brackets": "HX05 [[[b]]] ]]] [[[ [/] [/bold]",
    "rich_emoji_code": "HX06 :smile: :warning: :pile_of_poo:",
    "markdown_link": "HX07 [click](file:///etc/passwd) <file:///etc/shadow> ![img](http://127.0.0.1:9/x.png)",
    "html": "HX08 <script>alert(1)</script><b>bold</b>&amp;",
    # ANSI escape sequences
    "osc0_title": f"HX09 {ESC}]0;pwned{BEL} title changed",
    "osc52_clipboard": f"HX10 {ESC}]52;c;cHduZWQ={BEL} clipboard written",
    "osc8_link": f"HX11 {ESC}]8;;file:///etc/passwd{ST}click{ESC}]8;;{ST} here",
    "csi_clear": f"HX12 {ESC}[2J{ESC}[H screen cleared",
    "csi_cursor": f"HX13 {ESC}[10;10H{ESC}[5A{ESC}[2K{ESC}[?25l moved",
    "sgr_colour": f"HX14 {ESC}[31;1;5mred blink{ESC}[0m",
    "osc_st_terminated": f"HX15 {ESC}]2;pwned2{ST} title via ST",
    "dcs_apc": f"HX16 {ESC}P+q544e{ST} {ESC}_apc{ST} {ESC}^pm{ST}",
    "bare_esc_cr_bs": f"HX17 abc\rXYZ\x08\x08\x08 {ESC}c reset \x0c\x0b",
    # C1 controls (CSI and OSC as single code points), DEL
    "c1_csi": "HX18 \x9b2J cleared by C1",
    "c1_osc": "HX19 \x9d0;pwned3\x9c title by C1",
    "c1_all_del": "HX20 " + "".join(chr(c) for c in range(0x80, 0xA0)) + "\x7f",
    # Unicode that misleads
    "bidi_override": "HX21 invoice\u202efdp.exe\u202c done",
    "bidi_isolates": "HX22 \u2066abc\u2069 \u2067def\u2069 \u2068ghi\u2069 \u200f\u200e\u061c",
    "zero_width": "HX23 a\u200bb\u200cc\u200dd\u2060e\ufeff",
    "combining_flood": "HX24 Z" + "\u0301\u0302\u0303\u0304\u0336" * 200 + "alg",
    "wide_emoji": "HX25 😀🎉👩‍👩‍👧‍👦 🇫🇷 漢字テスト 한국어 ｆｕｌｌｗｉｄｔｈ",
    "line_separators": "HX26 one\u2028two\u2029three\u0085four",
    "nul": "HX27 before\x00after\x00",
    "surrogate_like": "HX28 \ufffd\ufffe\uffff replacement chars",
    "crlf": "HX29 line one\r\nline two\r\n",
    "tabs_newlines": "HX30 col\tcol\t\tcol\n\n\nnext",
}

# the 1 MB body, built from a hostile mix so that a long body is hostile all along
BIG = ("HX31 " + (CORPUS["osc52_clipboard"] + " " + CORPUS["click_quit"] + " 漢字 \u202e\n") * 20000)[:1_000_000]

# byte sequences (as str) that must never reach a terminal when hostile text is displayed
INJECTIONS: list[str] = [
    f"{ESC}]0;pwned",
    f"{ESC}]2;pwned2",
    f"{ESC}]52;c;cHduZWQ=",
    f"{ESC}]8;;file:///etc/passwd",
    f"{ESC}[2J{ESC}[H screen",
    f"{ESC}[10;10H{ESC}[5A",
    f"{ESC}[31;1;5mred blink",
    f"{ESC}P+q544e",
    f"{ESC}_apc",
    f"{ESC}c reset",
    "\x9b2J",
    "\x9d0;pwned3",
    "\u202e",
]

# the same, as the bytes a UTF-8 terminal would receive
INJECTION_BYTES: list[bytes] = [s.encode("utf-8") for s in INJECTIONS]


def all_texts() -> list[tuple[str, str]]:
    """Every hostile string with its name, the 1 MB body included."""
    return list(CORPUS.items()) + [("big_1mb", BIG)]


def marker(name: str) -> str:
    return CORPUS[name].split(" ", 1)[0]


def records(prefix: str = "HOST", big: bool = True) -> list[dict[str, Any]]:
    """Interchange records carrying the whole corpus: one help request, case, bug and article per
    hostile string (subject/title, body, names), plus messages on the help requests. Refs stay
    plain so tests can address them; every free-text field is hostile."""
    out: list[dict[str, Any]] = []
    ts = "2026-11-23T08:00:00Z"
    items = all_texts() if big else list(CORPUS.items())
    for i, (name, text) in enumerate(items, 1):
        short = text if len(text) < 2000 else text[:2000]
        out.append(dict(type="case", ref=f"{prefix}-C{i}", subject=short, body=text, customer=short[:200],
                        tier="enterprise", product="Widget", component=short[:100], version="2.3",
                        severity="S1", status="open", owner=short[:100], created_at="2026-10-01T00:00:00Z",
                        updated_at="2026-10-01T00:00:00Z", last_activity_at="2026-10-01T00:00:00Z"))
        out.append(dict(type="help_request", ref=f"{prefix}-H{i}", subject=short, body=text, asker=short[:100],
                        product="Widget", component=short[:100], priority="P1", status="new",
                        created_at=ts, updated_at=ts, case_ref=f"{prefix}-C{i}"))
        out.append(dict(type="bug", ref=f"{prefix}-B{i}", title=short, body=text, product="Widget",
                        component=short[:100], severity="S1", status="open", eng_owner=short[:100],
                        created_at="2026-06-01T00:00:00Z", updated_at="2026-06-01T00:00:00Z",
                        fix_version=short[:50]))
        out.append(dict(type="article", ref=f"{prefix}-K{i}", title=short, body=text, state="not_validated",
                        owner=short[:100], product="Widget", component=short[:100],
                        created_at="2026-09-01T00:00:00Z", updated_at="2026-09-01T00:00:00Z",
                        flags=[dict(who=short[:100], reason=short, at="2026-11-01T00:00:00Z")]))
        out.append(dict(type="message", ref=f"{prefix}-M{i}", parent_type="help_request",
                        parent_ref=f"{prefix}-H{i}", author=short[:100], body=text, kind="question",
                        created_at=ts))
        out.append(dict(type="link", kind="case_bug", from_ref=f"{prefix}-C{i}", to_ref=f"{prefix}-B{i}"))
    return out


def store(replica, config, recs: list[dict[str, Any]]) -> None:
    """Write interchange records straight through the storage write path (records.py), in one
    transaction: the replica as an import or a pull would leave it."""
    from backline_tui.domain.models import RECORD_ADAPTER
    from backline_tui.storage import records as record_store
    from backline_tui.storage.derived import refresh_derived

    with replica.transaction() as conn:
        for raw in recs:
            x = RECORD_ADAPTER.validate_python(raw).model_dump()
            kind = x["type"]
            if kind == "case":
                record_store.upsert_cases(conn, [x])
            elif kind == "bug":
                record_store.upsert_bugs(conn, [x])
            elif kind == "article":
                record_store.upsert_articles(conn, [x])
            elif kind == "help_request":
                record_store.upsert_help_requests(conn, [x], config)
            elif kind == "message":
                record_store.upsert_messages(conn, [x])
            elif kind == "link":
                record_store.add_link(conn, x["kind"], x["from_ref"], x["to_ref"], x["created_at"])
        refresh_derived(conn, config)


def assert_cli_outputs_inert(db, tmp_path) -> None:
    """`backline export`, `report` and `status` over a replica holding hostile text write none of
    it to the terminal as control sequences."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BACKLINE_NOW": "2026-11-23T09:00:00Z"}
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n')
    for args in (["export"], ["report"], ["status"]):
        p = subprocess.run([sys.executable, "-m", "backline_tui", *args, "--db", str(db), "--config", str(cfg)],
                           capture_output=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        for seq in INJECTION_BYTES:
            assert seq not in p.stdout, (args, seq)
        assert b"\x1b" not in p.stdout and b"\xc2\x9b" not in p.stdout and b"\xc2\x9d" not in p.stdout, args
