"""Test suites for the sample repository's calc.py, shared by the tests that need a known one."""

# Every function and branch of calc.py, with the assertions a person would write.
STRONG_CALC_TESTS = '''import pytest
from calc import classify, safe_div, clamp

def test_classify_all_signs():
    assert classify(-2) == "negative"
    assert classify(0) == "zero"
    assert classify(3) == "positive"

def test_safe_div():
    assert safe_div(6, 3) == 2
    assert safe_div(1, 0) is None

def test_clamp():
    assert clamp(5, 0, 3) == 3
    assert clamp(-1, 0, 3) == 0
    assert clamp(2, 0, 3) == 2
    with pytest.raises(ValueError):
        clamp(1, 3, 0)
'''

# One call, one assertion: covers little and kills few mutants.
WEAK_CALC_TESTS = "from calc import classify\n\ndef test_zero():\n    assert classify(0) == 'zero'\n"

# A scripted model's answer for calc.py: STRONG_CALC_TESTS in the fenced block a model writes.
MODEL_REPLY = f"```python\n{STRONG_CALC_TESTS}```"

# Green in file order, red reversed or alone: the second test needs the first one's effect (a model's answer).
ORDER_DEPENDENT = """```python
from calc import classify, safe_div

_seen = []

def test_classify_negative():
    _seen.append(classify(-2))
    assert _seen == ["negative"]

def test_safe_div_after_classify():
    assert _seen and safe_div(6, 3) == 2
```"""
