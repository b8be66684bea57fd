"""The one sanitiser: control characters and bidi overrides never reach the terminal."""

from backline_tui.text import REPLACEMENT, clean, one_line


def test_clean_replaces_c0_c1_del_but_keeps_newline_and_tab():
    s = "a\x1b[2Jb\x00c\x7fd\x9be\x85f\x07g\nh\ti"
    out = clean(s)
    assert out == f"a{REPLACEMENT}[2Jb{REPLACEMENT}c{REPLACEMENT}d{REPLACEMENT}e{REPLACEMENT}f{REPLACEMENT}g\nh\ti"
    assert not any(0 <= ord(ch) < 32 and ch not in "\n\t" or 0x7F <= ord(ch) <= 0x9F for ch in out)


def test_clean_neutralises_osc_title_and_clipboard_sequences():
    out = clean("x\x1b]0;pwned\x07y\x1b]52;c;ZXZpbA==\x07z")
    assert "\x1b" not in out and "\x07" not in out
    assert out == f"x{REPLACEMENT}]0;pwned{REPLACEMENT}y{REPLACEMENT}]52;c;ZXZpbA=={REPLACEMENT}z"


def test_clean_neutralises_bidi_overrides_and_isolates():
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert clean(f"abc{ch}def") == f"abc{REPLACEMENT}def"


def test_clean_keeps_markup_like_text_and_unicode_exactly():
    s = "[@click=app.quit]x[/] [link=file:///etc/passwd]y[/link] x [/ y [INFO] [1/3] café 日本 🙂"
    assert clean(s) == s


def test_clean_turns_windows_line_ends_into_newlines_but_lone_cr_is_replaced():
    assert clean("a\r\nb") == "a\nb"
    assert clean("a\rb") == f"a{REPLACEMENT}b"


def test_clean_of_nothing():
    assert clean(None) == "" and clean("") == ""


def test_one_line_folds_and_cuts():
    assert one_line("a\nb\t\tc\n\n") == "a b c"
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abc", 5) == "abc"
    assert one_line("x\x1b]0;t\x07", None) == f"x{REPLACEMENT}]0;t{REPLACEMENT}"
    assert len(one_line("y" * 10_000, 80)) == 80
