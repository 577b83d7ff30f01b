"""The reading-event ledger: what record_read keeps (no IP address, no email), how a read is
attributed to an organization, and the background flusher that writes it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.access import Access, Anonymous, Decision, Entitlement, Member, Reason, TierGrant
from app.db import session_scope
from app.models import ReadingEvent
from app.usage import recorder
from app.usage.ledger import counter_access_type
from tests.support.app import create_user
from tests.usage.conftest import DENIED, FIREFOX, FULL, GOOGLEBOT, OPEN, ORGS


def events() -> list[ReadingEvent]:
    with session_scope() as session:
        return list(session.execute(select(ReadingEvent).order_by(ReadingEvent.id)).scalars())


def test_a_read_keeps_no_ip_address_and_no_email(world):
    reader_id = create_user("carol@gmail.example")
    carol = Member(reader_id, "carol@gmail.example", "reader", True, client_ip="192.0.2.44")
    recorder.record_read(world.public["id"], OPEN, Anonymous("192.0.2.55"), FIREFOX)
    recorder.record_read(world.licensed["id"], DENIED, carol, FIREFOX)
    assert recorder.flush() == 2
    anonymous, member = events()
    stored = " ".join(str(v) for e in (anonymous, member) for v in e.model_dump().values())
    for secret in ("192.0.2.55", "192.0.2.44", "carol@gmail.example", "carol"):
        assert secret not in stored
    assert anonymous.member_id is None and len(anonymous.session_key or "") == 64
    assert (anonymous.outcome, anonymous.reason, anonymous.access_type) == (
        "full",
        "public",
        "Open",
    )
    assert member.member_id == reader_id and member.session_key is None
    assert (member.outcome, member.reason, member.access_type) == (
        "preview",
        "subscription_required",
        "Controlled",
    )
    # Outside every organization: only the verified domain is kept, for the turnaway list.
    assert member.organization_id is None and member.reader_domain == "gmail.example"


def test_the_session_key_is_stable_within_a_day_and_changes_the_next(world):
    morning = datetime(2026, 11, 5, 9, tzinfo=UTC)
    for when in (morning, morning + timedelta(hours=8), morning + timedelta(days=1)):
        recorder.record_read(world.public["id"], OPEN, Anonymous("192.0.2.55"), FIREFOX, when)
    recorder.flush()
    keys = [e.session_key for e in events()]
    assert len(keys) == 3
    assert keys[0] == keys[1] != keys[2]


def test_reads_are_attributed_by_ip_range_by_verified_domain_or_by_the_licence(world):
    b_reader = create_user("dora@lab.uni-b.edu")
    dora = Member(b_reader, "dora@lab.uni-b.edu", "reader", True, client_ip="192.0.2.1")
    unverified = Member(b_reader, "dora@lab.uni-b.edu", "reader", False, client_ip="192.0.2.1")
    licence = Entitlement(
        "organization", TierGrant(1, "t", None), None, f"organization:{world.org_b['id']}"
    )
    granted = Decision(Access.FULL, Reason.ENTITLED, licence)
    recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.200.7"), FIREFOX)
    recorder.record_read(world.licensed["id"], FULL, dora, FIREFOX)
    recorder.record_read(world.licensed["id"], DENIED, unverified, FIREFOX)
    recorder.record_read(world.licensed["id"], granted, Anonymous("192.0.2.9"), FIREFOX)
    recorder.flush()
    assert [e.organization_id for e in events()] == [
        world.org_a["id"],
        world.org_b["id"],
        None,
        world.org_b["id"],
    ]


def test_a_listed_robot_and_a_missing_user_agent_are_marked(world):
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), GOOGLEBOT)
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), None)
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX)
    recorder.flush()
    assert [e.is_robot for e in events()] == [True, True, False]


def test_the_flusher_writes_within_about_a_second_and_on_stop(world):
    recorder.start()
    try:
        recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX)
        assert recorder.pending_count() == 1  # the read itself wrote nothing
        deadline = time.monotonic() + 5
        while not events() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(events()) == 1
        recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX)
    finally:
        recorder.stop()
    assert len(events()) == 2 and recorder.pending_count() == 0


def test_a_read_of_a_report_deleted_before_the_flush_does_not_block_the_others(
    client, admin, world
):
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX)
    recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.2.3"), FIREFOX)
    response = client.delete(f"/api/v1/admin/reports/{world.public['slug']}", headers=admin.headers)
    assert response.status_code == 204, response.text
    recorder.flush()
    assert [e.report_id for e in events()] == [world.licensed["id"]]
    assert recorder.pending_count() == 0


def test_recording_can_be_switched_off(world, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("FOLIO_USAGE_RECORDING", "false")
    get_settings.cache_clear()
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX)
    assert recorder.pending_count() == 0
    get_settings.cache_clear()


def test_the_access_type_follows_the_reports_own_openness_never_the_reader():
    assert counter_access_type(Reason.PUBLIC) == "Open"
    assert counter_access_type(Reason.COMPLIMENTARY) == "Free_To_Read"
    assert counter_access_type(Reason.FREE_AFTER) == "Free_To_Read"
    for reason in (
        Reason.ENTITLED,
        Reason.REGISTERED,
        Reason.STAFF,
        Reason.LOGIN_REQUIRED,
        Reason.SUBSCRIPTION_REQUIRED,
        Reason.METER_EXHAUSTED,
    ):
        assert counter_access_type(reason) == "Controlled"


def test_a_range_added_after_a_flush_attributes_the_next_reads(client, admin, catalog, world):
    """The flusher skips the licence query for an address no range holds (its copy of every
    range, kept under the content generation): a new organization's range counts at once."""
    recorder.record_read(world.licensed["id"], DENIED, Anonymous("10.9.0.1"), FIREFOX)
    recorder.flush()
    body = {"name": "University C", "tier": catalog.tier, "ip_ranges": ["10.9.0.0/16"]}
    created = client.post(ORGS, headers=admin.headers, json=body)
    assert created.status_code == 201, created.text
    recorder.record_read(world.licensed["id"], FULL, Anonymous("10.9.0.1"), FIREFOX)
    recorder.flush()
    assert [e.organization_id for e in events()] == [None, created.json()["id"]]
