"""S3_AFTER_LOAD: tag or move an object only after its transaction committed; replay still works."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.loader_support import put_and_announce, query, sale, to_csv

pytestmark = pytest.mark.integration

GOOD = to_csv([sale("S-1"), sale("S-2")])
MISSING_COLUMN = to_csv([sale("S-1")], columns=["sale_id", "sale_date"])


def _loader(world, mode: str):
    from loader.consumer import Loader

    settings = world.settings.model_copy(update={"S3_AFTER_LOAD": mode})
    return Loader(settings, topics=world.topics, group_id=f"g-{world.files_topic}",
                  run_dbt=False)


def _keys(world) -> list[str]:
    from salespipe import s3

    resp = s3.client(world.settings).list_objects_v2(Bucket=world.settings.BUCKET_NAME)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def _s3(world):
    from salespipe import s3

    return s3.client(world.settings)


def test_move_puts_loaded_and_rejected_objects_aside_and_records_where(world):
    good_etag = put_and_announce(world, "incoming/sales_a.csv", GOOD)
    bad_etag = put_and_announce(world, "incoming/sales_b.csv", MISSING_COLUMN)
    _loader(world, "move").run(exit_when_idle=2.0)

    assert _keys(world) == ["processed/sales_a.csv", "rejected/sales_b.csv"]
    assert query(world, "select key, etag, status, moved_to from raw.files order by key") == [
        ("incoming/sales_a.csv", good_etag, "loaded", "processed/sales_a.csv"),
        ("incoming/sales_b.csv", bad_etag, "rejected", "rejected/sales_b.csv")]
    head = _s3(world).head_object(Bucket=world.settings.BUCKET_NAME, Key="processed/sales_a.csv")
    assert head["Metadata"]["salespipe-etag"] == good_etag


def test_move_takes_an_already_loaded_copy_out_of_the_inbox_too(world):
    """The same bytes uploaded again under the same key are skipped, not loaded twice, and
    still leave incoming/: an inbox holds only what is pending."""
    etag = put_and_announce(world, "incoming/sales_a.csv", GOOD)
    _loader(world, "move").run(exit_when_idle=2.0)
    assert put_and_announce(world, "incoming/sales_a.csv", GOOD) == etag
    _loader(world, "move").run(exit_when_idle=2.0)

    assert _keys(world) == ["processed/sales_a.csv"]
    assert query(world, "select key, etag, status from raw.files") == [
        ("incoming/sales_a.csv", etag, "loaded")]
    assert query(world, "select count(*) from raw.sales")[0][0] == 2


def test_tag_marks_the_object_in_place(world):
    put_and_announce(world, "incoming/sales_a.csv", GOOD)
    put_and_announce(world, "incoming/sales_b.csv", MISSING_COLUMN)
    _loader(world, "tag").run(exit_when_idle=2.0)

    assert _keys(world) == ["incoming/sales_a.csv", "incoming/sales_b.csv"]
    file_id = query(world, "select file_id from raw.files where key = 'incoming/sales_a.csv'")
    for key, status in (("incoming/sales_a.csv", "loaded"), ("incoming/sales_b.csv", "rejected")):
        tags = _s3(world).get_object_tagging(Bucket=world.settings.BUCKET_NAME, Key=key)
        tagset = {t["Key"]: t["Value"] for t in tags["TagSet"]}
        assert tagset["salespipe-status"] == status
    tags = _s3(world).get_object_tagging(Bucket=world.settings.BUCKET_NAME,
                                         Key="incoming/sales_a.csv")["TagSet"]
    assert {"Key": "salespipe-file-id", "Value": str(file_id[0][0])} in tags


def test_move_happens_only_after_the_row_is_committed(world):
    """Seen from another connection at the moment of the move, the raw.files row exists."""
    from loader import tidy

    put_and_announce(world, "incoming/sales_a.csv", GOOD)
    seen_at_move: list[list[tuple]] = []
    original = tidy.Tidy._move

    def spying_move(self, conn, source, outcome):
        with psycopg.connect(**world.settings.pg_connect_kwargs()) as other:
            seen_at_move.append(other.execute(
                "select key, status from raw.files").fetchall())
        return original(self, conn, source, outcome)

    tidy.Tidy._move = spying_move
    try:
        _loader(world, "move").run(exit_when_idle=2.0)
    finally:
        tidy.Tidy._move = original
    assert seen_at_move == [[("incoming/sales_a.csv", "loaded")]]
    assert _keys(world) == ["processed/sales_a.csv"]


def test_failed_transaction_leaves_the_object_untouched(world):
    """The database refuses the file's rows (a trigger): nothing committed, nothing moved."""
    from salespipe import db

    with db.connect(world.settings, autocommit=True) as conn:
        conn.execute("""
            create function raw.refuse() returns trigger language plpgsql as
            $$ begin raise exception 'refused by test'; end $$;
            create trigger refuse before insert on raw.sales
            for each statement execute function raw.refuse();
        """)
    put_and_announce(world, "incoming/sales_a.csv", GOOD)
    loader = _loader(world, "move")
    with pytest.raises(psycopg.errors.RaiseException):
        loader.run(exit_when_idle=2.0)
    assert _keys(world) == ["incoming/sales_a.csv"]
    assert query(world, "select count(*) from raw.files") == [(0,)]


def test_replay_finds_moved_objects_and_skips_loaded_retries_rejected(world):
    from announcer.announce import replay

    put_and_announce(world, "incoming/sales_a.csv", GOOD)
    put_and_announce(world, "incoming/sales_b.csv", MISSING_COLUMN)
    _loader(world, "move").run(exit_when_idle=2.0)
    first = query(world, "select key, file_id from raw.files where status = 'loaded'")

    settings = world.settings
    one = replay(settings, key="incoming/sales_a.csv", topic=world.files_topic)
    assert [item.obj.key for item in one] == ["incoming/sales_a.csv"]
    every = replay(settings, all_objects=True, topic=world.files_topic)
    assert sorted(item.obj.key for item in every) == ["incoming/sales_a.csv", "incoming/sales_b.csv"]
    _loader(world, "move").run(exit_when_idle=2.0)

    # The loaded version was recognised (same key, same ETag) and skipped: still one row.
    assert query(world, "select key, file_id from raw.files where status = 'loaded'") == first
    # The rejected one was read from rejected/ and tried again (rejected again: same reason).
    assert query(world, "select key, status from raw.files order by key") == [
        ("incoming/sales_a.csv", "loaded"), ("incoming/sales_b.csv", "rejected")]
    assert _keys(world) == ["processed/sales_a.csv", "rejected/sales_b.csv"]
