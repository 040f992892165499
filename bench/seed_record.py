#!/usr/bin/env python3
"""Seeds one patient's record through Carry's own HTTP API (the same server functions the pages
use): READINGS home readings of every kind and NOTES journal notes, spread over three years.
Prints the session cookie to use for the measurements on its last line.

usage: seed_record.py BASE_URL EMAIL PASSWORD READINGS NOTES
"""
import http.client
import json
import random
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

base, email, password, n_readings, n_notes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
rng = random.Random(42)
cookie = None


def post(endpoint, fields):
    global cookie
    headers = {
        "Origin": base,
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", f"/api/{endpoint}", urllib.parse.urlencode(fields), headers)
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        sys.exit(f"{endpoint}: HTTP {res.status}: {body[:300]!r}")
    for k, v in res.getheaders():
        if k.lower() == "set-cookie" and v.startswith("__Host-carry-session="):
            cookie = v.split(";", 1)[0]


def reading(kind):
    """A plausible value of each kind (a few concerning ones too)."""
    g = rng.gauss
    if kind == "blood-pressure":
        s = int(g(132, 14))
        return {"value": s, "diastolic": min(int(g(84, 9)), s - 20), "pulse": int(g(72, 8))}
    return {"value": {
        "heart-rate": lambda: int(g(72, 9)),
        "weight": lambda: round(g(78, 2), 1),
        "height": lambda: round(g(175, 0.3), 1),
        "temperature": lambda: round(g(36.9, 0.4), 1),
        "oxygen-saturation": lambda: min(100, int(g(96, 1.5))),
        "blood-glucose": lambda: round(max(2.5, g(6.5, 1.6)), 1),
        "peak-flow": lambda: int(g(430, 40)),
    }[kind]()}


KINDS = ["blood-pressure", "heart-rate", "weight", "height", "temperature", "oxygen-saturation", "blood-glucose", "peak-flow"]
WORDS = "slept walked tired better breathless dizzy garden appointment tablets headache cough energy pain mood visit".split()

post("sign-in", {"email": email, "password": password})
now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)
span = timedelta(days=3 * 365)
started = time.time()
total = n_readings + n_notes
note_every = total // n_notes if n_notes else total + 1
for i in range(total):
    at = (now - span * (i / total)).strftime("%Y-%m-%dT%H:%M")  # UTC is close enough to UK time for seeding
    if i % note_every == 0:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 200)))
        post("record/add-note", {"title": f"Diary {i}", "text": text, "tags": "diary", "occurred_at": at})
    else:
        kind = KINDS[i % len(KINDS)]
        fields = {"kind": kind, "occurred_at": at, **{k: str(v) for k, v in reading(kind).items()}}
        post("record/add-reading", fields)
    if i and i % 2000 == 0:
        print(f"  {i} entries ({i / (time.time() - started):.0f} a second)", file=sys.stderr)
print(f"  {total} entries in {time.time() - started:.0f} s", file=sys.stderr)
print(cookie)
