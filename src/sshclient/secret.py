"""Passwords, passphrases and typed answers, held so that they cannot leak.

An object that holds a `Secret` can be printed, logged, put in an exception
or inspected with ``vars()`` and still show ``<hidden>``: the text comes out
only through `reveal()`, called where the protocol must send it.
"""
from __future__ import annotations

import hmac
from typing import Union

HIDDEN = "<hidden>"


class Secret:
    """A secret string; ``repr``/``str`` give ``<hidden>``, ``bool`` says
    whether it is non-empty. No ``__dict__`` (slots), so ``vars()`` of it
    fails and ``vars()`` of its holder shows only the mask."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._text.encode(), other._text.encode())

    __hash__ = None  # type: ignore[assignment]  # a hash would be a clue to the text


def reveal(value: Union[Secret, str, None]) -> str:
    """The text of `value`: a Secret's, a plain string itself, '' for None."""
    if isinstance(value, Secret):
        return value.reveal()
    return value or ""
