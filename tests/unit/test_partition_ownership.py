"""Which partitions the loader may load and commit, as its rebalance callbacks report them."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import TopicPartition

from loader.consumer import Ownership


@dataclass
class Msg:
    """The two accessors of a consumed message the ownership check reads."""

    t: str
    p: int

    def topic(self) -> str:
        return self.t

    def partition(self) -> int:
        return self.p


def test_nothing_is_owned_before_an_assignment():
    assert not Ownership().owns(Msg("sales.files", 0), 0)


def test_revoked_partition_is_no_longer_owned_and_the_others_are():
    own = Ownership()
    own.assigned([TopicPartition("sales.files", 0), TopicPartition("sales.files", 1)])
    own.revoked([TopicPartition("sales.files", 1)])
    assert own.owns(Msg("sales.files", 0), own.epoch)
    assert not own.owns(Msg("sales.files", 1), own.epoch)


def test_partition_assigned_again_after_a_revoke_is_owned_again():
    own = Ownership()
    own.assigned([TopicPartition("sales.files", 2)])
    own.revoked([TopicPartition("sales.files", 2)])
    own.assigned([TopicPartition("sales.files", 2)])
    assert own.owns(Msg("sales.files", 2), own.epoch)


def test_same_partition_number_of_another_topic_is_not_owned():
    own = Ownership()
    own.assigned([TopicPartition("sales.files", 0)])
    assert not own.owns(Msg("other.topic", 0), own.epoch)


def test_message_fetched_before_its_partition_came_back_is_not_loaded():
    """After a revoke and a new assignment Kafka fetches the partition again from the
    committed offset; the copy fetched before must be left, or committing it could skip a
    message handed back in between."""
    own = Ownership()
    own.assigned([TopicPartition("sales.files", 0)])
    fetched = own.epoch
    own.revoked([TopicPartition("sales.files", 0)])
    own.assigned([TopicPartition("sales.files", 0)])
    assert not own.owns(Msg("sales.files", 0), fetched)
    assert own.owns(Msg("sales.files", 0), own.epoch)


def test_message_of_a_partition_held_throughout_stays_ours_across_other_changes():
    own = Ownership()
    own.assigned([TopicPartition("sales.files", 0), TopicPartition("sales.files", 1)])
    fetched = own.epoch
    own.revoked([TopicPartition("sales.files", 1)])
    assert own.owns(Msg("sales.files", 0), fetched)
