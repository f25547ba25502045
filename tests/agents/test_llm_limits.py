"""The model call limits: profiles, overrides, and waits that grow with the prompt."""

import pytest

from agents.llm_limits import PROFILES, limits_of


def test_the_local_profile_gives_a_long_prompt_time_to_be_read_and_the_hosted_one_does_not() -> None:
    local, hosted = PROFILES["local"], PROFILES["hosted"]
    # Issue 16's prompt: 2,400 tokens read at 11-40 tokens/s took over 60 s before the first token.
    assert local.first_token_wait_s(2400) == 120 + 2400 / 5
    assert hosted.first_token_wait_s(2400) == 60
    assert not local.resend_after_timeout and hosted.resend_after_timeout


def test_empty_values_mean_the_profiles_and_set_ones_win() -> None:
    assert limits_of({}) == PROFILES["hosted"]
    limits = limits_of({"llm_profile": "local", "llm_stall_timeout_s": "300", "llm_max_retries": "",
                        "llm_max_tokens": "512"})
    assert (limits.profile, limits.stall_s, limits.max_retries, limits.max_tokens) == ("local", 300, 2, 512)


@pytest.mark.parametrize(("key", "value", "says"), [
    ("llm_profile", "fast", "expected one of hosted, local"),
    ("llm_first_token_timeout_s", "0.5", "expected seconds from 1 to 3600"),
    ("llm_max_retries", "11", "from 0 to 10"),
])
def test_a_bad_value_names_its_setting(key: str, value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        limits_of({key: value})


def test_without_streaming_the_wait_covers_writing_the_longest_answer() -> None:
    local = PROFILES["local"]
    assert local.whole_answer_wait_s(100, 1024) == local.first_token_wait_s(100) + 1024 / 5
