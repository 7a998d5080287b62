"""The ``first`` of the forecast lists."""

from __future__ import annotations

from resolvers.context import Context
from resolvers.errors import BadUserInput


def page_size(ctx: Context, first: int) -> int:
    """``first`` if it is 0 to the page maximum, else BAD_USER_INPUT."""
    if not 0 <= first <= ctx.limits.max_page_size:
        message = f"first must be 0 to {ctx.limits.max_page_size}"
        raise BadUserInput(message, argument="first")
    return first
