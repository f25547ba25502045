"""A small module with branches, used as code under test."""


def classify(n: int) -> str:
    """Sign of n as a word."""
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    return "positive"


def safe_div(a: float, b: float) -> float | None:
    """a / b, or None when b is zero."""
    if b == 0:
        return None
    return a / b


def clamp(value: float, low: float, high: float) -> float:
    """value limited to [low, high]; low must not exceed high."""
    if low > high:
        raise ValueError("low > high")
    return max(low, min(value, high))
