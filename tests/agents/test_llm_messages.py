"""Messages and actions as the wire carries them (agents/llm_messages.py): model text is untrusted input."""

from __future__ import annotations

from agents.llm_messages import calls_in_text, json_messages, parsed_arguments

_TOOLS = [{"type": "function", "function": {"name": "click", "description": "Click an element",
                                            "parameters": {"properties": {"selector": {"type": "string"}}}}}]


def test_an_action_written_as_json_in_a_fence_is_read_with_either_spelling_of_its_fields() -> None:
    calls = calls_in_text('Sure:\n```json\n{"name": "click", "arguments": "{\\"selector\\": \\"#go\\"}"}\n```', ["click"])
    assert [(c.name, c.args) for c in calls] == [("click", {"selector": "#go"})]
    calls = calls_in_text('{"tool": "click", "args": {"selector": "a"}}, {"tool": "click", "args": {"selector": "b"}}',
                          ["click"])
    assert [c.args["selector"] for c in calls] == ["a", "b"]


def test_a_tool_it_was_not_offered_or_text_that_is_not_json_gives_no_action() -> None:
    assert calls_in_text('{"tool": "shell", "args": {"cmd": "rm -rf /"}}', ["click"]) == ()
    assert calls_in_text("{not json at all", ["click"]) == ()
    assert calls_in_text("", ["click"]) == ()
    assert parsed_arguments("[1, 2]") == {"_unparsed": "[1, 2]"}


def test_json_mode_describes_the_tools_in_the_system_message_without_changing_the_callers_list() -> None:
    messages = [{"role": "system", "content": "You test web pages."}, {"role": "user", "content": "Send the form"}]
    out = json_messages(messages, _TOOLS)
    assert out[0]["content"].startswith("You test web pages.") and "- click(selector): Click an element" in out[0]["content"]
    assert messages[0]["content"] == "You test web pages."  # the caller's messages are not changed
    assert json_messages([{"role": "user", "content": "x"}], _TOOLS)[0]["role"] == "system"
