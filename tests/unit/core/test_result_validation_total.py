"""The result rules answer every JSON body with a list of broken rules and never raise (a raise is a 500 where
the caller is owed a 422): found by ``make drill``'s schemathesis run, ``{"status": [...]}`` without
``completed_at`` raised ``TypeError: unhashable type``."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.result_rules import validate_submission

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
FIELDS = ["status", "result_url", "completed_at", "score", "max_score", "attributes", "attachments", "remote_fields"]


@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=8))
def test_any_json_object_gets_a_list_of_errors(doc: dict[str, Any]) -> None:
    errors = validate_submission(doc)
    assert isinstance(errors, list)


def test_a_status_that_is_a_list_is_named_not_raised() -> None:
    errors = validate_submission({"status": ["COMPLETED"], "result_url": "https://v.example/r"})
    assert [e.path for e in errors] == ["$.status"]
