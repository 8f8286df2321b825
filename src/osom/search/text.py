"""Turning text into the words the index holds, the same way for documents and queries.

The folding is done here, in Python, rather than by each database's tokeniser, so that
SQLite and PostgreSQL index exactly the same words and answer a query alike: text is
case-folded, accents are taken off, and what is left is split into runs of letters and
digits. The databases then only store and look up words that are already final.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "words", "terms", "MAX_WORD", "MAX_QUERY_WORDS"]

# Longer words are cut: PostgreSQL refuses lexemes over 2 KB, and no one types 64 letters.
MAX_WORD = 64
# A query of more words than this keeps the first ones only.
MAX_QUERY_WORDS = 12
# How much of a document's text is indexed (a very long account is still found by its start).
MAX_TERMS = 50_000

# Letters that carry no combining mark to take off but that people type without the stroke
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"})
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text`` in lower case without accents: "Ålesund Café" → "alesund cafe"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return unicodedata.normalize("NFC", bare.translate(_LETTERS))


def words(text: str) -> list[str]:
    """The words of ``text`` as the index holds them: folded runs of letters and digits."""
    return [w[:MAX_WORD] for w in _WORD.findall(fold(text))]


def terms(*texts: str) -> str:
    """The words of ``texts``, space-separated, as stored for one column of the index."""
    out = " ".join(w for t in texts for w in words(t))
    return out[:MAX_TERMS].rsplit(" ", 1)[0] if len(out) > MAX_TERMS else out
