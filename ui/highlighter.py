"""Python syntax highlighting for the generated tests (pygments' lexer)."""

from __future__ import annotations

from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, String, Token
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Line-by-line lexing: good enough for test files (no multi-line state)."""

    def __init__(self, document: QTextDocument, dark: bool = False) -> None:
        super().__init__(document)
        self.lexer = PythonLexer()
        self.formats = {
            Keyword: _fmt("#c678dd" if dark else "#7a1fa2", bold=True),
            String: _fmt("#98c379" if dark else "#2e7d32"),
            Comment: _fmt("#7f848e" if dark else "#808080", italic=True),
            Number: _fmt("#d19a66" if dark else "#b35c00"),
            Name.Function: _fmt("#61afef" if dark else "#1565c0", bold=True),
            Name.Builtin: _fmt("#56b6c2" if dark else "#00838f"),
            Name.Decorator: _fmt("#e5c07b" if dark else "#9e7700"),
        }

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        position = 0
        for token, value in self.lexer.get_tokens(text):
            fmt = None
            while token is not Token and fmt is None:
                fmt = self.formats.get(token)
                token = token.parent
            if fmt is not None:
                self.setFormat(position, len(value), fmt)
            position += len(value)
