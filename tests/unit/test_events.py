import json

import pytest

from announcer.announce import make_event
from loader.events import InvalidEvent, is_loadable, parse_event


def aws_event(key: str, name: str = "ObjectCreated:Put") -> bytes:
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": name,
        "s3": {"bucket": {"name": "sales"},
               "object": {"key": key, "size": 12, "eTag": "abc123", "sequencer": "0A"}},
    }]}).encode()


def test_aws_event_key_is_url_decoded_with_plus_as_space():
    (ref,) = parse_event(aws_event("incoming/red+flower%C3%A7%2B.csv"))
    assert ref.key == "incoming/red flowerç+.csv"
    assert (ref.bucket, ref.etag, ref.size, ref.event_name) == ("sales", "abc123", 12,
                                                                 "ObjectCreated:Put")


def test_minio_wrapper_with_s3_prefix_is_accepted():
    record = json.loads(aws_event("incoming/a.csv"))["Records"][0]
    record["eventName"] = "s3:ObjectCreated:Put"
    record["eventSource"] = "minio:s3"
    msg = json.dumps({"EventName": "s3:ObjectCreated:Put", "Key": "sales/incoming/a.csv",
                      "Records": [record]}).encode()
    (ref,) = parse_event(msg)
    assert ref.event_name == "ObjectCreated:Put"
    assert is_loadable(ref)


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1,2]", b'{"Records": []}',
                                     b'{"Records": [{"eventName": "x"}]}', b"\xff\xfe\x00",
                                     b'{"Records": [{"eventName": "ObjectCreated:Put", "s3": '
                                     b'{"bucket": {"name": "b"}, "object": {"key": ""}}}]}'])
def test_malformed_messages_raise_invalid_event(payload):
    with pytest.raises(InvalidEvent):
        parse_event(payload)


def test_removal_and_keys_outside_incoming_are_not_loadable():
    (removed,) = parse_event(aws_event("incoming/a.csv", "ObjectRemoved:Delete"))
    (outside,) = parse_event(aws_event("archive/a.csv"))
    assert not is_loadable(removed)
    assert not is_loadable(outside)


def test_make_event_round_trips_through_parse_event():
    msg = json.dumps(make_event("b", "incoming/sales 2026 #1.csv", 99, '"e1"')).encode()
    (ref,) = parse_event(msg)
    assert (ref.bucket, ref.key, ref.size, ref.etag) == ("b", "incoming/sales 2026 #1.csv", 99,
                                                         "e1")


def versitygw_event(key: str, name: str = "s3:ObjectCreated:Put") -> bytes:
    """The shape versitygw v1.8.0 publishes on Kafka (eventVersion 2.2, quoted ETag, the key
    as stored), as recorded from a running server."""
    return json.dumps({"Records": [{
        "eventVersion": "2.2", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": name, "userIdentity": {"PrincipalId": "k"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "webhook-global",
               "bucket": {"name": "sales", "ownerIdentity": {"PrincipalId": "k"},
                          "arn": f"arn:aws:s3:::/sales/{key}"},
               "object": {"key": key, "size": 3, "eTag": '"900150983cd24fb0d6963f7d28e17f72"',
                          "versionId": None, "sequencer": "1"}},
    }]}, ensure_ascii=False).encode()


@pytest.mark.parametrize("stored", ["incoming/relatório março.csv", "incoming/loja 01/vendas.csv",
                                    "incoming/100%.csv", "incoming/a.csv"])
def test_versitygw_keys_arrive_as_stored(stored):
    (ref,) = parse_event(versitygw_event(stored))
    assert ref.key == stored
    assert (ref.etag, ref.event_name) == ("900150983cd24fb0d6963f7d28e17f72", "ObjectCreated:Put")
    assert is_loadable(ref)


def test_the_store_s_test_event_yields_nothing_and_is_not_an_error():
    test_event = b'{"Bucket":"Test-Bucket","Event":"s3:TestEvent","Service":"S3",' \
                 b'"Time":"2026-12-06T07:29:10Z"}'
    assert parse_event(test_event) == []


@pytest.mark.parametrize("stored", ["incoming/relatório março.csv", "incoming/a+b (1).csv",
                                    "incoming/100%.csv", "incoming/ação;=@,$&!.csv"])
def test_an_aws_encoded_key_decodes_to_what_was_stored(stored):
    from urllib.parse import quote_plus

    (ref,) = parse_event(aws_event(quote_plus(stored, safe="/")))
    assert ref.key == stored
