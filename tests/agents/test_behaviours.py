"""Which units beyond the coverage slice show a behaviour worth a test of its own."""

from __future__ import annotations

import json

from agents.generation.behaviours import new_behaviours
from agents.generation.observe import read_observations
from agents.generation.test_units import parse_file

CODE = ("import pytest\nimport p as p_\n\n\n"
        "def test_case_0():\n    var_0 = p_.parse(src='[1]')\n\n\n"
        "def test_case_1():\n    with pytest.raises(TypeError):\n        p_.parse(src=1.0)\n\n\n"
        "def test_case_2():\n    with pytest.raises(ValueError):\n        p_.parse(src='[1')\n")


def test_a_raise_with_the_module_s_own_words_is_a_behaviour_and_a_crash_on_a_wrong_type_is_not() -> None:
    parts = parse_file(CODE)
    assert parts is not None and len(parts.units) == 3
    parts.module_source = "def parse(src):\n    raise ValueError('Unclosed array')\n"
    records = [
        [{"k": "0", "type": "list", "module": "builtins", "repr": "[1]"}],
        [{"k": "0", "message": "'float' object is not subscriptable"}],
        [{"k": "0", "message": "Unclosed array at line 1"}],
    ]
    observed = read_observations([{"name": f"test_u{i}", "outcome": "passed", "observed": json.dumps(r)}
                                  for i, r in enumerate(records)], 3)
    assert new_behaviours(parts, parts.units, observed, [0]) == {2}
