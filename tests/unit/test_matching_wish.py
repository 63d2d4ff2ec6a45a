"""The person's wish about the volunteer's gender in the engine (#13): a rule only where the
person asked for it, otherwise a small bonus that only ranks; the reason names it."""

from __future__ import annotations

from datetime import time

import pytest

import matching

WHEN = matching.Weekly(2, time(14), time(16))
FREE = (matching.Weekly(2, time(8), time(20)),)


def _need(gender: str = "", required: bool = False) -> matching.Need:
    return matching.Need("p", 55.77, 9.70, WHEN, wish_gender=gender, wish_required=required)


def _volunteers() -> list[matching.Volunteer]:
    # "a" is nearest and declared nothing; "b" a man; "c" a woman a little farther away.
    return [
        matching.Volunteer("a", 55.770, 9.70, 10, FREE),
        matching.Volunteer("b", 55.772, 9.70, 10, FREE, gender="man"),
        matching.Volunteer("c", 55.775, 9.70, 10, FREE, gender="woman"),
    ]


def _ids(matches: list[matching.Match]) -> list[str]:
    return [m.volunteer_id for m in matches]


def test_without_a_wish_the_nearest_come_first_and_no_reason_names_a_wish():
    ranked = matching.rank_volunteers(_volunteers(), _need())
    assert _ids(ranked) == ["a", "b", "c"]
    assert all(code != "wish" for m in ranked for code, _ in m.reason_codes)


def test_a_required_wish_proposes_only_volunteers_who_declared_that_gender():
    ranked = matching.rank_volunteers(_volunteers(), _need("woman", required=True))
    assert _ids(ranked) == ["c"]  # the undeclared "a" and the man "b" are left out
    assert ("wish", {"gender": "woman", "required": True}) in ranked[0].reason_codes
    assert "the person asked for a woman" in ranked[0].reasons
    assert _ids(matching.rank_volunteers(_volunteers(), _need("man", required=True))) == ["b"]


def test_a_preferred_wish_only_ranks_and_never_filters():
    ranked = matching.rank_volunteers(_volunteers(), _need("woman"))
    assert _ids(ranked) == ["c", "a", "b"]  # the woman first; nobody is left out
    assert ("wish", {"gender": "woman", "required": False}) in ranked[0].reason_codes
    assert all(code != "wish" for m in ranked[1:] for code, _ in m.reason_codes)


def test_the_preference_bonus_is_small_and_the_other_rules_still_hold():
    far = matching.Volunteer("d", 55.95, 9.70, 50, FREE, gender="woman")  # ~20 km away
    busy = matching.Volunteer("e", 55.77, 9.70, 10, (matching.Weekly(3, time(8), time(20)),))
    woman_busy = matching.Volunteer(
        "f", 55.77, 9.70, 10, (matching.Weekly(3, time(8), time(20)),), gender="woman"
    )
    ranked = matching.rank_volunteers([far, busy, woman_busy, *_volunteers()], _need("woman"))
    assert _ids(ranked)[-1] == "d"  # 1 km of bonus does not beat 20 km
    assert "f" not in _ids(ranked) and "e" not in _ids(ranked)
    required = matching.rank_volunteers([far, woman_busy], _need("woman", required=True))
    assert _ids(required) == ["d"]  # the wish does not make a busy volunteer free


def test_an_undeclared_volunteer_is_left_out_only_when_the_wish_is_required():
    undeclared = [matching.Volunteer("a", 55.77, 9.70, 10, FREE)]
    assert _ids(matching.rank_volunteers(undeclared, _need("man"))) == ["a"]
    assert matching.rank_volunteers(undeclared, _need("man", required=True)) == []


def test_a_required_wish_must_name_a_gender():
    with pytest.raises(ValueError):
        _need("", required=True)
