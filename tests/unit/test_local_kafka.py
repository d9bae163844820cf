"""The local Kafka's cluster id must be one StorageTool accepts as an argument."""

from __future__ import annotations

from cli.local.kafka import new_cluster_id


def test_cluster_ids_never_start_with_a_dash_so_storage_tool_reads_them_as_values() -> None:
    # One in 64 raw ids starts with "-"; 4,000 draws miss that with odds of ~1e-28.
    ids = [new_cluster_id() for _ in range(4000)]
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 22 for i in ids)
