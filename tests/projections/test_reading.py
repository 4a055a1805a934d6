"""Reading the log for projections: the same events as the application's own mapper, a page at a time."""

from __future__ import annotations

from decimal import Decimal

from eventsourcing.utils import get_topic

from mcreg.bootstrap import Services
from mcreg.projections.reading import MEMO_SIZE, LogReader, MemoTranscoder
from mcreg.registry.aggregates.credential import Credential
from tests.projections.conftest import issue_many
from tests.projections.histories import record_history
from tests.world import World


def test_decoded_events_equal_the_mappers_whatever_the_page_size(services: Services):
    app = services.registry
    record_history(app)
    head = app.recorder.max_notification_id() or 0
    expected = [
        (n.id, n.topic, type(event), vars(event))
        for n in app.recorder.select_notifications(start=1, limit=head)
        for event in [app.mapper.to_domain_event(n)]
    ]

    for page_size in (1, 7, head):
        reader = LogReader(app)
        pages = list(reader.pages(0, head, (), page_size))
        recorded = [r for rows, _ in pages for r in reader.decode(rows)]
        assert [(r.position, r.topic, type(r.event), vars(r.event)) for r in recorded] == expected
        assert pages[-1][1] == head


def test_pages_hold_the_topics_asked_for_and_each_ends_where_the_next_begins(services: Services, world: World):
    app = services.registry
    issue_many(world, 5)
    head = app.recorder.max_notification_id() or 0
    issued = get_topic(Credential.Issued)
    issued_at = [n.id for n in app.recorder.select_notifications(start=1, limit=head) if n.topic == issued]

    pages = list(LogReader(app).pages(0, head, (issued,), 2))

    assert [len(rows) for rows, _ in pages] == [2, 2, 1]
    assert [row.id for rows, _ in pages for row in rows] == issued_at
    assert [end for _, end in pages] == [issued_at[1], issued_at[3], head]  # a short page ends at the head


def test_a_range_without_the_topics_asked_for_is_one_empty_page(services: Services, world: World):
    app = services.registry
    issue_many(world, 2)
    head = app.recorder.max_notification_id() or 0

    assert list(LogReader(app).pages(0, head, (get_topic(Credential.Suspended),), 10)) == [([], head)]
    assert list(LogReader(app).pages(head, head, (), 10)) == []


def test_values_that_recur_are_shared_and_values_that_do_not_stop_being_remembered(services: Services):
    transcoder = MemoTranscoder(services.registry.mapper.transcoder)
    actor = b'{"_type_": "Actor", "_data_": ["53134c8cafd05ca9b245a6e565ab3bfb", "provider", "demo", null]}'

    first, again = transcoder.decode(actor), transcoder.decode(actor)
    assert first == again and first is again

    for n in range(MEMO_SIZE + 1):  # a new amount each time: not worth remembering
        transcoder.decode(b'{"_type_": "decimal_str", "_data_": "%d"}' % n)
    assert "decimal_str" not in transcoder.memos
    assert transcoder.decode(b'{"_type_": "decimal_str", "_data_": "1.5"}') == Decimal("1.5")
    assert transcoder.decode(actor) is first
