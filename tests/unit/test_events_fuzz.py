"""Whatever arrives on sales.files, the event parser answers with objects or InvalidEvent."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from loader.events import InvalidEvent, ObjectRef, parse_event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["Records", "eventName", "s3", "bucket", "object", "key",
                                       "name", "size", "eTag", "EventName", "Key"]) | st.text(),
                      children, max_size=5),
    max_leaves=25,
)


def outcome(payload: bytes) -> str:
    try:
        refs = parse_event(payload)
    except InvalidEvent:
        return "invalid"
    assert refs and all(isinstance(r, ObjectRef) and r.key and r.bucket for r in refs)
    return "ok"


@settings(max_examples=500)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_crash_the_parser(payload):
    assert outcome(payload) in {"ok", "invalid"}


@settings(max_examples=500)
@given(json_values)
def test_arbitrary_json_never_crashes_the_parser(value):
    assert outcome(json.dumps(value).encode()) in {"ok", "invalid"}


@settings(max_examples=200)
@given(st.text(min_size=1), st.text(min_size=1), st.integers(min_value=0))
def test_well_formed_records_always_parse(bucket, key, size):
    msg = {"Records": [{"eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": bucket},
                               "object": {"key": key, "size": size, "eTag": "e"}}}]}
    assert outcome(json.dumps(msg).encode()) == "ok"
