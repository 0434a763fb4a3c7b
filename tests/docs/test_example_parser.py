"""The example convention's reader (``agtest/doc_examples.py``): what it refuses, and how answers are matched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agtest.doc_examples import ExampleError, examples_in, json_values, mismatches, parse_spec, value_at

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


def markdown(tmp_path: Path, text: str) -> list[Any]:
    (tmp_path / "doc.md").write_text(text)
    return examples_in(tmp_path / "doc.md", tmp_path)


def test_a_command_block_without_a_comment_fails(tmp_path: Path) -> None:
    with pytest.raises(ExampleError, match=r"doc.md:3: a `sh` block without"):
        markdown(tmp_path, "Text.\n\n```sh\ncurl $GATEWAY/health\n```\n")


def test_a_comment_counts_only_right_before_its_block(tmp_path: Path) -> None:
    with pytest.raises(ExampleError, match="without"):
        markdown(tmp_path, "<!-- example: runs -->\nA paragraph between.\n```sh\ntrue\n```\n")


def test_other_blocks_are_not_examples(tmp_path: Path) -> None:
    assert markdown(tmp_path, "```python\nprint(1)\n```\n\n```\ndiagram\n```\n\n```json\n{}\n```\n") == []


def test_a_block_shown_inside_a_longer_fence_is_no_example(tmp_path: Path) -> None:
    shown = "````markdown\n<!-- example: runs -->\n```sh\nfalse\n```\n````\n"
    assert markdown(tmp_path, shown) == []


def test_an_example_reads_its_spec_and_the_answer_shown(tmp_path: Path) -> None:
    (example,) = markdown(
        tmp_path,
        "<!-- example: expects 201; sets TENANT_ID=id; eventually -->\n```sh\ncurl -X POST x\n```\n\n"
        '```json\n{"id": "…"}\n```\n',
    )
    assert (example.line, example.spec.status, example.spec.eventually) == (2, 201, True)
    assert example.spec.sets == {"TENANT_ID": "id"}
    assert example.answer == {"id": "…"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [("skip", "needs a reason"), ("expects 2OO", "cannot read"), ("sets id", "cannot read"), ("eventually", "say")],
)
def test_a_spec_it_cannot_read_fails_naming_it(spec: str, message: str) -> None:
    with pytest.raises(ExampleError, match=message):
        parse_spec(spec, "doc.md:1")


def test_answers_match_on_the_keys_shown() -> None:
    actual = {"id": "a1", "status": "accepted", "items": [{"n": 1}, {"n": 2}], "extra": True}
    assert mismatches({"id": "…", "items": [{"n": 1}]}, actual, {}) == []
    assert mismatches({"status": "completed"}, actual, {}) == ["$.status: shown 'completed', got 'accepted'"]
    assert mismatches({"missing": 1}, actual, {}) == ["$.missing: missing"]
    assert mismatches({"id": "$ID"}, actual, {"ID": "a1"}) == []
    assert mismatches({"items": [{}, {}, {}]}, actual, {}) != []


@given(JSON)
def test_every_json_value_matches_itself_and_is_read_back_from_its_printout(value: Any) -> None:
    import json

    assert mismatches(value, value, {}) == []
    assert json_values(f"a message\n{json.dumps(value, indent=2)}\n{json.dumps(value)}") == [value, value]


def test_value_at_walks_objects_and_lists() -> None:
    assert value_at({"items": [{"id": "x"}]}, "items.0.id") == "x"
    assert value_at({"n": 3}, "n") == "3"
