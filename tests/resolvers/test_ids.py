import pytest

from resolvers.errors import BadUserInput
from resolvers.ids import from_global_id, key_of, to_global_id


def test_round_trip() -> None:
    assert from_global_id(to_global_id("Project", 42)) == ("Project", 42)


def test_ids_are_opaque_and_url_safe() -> None:
    gid = to_global_id("Account", 123456789)
    assert "Account" not in gid and "=" not in gid and "/" not in gid


@pytest.mark.parametrize(
    "bad", ["", "not-base64!", "QWNjb3VudA", to_global_id("Account", 0), "Rm9vOjE", "QWNjb3VudDp4"]
)
def test_malformed_ids_are_bad_input(bad: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        from_global_id(bad)
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "argument": "id"}


def test_an_id_of_another_type_is_refused() -> None:
    with pytest.raises(BadUserInput, match="expected an id of a Account, got one of a Invoice"):
        key_of(to_global_id("Invoice", 5), "Account")
