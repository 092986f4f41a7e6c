"""Slack markup to the core's neutral command text."""

from __future__ import annotations

from adapters.slack.text import neutral_text


def test_mentions_links_and_escapes_become_neutral_tokens() -> None:
    parsed = neutral_text(
        "admins add <@U024BE7LH|sam> <#C0123ABC|hiring> <#C0999> "
        "<https://app.cronofy.com/pls/x|label> <mailto:jane@example.com|jane@example.com> a &amp; b"
    )
    assert parsed.text == (
        "admins add @U024BE7LH #C0123ABC #C0999 https://app.cronofy.com/pls/x "
        "jane@example.com a & b"
    )
    assert parsed.user_ids == ["U024BE7LH"]
    assert parsed.channels == {"C0123ABC": "hiring", "C0999": ""}


def test_specials_and_escaped_brackets_never_become_mentions() -> None:
    parsed = neutral_text("link for <!channel> &lt;@U1&gt; &lt;#C1|x&gt; <javascript:alert(1)|x>")
    assert parsed.user_ids == [] and parsed.channels == {}
    assert "<!channel>" in parsed.text and "<@U1>" in parsed.text
    assert "<javascript:alert(1)|x>" in parsed.text
