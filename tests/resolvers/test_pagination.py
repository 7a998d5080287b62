import pytest

from resolvers.errors import BadUserInput
from resolvers.pagination import decode_cursor, encode_cursor, page_request


def test_cursor_round_trip_keeps_the_key() -> None:
    cursor = encode_cursor("account:name-asc", ("Acme", 12))
    assert decode_cursor(cursor, "account:name-asc") == ("Acme", 12)


def test_a_cursor_from_another_ordering_is_refused() -> None:
    cursor = encode_cursor("account:name-asc", ("Acme", 12))
    with pytest.raises(BadUserInput, match="another ordering"):
        decode_cursor(cursor, "account:name-desc")


@pytest.mark.parametrize("bad", ["", "garbage", "W10", "WyJjMSJd", "eyJhIjoxfQ"])
def test_garbage_cursors_are_bad_input(bad: str) -> None:
    with pytest.raises(BadUserInput, match="not a valid cursor"):
        decode_cursor(bad, "account:name-asc")


@pytest.mark.parametrize("first", [-1, 101])
def test_first_out_of_range(first: int) -> None:
    with pytest.raises(BadUserInput, match="between 0 and 100"):
        page_request(first, None, ordering="o", default=20, maximum=100)


def test_first_defaults() -> None:
    assert page_request(None, None, ordering="o", default=20, maximum=100).first == 20
