"""Loader on the real broker, S3 endpoint and PostgreSQL: every rule of the loader issue."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from tests.integration.loader_support import (
    HUMAN,
    SNAKE,
    announce,
    consume_all,
    put,
    put_and_announce,
    query,
    run_loader,
    sale,
    to_csv,
)

pytestmark = pytest.mark.integration


def files(world):
    return query(world, "select key, status, rows_total, rows_valid, rows_rejected, reason "
                        "from raw.files order by file_id")


def test_valid_file_is_loaded_with_money_as_exact_numeric(world):
    rows = [sale("S1", price="19.99", qty=3, discount="15"), sale("S2", status="Canceled")]
    put_and_announce(world, "incoming/a.csv", to_csv(rows))
    run_loader(world)
    assert files(world) == [("incoming/a.csv", "loaded", 2, 2, 0, None)]
    got = query(world, "select sale_id, quantity_sold, unit_price, total_value, payment_date "
                       "from raw.sales order by row_number")
    assert got[0][:4] == ("S1", 3, Decimal("19.99"), Decimal("50.97"))
    assert got[1][0] == "S2" and got[1][4] is None


def test_pt_br_windows_1252_semicolon_file_uses_decimal_comma(world):
    row = sale("S-BR", price="1234.50", qty=1, discount="0", unit_cost="1000.25",
               customer_name="Conceição Araújo", product_name="Café Especial")
    br = {k: (v.replace(".", ",") if k in {"unit_price", "total_value", "unit_cost", "total_cost",
                                             "gross_profit", "shipping_cost"} else v)
          for k, v in row.items()}
    br["unit_price"] = "1.234,50"  # thousands separator as Excel writes it
    body = to_csv([br], human=True, delimiter=";", encoding="cp1252")
    put_and_announce(world, "incoming/pt br.csv", body)
    run_loader(world)
    assert files(world)[0][:4] == ("incoming/pt br.csv", "loaded", 1, 1)
    got = query(world, "select unit_price, total_value, unit_cost, gross_profit, customer_name, "
                       "product_name from raw.sales")
    assert got == [(Decimal("1234.50"), Decimal("1234.50"), Decimal("1000.25"),
                     Decimal("234.25"), "Conceição Araújo", "Café Especial")]
    enc = query(world, "select encoding, delimiter from raw.files")[0]
    assert enc == ("cp1252", ";")


def test_bom_file_with_tricky_quoting_stores_text_exactly(world):
    nasty = ['O\'Brien, "Bob"', "line1\nline2", "emoji 🚀 back\\slash",
             "'); drop table raw.sales; --"]
    rows = [sale(f"S{i}", customer_name=name) for i, name in enumerate(nasty)]
    put_and_announce(world, "incoming/bom.csv", b"\xef\xbb\xbf" + to_csv(rows))
    run_loader(world)
    got = [r[0] for r in query(world, "select customer_name from raw.sales order by row_number")]
    assert got == nasty
    assert query(world, "select count(*) from raw.sales")[0][0] == 4


def test_header_in_any_order_with_extra_columns_listed(world):
    cols = list(reversed(SNAKE)) + ["internal_note"]
    rows = [dict(sale("S1"), internal_note="x")]
    put_and_announce(world, "incoming/shuffled.csv", to_csv(rows, columns=cols))
    run_loader(world)
    assert query(world, "select status, extra_columns from raw.files") == [
        ("loaded", ["internal_note"])]


def test_file_missing_a_column_is_rejected_whole(world):
    cols = [c for c in SNAKE if c != "unit_price"]
    put_and_announce(world, "incoming/missing.csv", to_csv([sale("S1")], columns=cols))
    run_loader(world)
    ((key, status, *_, reason),) = files(world)
    assert status == "rejected" and "unit_price" in reason
    assert query(world, "select count(*) from raw.sales")[0][0] == 0


def test_binary_garbage_is_rejected_and_loader_continues(world):
    put_and_announce(world, "incoming/garbage.csv", bytes(range(256)) * 40)
    put_and_announce(world, "incoming/good.csv", to_csv([sale("S1")]))
    run_loader(world)
    got = {k: (s, r) for k, s, *_, r in files(world)}
    assert got["incoming/garbage.csv"][0] == "rejected" and got["incoming/garbage.csv"][1]
    assert got["incoming/good.csv"] == ("loaded", None)


def test_header_only_file_is_loaded_with_zero_rows(world):
    put_and_announce(world, "incoming/empty.csv", to_csv([]))
    run_loader(world)
    assert files(world) == [("incoming/empty.csv", "loaded", 0, 0, 0, None)]


def test_invalid_rows_are_quarantined_with_every_reason(world):
    bad = sale("S2", quantity_sold="0", payment_status="Maybe", sale_date="2026-02-30")
    rows = [sale("S1"), bad, sale("S1", price="5.00"), sale("S3")]
    put_and_announce(world, "incoming/mixed.csv", to_csv(rows))
    run_loader(world)
    assert files(world)[0][1:5] == ("loaded", 4, 2, 2)
    rejected = query(world, "select row_number, reasons, raw_values from raw.sales_rejected "
                            "order by row_number")
    assert [r[0] for r in rejected] == [2, 3]
    reasons_row2 = " ".join(rejected[0][1])
    for field in ("quantity_sold", "payment_status", "sale_date"):
        assert field in reasons_row2
    assert "duplicate" in " ".join(rejected[1][1])
    assert rejected[0][2]["sale_id"] == "S2" and rejected[0][2]["quantity_sold"] == "0"


def test_quarantined_text_round_trips_exactly_through_the_reject_spool(world):
    tricky = 'Caf\u00e9 "Ouro", {a,b} \\N \\. back\\slash\nnew line'
    rows = [sale("S1", customer_name=tricky, payment_status="Pago"),
            sale("S2", product_name=tricky, quantity_sold="-1")]
    rows += [sale(f"B{i}", delivery_status="Entregue") for i in range(60_000)]  # 2 chunks
    put_and_announce(world, "incoming/tricky.csv", to_csv(rows))
    run_loader(world)
    assert files(world)[0][1:5] == ("loaded", 60_002, 0, 60_002)
    got = query(world, "select row_number, reasons, raw_values from raw.sales_rejected "
                       "where row_number <= 2 order by row_number")
    assert got[0][1] == ["payment_status: not one of Paid, Pending, Canceled"]
    assert got[0][2]["customer_name"] == tricky
    assert got[1][1] == ["quantity_sold: not a whole number >= 1"]
    assert got[1][2]["product_name"] == tricky
    numbers = query(world, "select count(*), min(row_number), max(row_number), "
                           "count(distinct row_number) from raw.sales_rejected")
    assert numbers == [(60_002, 1, 60_002, 60_002)]


def test_same_event_delivered_twice_loads_once(world):
    body = to_csv([sale("S1"), sale("S2")])
    etag = put_and_announce(world, "incoming/twice.csv", body)
    announce(world, "incoming/twice.csv", etag, len(body))
    run_loader(world)
    assert query(world, "select count(*) from raw.files")[0][0] == 1
    assert query(world, "select count(*) from raw.sales")[0][0] == 2


def test_new_version_of_an_object_is_recorded_as_a_new_file(world):
    put_and_announce(world, "incoming/v.csv", to_csv([sale("S1"), sale("S2")]))
    run_loader(world)
    put_and_announce(world, "incoming/v.csv", to_csv([sale("S1", price="200.00")]))
    run_loader(world)
    versions = query(world, "select key, etag, rows_valid from raw.files order by file_id")
    assert [v[2] for v in versions] == [2, 1]
    assert versions[0][1] != versions[1][1]


def test_bad_messages_go_to_dlq_with_error_and_loader_keeps_going(world):
    from confluent_kafka import Producer

    from salespipe.kafka import producer_config

    p = Producer(producer_config(world.settings))
    for payload in (b"{not json", b'{"Records": [{"eventName": "ObjectCreated:Put"}]}'):
        p.produce(world.files_topic, key=b"k", value=payload)
    p.flush(10)
    put_and_announce(world, "incoming/after.csv", to_csv([sale("S1")]))
    run_loader(world)
    dlq = consume_all(world, world.dlq_topic)
    assert sorted(m.value() for m in dlq) == sorted(
        [b"{not json", b'{"Records": [{"eventName": "ObjectCreated:Put"}]}'])
    assert all(dict(m.headers())["error"] for m in dlq)
    assert files(world)[0][:2] == ("incoming/after.csv", "loaded")


def test_events_outside_incoming_or_not_created_are_ignored(world):
    from confluent_kafka import Producer

    from announcer.announce import make_event
    from salespipe.kafka import producer_config

    body = to_csv([sale("S1")])
    etag = put(world, "archive/old.csv", body)
    announce(world, "archive/old.csv", etag, len(body))
    removed = make_event(world.settings.BUCKET_NAME, "incoming/removed.csv", len(body),
                         put(world, "incoming/removed.csv", body))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    p = Producer(producer_config(world.settings))
    p.produce(world.files_topic, key=b"incoming/removed.csv", value=json.dumps(removed).encode())
    assert p.flush(30) == 0
    # Positive control, announced after the ignored events on the same loader run: the loader
    # did consume and load, so the absence of the other two is its decision, not an idle exit.
    put_and_announce(world, "incoming/control.csv", body)
    run_loader(world)
    assert files(world) == [("incoming/control.csv", "loaded", 1, 1, 0, None)]
    assert consume_all(world, world.dlq_topic, timeout=3) == []  # ignored, not dead-lettered
    assert committed_and_end_offsets(world) == (3, 3)  # every event consumed and committed


def committed_and_end_offsets(world) -> tuple[int, int]:
    """Sum of the loader group's committed offsets and of the end offsets on sales.files."""
    from confluent_kafka import Consumer, TopicPartition

    from salespipe.kafka import consumer_config

    c = Consumer(consumer_config(world.settings, f"g-{world.files_topic}"))
    try:
        parts = [TopicPartition(world.files_topic, n) for n in range(3)]
        committed = sum(max(tp.offset, 0) for tp in c.committed(parts, timeout=10))
        end = sum(c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts)
    finally:
        c.close()
    return committed, end


def test_object_deleted_before_download_is_rejected_with_reason(world):
    from salespipe import s3

    body = to_csv([sale("S1")])
    etag = put(world, "incoming/gone.csv", body)
    s3.client(world.settings).delete_object(Bucket=world.settings.BUCKET_NAME,
                                            Key="incoming/gone.csv")
    announce(world, "incoming/gone.csv", etag, len(body))
    put_and_announce(world, "incoming/next.csv", body)
    run_loader(world)
    got = {k: (s, r) for k, s, *_, r in files(world)}
    assert got["incoming/gone.csv"][0] == "rejected" and "not found" in got["incoming/gone.csv"][1]
    assert got["incoming/next.csv"][0] == "loaded"


def test_batch_summary_is_published_on_loads_topic(world):
    put_and_announce(world, "incoming/s.csv", to_csv([sale("S1"), sale("S1")]))
    run_loader(world)
    summaries = [json.loads(m.value()) for m in consume_all(world, world.loads_topic)]
    loaded = [s for s in summaries if s["files_loaded"]]
    assert loaded and loaded[0]["rows_valid"] == 1 and loaded[0]["rows_rejected"] == 1
    assert loaded[0]["files"][0]["key"] == "incoming/s.csv"


def test_conservation_valid_plus_rejected_equals_data_rows(world):
    rows = [sale(f"S{i}", quantity_sold="x" if i % 3 == 0 else "2") for i in range(30)]
    put_and_announce(world, "incoming/c.csv", to_csv(rows, human=True))
    run_loader(world)
    (total, valid, rejected), = query(world, "select rows_total, rows_valid, rows_rejected "
                                             "from raw.files")
    assert total == 30 and valid + rejected == 30 and rejected == 10
    assert query(world, "select count(*) from raw.sales")[0][0] == valid
    assert query(world, "select count(*) from raw.sales_rejected")[0][0] == rejected


def test_human_headers_cover_all_columns():
    assert len(HUMAN) == len(SNAKE) == 24


def test_fuzzed_messages_end_in_dlq_or_are_ignored_and_loader_keeps_going(world):
    import random

    from confluent_kafka import Producer

    from salespipe.kafka import producer_config

    rng = random.Random(20261129)
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
                for _ in range(30)]
    payloads += [json.dumps(v).encode() for v in (
        {"Records": [{"eventName": "ObjectRemoved:Delete",
                      "s3": {"bucket": {"name": "b"}, "object": {"key": "incoming/x.csv"}}}]},
        {"Records": "nope"}, [], 3, "text", {"EventName": "s3:ObjectCreated:Put"},
    )]
    p = Producer(producer_config(world.settings))
    for payload in payloads:
        p.produce(world.files_topic, value=payload)
    p.flush(10)
    put_and_announce(world, "incoming/survivor.csv", to_csv([sale("S1")]))
    run_loader(world)
    dlq = consume_all(world, world.dlq_topic)
    assert len(dlq) == len(payloads) - 1  # the removal event is valid, and ignored
    assert files(world) == [("incoming/survivor.csv", "loaded", 1, 1, 0, None)]


def minio_notification(bucket: str, key: str, etag: str, size: int, name: str) -> bytes:
    """What MinIO's Kafka notification target publishes, field for field as its source builds
    it (no MinIO server can be run here: it is AGPL-licensed). `eventArgs.ToEvent` in
    cmd/event-notification.go escapes the record's key with Go's `url.QueryEscape` (a space
    becomes "+", "/" becomes "%2F") and leaves out the object's eTag, size and type on removal
    events; `KafkaTarget.send` in internal/event/target/kafka.go wraps the record with
    `EventName` and `Key`, the bucket and the unescaped key."""
    from urllib.parse import quote_plus

    removed = name.startswith("ObjectRemoved:")
    obj = {"key": quote_plus(key, safe=""), "sequencer": "17F8F4B7A5FA5A4B"}
    if not removed:
        obj.update(size=size, eTag=etag, contentType="text/csv",
                   userMetadata={"content-type": "text/csv"})
    return json.dumps({
        "EventName": f"s3:{name}",
        "Key": f"{bucket}/{key}",
        "Records": [{
            "eventVersion": "2.0", "eventSource": "minio:s3", "awsRegion": "",
            "eventTime": "2026-03-01T10:00:00.000Z", "eventName": f"s3:{name}",
            "userIdentity": {"principalId": "minioadmin"},
            "requestParameters": {"principalId": "minioadmin", "region": "",
                                  "sourceIPAddress": "172.18.0.1"},
            "responseElements": {"x-amz-id-2": "dd9025bab4ad464b0",
                                 "x-amz-request-id": "17F8F4B7A5E1C4E2",
                                 "x-minio-deployment-id": "5b1c0a2e-9d8f-4d1b-a7c4-000000000000",
                                 "x-minio-origin-endpoint": "http://172.18.0.3:9000"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "Config",
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "minioadmin"},
                              "arn": f"arn:aws:s3:::{bucket}"},
                   "object": obj},
            "source": {"host": "172.18.0.1", "port": "", "userAgent": "MinIO (linux; amd64)"},
        }],
    }).encode()


def test_minio_bucket_notification_is_loaded_unchanged(world):
    """MinIO publishing its own events on sales.files (no watcher): created objects under
    incoming/ load; deletions and the processed/ copy a `move` makes are ignored."""
    from confluent_kafka import Producer

    from salespipe.kafka import producer_config

    bucket, key = world.settings.BUCKET_NAME, "incoming/relatório 2026-03-01 (loja 1+2).csv"
    body = to_csv([sale("S1"), sale("S2")])
    etag = put(world, key, body)
    moved = put(world, "processed/sales_2026-02-28.csv", body)
    p = Producer(producer_config(world.settings))
    for k, e, name in ((key, etag, "ObjectCreated:Put"),
                       ("processed/sales_2026-02-28.csv", moved, "ObjectCreated:Copy"),
                       (key, etag, "ObjectRemoved:Delete")):
        p.produce(world.files_topic, key=f"{bucket}/{k}".encode(),
                  value=minio_notification(bucket, k, e, len(body), name))
    assert p.flush(30) == 0
    run_loader(world)
    assert files(world) == [(key, "loaded", 2, 2, 0, None)]
    assert query(world, "select etag from raw.files") == [(etag,)]


def test_exit_when_idle_counts_from_joining_the_group_not_from_start(world):
    """A loader whose group join takes longer than its idle time still loads what was
    announced. Another member of the group that serves no rebalance callback for 4 s holds
    the join back (the coordinator waits for every member to rejoin); counted from start,
    the loader would give up after its 1 s of "idleness" before it owned a partition."""
    import threading

    from confluent_kafka import Consumer

    from salespipe import kafka

    put_and_announce(world, "incoming/late-join.csv", to_csv([sale("J1")]))
    group = f"g-{world.files_topic}"
    holder = Consumer(kafka.consumer_config(world.settings, group))
    assigned = threading.Event()
    holder.subscribe([world.dlq_topic], on_assign=lambda _c, _p: assigned.set(),
                     on_revoke=lambda _c, _p: None)
    deadline = time.monotonic() + 60
    while not assigned.is_set():
        assert time.monotonic() < deadline, "the holding member never joined"
        holder.poll(0.2)
    released = threading.Timer(4.0, lambda: [holder.poll(0.5), holder.close()])
    released.start()
    started = time.monotonic()
    try:
        run_loader(world, idle=1.0)
    finally:
        released.join()
    assert time.monotonic() - started >= 4.0  # it did wait for the join
    assert files(world) == [("incoming/late-join.csv", "loaded", 1, 1, 0, None)]


def test_text_that_copy_could_misread_unquoted_is_stored_exactly(world):
    # Rows without a delimiter, quote or line break travel to PostgreSQL unquoted; these are
    # the values such a field could be misread as: NULL markers, the end-of-data marker,
    # backslashes and the significant spaces of text stored exactly as sent.
    tricky = [" padded ", "\\N", "NULL", "\\.", "back\\slash", "semi;colon", "tab\there", "'"]
    rows = [sale(f"S{i}", customer_name=name) for i, name in enumerate(tricky)]
    put_and_announce(world, "incoming/unquoted.csv", to_csv(rows))
    run_loader(world)
    got = [r[0] for r in query(world, "select customer_name from raw.sales order by row_number")]
    assert got == tricky
