"""Distinct signed Zoom webhooks for wrk (bench/wrk/events.lua): the eleven webhooks of the
realistic call in shared/domain/src/samples.rs (`realistic_call`), for as many engagements
as it takes, in the order a busy contact center sends them (an engagement starting every
second, its events 25 s apart, so that a few dozen are in progress at once).

    python3 bench/events.py SECRET COUNT OUT.tsv

Each line: timestamp<TAB>x-zm-signature<TAB>body, signed now (the replay window is 300 s).
"""

import hashlib
import hmac
import json
import sys
import time
from datetime import datetime, timedelta, timezone

ACCOUNT_ID = "D8cJuqWVQ623CI4Q8yQK0Q"
AGENT = {
    "user_id": "IGTRVt3gQ2i-WjoUIjeZxw",
    "user_display_name": "Ana Agent",
    "cc_queue_id": "q-sales",
    "queue_name": "Sales",
}
# (event, seconds after the start, extra fields of payload.object): realistic_call's webhooks.
CALL = [
    ("engagement_started", 0, {}),
    ("engagement_user_answered", 8, AGENT),
    ("engagement_user_hold", 60, AGENT),
    ("engagement_user_unhold", 95, AGENT),
    ("engagement_user_muted", 120, AGENT),
    ("engagement_user_unmuted", 130, AGENT),
    ("engagement_note_added", 200, {"note_id": "n1", "note": "Wants a refund for order A-1001"}),
    ("engagement_wrap_up_started", 300, AGENT),
    ("engagement_disposition_added", 310, {"disposition_id": "d1", "disposition_name": "Refund issued"}),
    ("engagement_wrap_up_ended", 330, AGENT),
    ("engagement_ended", 331, {}),
]


def iso(at):
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def body(event, engagement_id, at, extra):
    obj = {
        "engagement_id": engagement_id,
        "engagement_direction": "inbound",
        "channel": "voice",
        "date_time_ms": iso(at),
        "flow_id": "FkGXpgpWQIi0qkCvxLvw5Q",
        "flow_name": "Main line",
        "flow_number": "+18005550100",
        "consumer_number": "+14155550123",
        "consumer_display_name": "Jo Caller",
    }
    obj.update(extra)
    envelope = {
        "event": f"contact_center.{event}",
        "event_ts": int(at.timestamp() * 1000) + 137,
        "payload": {"account_id": ACCOUNT_ID, "object": obj},
    }
    return json.dumps(envelope, separators=(",", ":"))


def main():
    secret, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    run = int(time.time())
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    deliveries = []
    engagements = -(-count // len(CALL))
    for i in range(engagements):
        for n, (event, s, extra) in enumerate(CALL):
            key = i * 1000 + n * 25_000
            at = start + timedelta(seconds=i + s)
            deliveries.append((key, body(event, f"Bench{run}-{i:07d}", at, extra)))
    deliveries.sort(key=lambda d: d[0])
    ts = str(int(time.time()))
    key = secret.encode()
    with open(out, "w") as f:
        for _, b in deliveries[:count]:
            mac = hmac.new(key, f"v0:{ts}:{b}".encode(), hashlib.sha256).hexdigest()
            f.write(f"{ts}\tv0={mac}\t{b}\n")


if __name__ == "__main__":
    main()
