"""The formats a docstring shows with placeholders, filled in."""

from __future__ import annotations

from agents.generation.doc_formats import formats_shown

ISODATE = """Parses an ISO 8601 durations into datetime.timedelta or Duration objects.

The following duration formats are supported:
  -PnnW                  duration in weeks
  -PYYYY-MM-DDThh:mm:ss  extended alternative complete date format
  -PYYYYDDDThhmmss       basic alternative ordinal date format

The '-' is optional.
"""


def test_each_format_is_filled_in_bare_and_with_a_sign() -> None:
    assert formats_shown(ISODATE) == ["P3W", "-P3W", "P2003-02-01T04:05:06", "-P2003-02-01T04:05:06",
                                      "P2003032T040506", "-P2003032T040506"]


def test_a_time_zone_designator_and_a_short_year_are_filled_too() -> None:
    assert formats_shown("Accepts +-hh:mm and hhmmss.ssTZD or YYMMDD.") == [
        "04:05", "-04:05", "040506.06Z", "-040506.06Z", "030201", "-030201"]


def test_words_and_lone_placeholders_are_no_format() -> None:
    assert formats_shown("Beginning with nn, annually MM and DD: the ISO standard, in YYYY.") == []
