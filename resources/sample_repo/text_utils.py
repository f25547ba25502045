"""Second module, so coverage is measured on more than one file."""


def shout(text: str) -> str:
    return text.upper() + "!"


def initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    if not parts:
        return ""
    return "".join(p[0].upper() for p in parts)
