"""Explicit Hypothesis strategies for Kombo documents (``st.from_type`` ignores msgspec constraints)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

aware_datetimes = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds; timezones below
    max_value=datetime(2999, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC]) | st.timezones(),
)
timestamps = aware_datetimes.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
content_types = st.from_regex(r"\A[a-z]{1,10}/[a-z0-9.-]{1,15}\Z")
urls = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.from_regex(r"\A[a-z]{1,10}\Z"),
    st.text("abc123/-_", max_size=20),
)


def text_attribute() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just("TEXT"), "label": words, "value": st.text(max_size=50)})


def sub_result_attribute() -> st.SearchStrategy[dict[str, Any]]:
    score = st.fixed_dictionaries(
        {
            "value": st.floats(-1e9, 1e9, allow_nan=False),
            "max": st.floats(1, 1e9, allow_nan=False),
        }
    )
    return st.fixed_dictionaries(
        {
            "type": st.just("SUB_RESULT"),
            "id": words,
            "label": words,
            "score": score,
            "status": st.sampled_from(["COMPLETED", "CANCELLED"]),
        }
    )


def attachment() -> st.SearchStrategy[dict[str, Any]]:
    by_url = st.fixed_dictionaries({"name": words, "data_url": urls}, optional={"content_type": content_types})
    by_data = st.fixed_dictionaries(
        {
            "name": words,
            "content_type": content_types,
            "data": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        }
    )
    return by_url | by_data


def result_body() -> st.SearchStrategy[dict[str, Any]]:
    """A result body satisfying every documented rule."""
    return st.fixed_dictionaries(
        {"status": st.sampled_from(["OPEN", "COMPLETED", "CANCELLED"]), "result_url": urls},
        optional={
            "completed_at": timestamps,
            "score": st.floats(-1e12, 1e12, allow_nan=False),
            "max_score": st.floats(-1e12, 1e12, allow_nan=False),
            "attributes": st.lists(text_attribute() | sub_result_attribute(), max_size=6),
            "attachments": st.lists(attachment(), max_size=5),
            "remote_fields": st.fixed_dictionaries(
                {}, optional={"smartrecruiters": st.fixed_dictionaries({"scoreLabel": words})}
            ),
        },
    )
