#!/usr/bin/env python3
"""Seeds a practice's review inbox for bench/inbox.sh: PATIENTS records linked to the practice
with ODS code ODS, and ENTRIES shared entries waiting for review (readings and notes, about one
in twenty readings concerning), written straight into the database in Carry's schema, with the
inbox rows Carry keeps beside them. Registering 20,000 people through the API would spend the
run hashing passwords; the inbox page under test reads only these tables.

    seed_inbox.py sqlite:///path/carry.db|postgres://... ODS PATIENTS ENTRIES
"""
import json
import random
import subprocess
import sys
import uuid

target, ods, patients, entries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(7)
NOW = 1_795_341_600_000  # 22 Nov 2026, 10:00 UTC
DAY = 86_400_000


def q(s):
    return "'" + s.replace("'", "''") + "'"


def rows(table, cols, values):
    """INSERT statements of up to 500 rows each."""
    out = []
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        out.append(f"insert into {table} ({', '.join(cols)}) values\n" + ",\n".join("(" + ", ".join(v) + ")" for v in chunk) + ";")
    return out


def main():
    sql = []
    practice = f"(select id from practices where ods_code = {q(ods)})"
    users, pats, links, ents, versions, inbox = [], [], [], [], [], []
    lines = {}
    ids = []
    for n in range(patients):
        user, patient = str(uuid.uuid4()), str(uuid.uuid4())
        email = f"bench-patient-{n}@bench.invalid"
        users.append([q(user), q(email), q(email), q(f"Bench Patient {n}"), str(NOW), str(NOW)])
        pats.append([q(patient), q(user), str(NOW), str(NOW)])
        links.append([q(patient), practice, q(f"{n:010d}"), "'linked'", q(user), str(NOW - 40 * DAY), str(NOW - 40 * DAY), str(NOW), str(NOW)])
        ids.append((user, patient))
    for n in range(entries):
        user, patient = ids[n % patients] if n < patients else random.choice(ids)
        entry = str(uuid.uuid4())
        at = NOW - random.randint(1, 30 * DAY)
        concerning = random.random() < 0.05
        if n % 3 == 2:
            kind, reading = "note", None
            body = {"type": "note", "data": {"title": f"Note {n}", "text": "How I have been this week.", "tags": []}}
        else:
            s, d = (185, 125) if concerning else (random.randint(115, 150), random.randint(70, 95))
            kind, reading = "reading", "blood-pressure"
            body = {"type": "reading", "data": {"kind": "blood-pressure", "systolic": s, "diastolic": d, "pulse": None}}
        concerning = concerning and kind == "reading"
        b = q(json.dumps(body, separators=(",", ":")))
        ents.append([q(entry), q(patient), q(kind), q(reading) if reading else "null", "1", b, "'general'", "1", str(at), q(user), "'carry'", "null", "null", str(at), str(at)])
        versions.append([q(entry), "1", "'created'", b, "'general'", "1", str(at), q(user), str(at), str(at), str(at)])
        inbox.append([q(entry), practice, q(patient), "'waiting'", "1" if concerning else "0", str(at), str(at)])
        waiting, flagged, oldest = lines.get(patient, (0, 0, at))
        lines[patient] = (waiting + 1, max(flagged, int(concerning)), min(oldest, at))
    sql += rows("users", ["id", "email", "email_key", "display_name", "created_at", "updated_at"], users)
    sql += rows("patients", ["id", "user_id", "created_at", "updated_at"], pats)
    sql += rows("practice_links", ["patient_id", "practice_id", "nhs_number", "status", "requested_by", "requested_at", "decided_at", "created_at", "updated_at"], links)
    sql += rows("entries", ["id", "patient_id", "kind", "reading_kind", "version", "body", "label", "shared_with_practice", "occurred_at", "entered_by", "source", "deleted_at", "deleted_by", "created_at", "updated_at"], ents)
    sql += rows("entry_versions", ["entry_id", "version", "change", "body", "label", "shared_with_practice", "occurred_at", "changed_by", "recorded_at", "created_at", "updated_at"], versions)
    sql += rows("practice_inbox", ["entry_id", "practice_id", "patient_id", "state", "concerning", "waiting_since", "updated_at"], inbox)
    sql += rows("practice_inbox_patients", ["patient_id", "practice_id", "waiting", "flagged", "oldest"],
                [[q(p), practice, str(w), str(f), str(o)] for p, (w, f, o) in lines.items()])
    script = "begin;\n" + "\n".join(sql) + "\ncommit;\n"
    if target.startswith("sqlite://"):
        import sqlite3
        db = sqlite3.connect(target[len("sqlite://"):].split("?")[0])
        db.executescript(script)
        db.execute("analyze")
        db.close()
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input=script + "analyze;\n", text=True, check=True, stdout=subprocess.DEVNULL)
    print(f"seeded {patients} linked patients and {entries} waiting entries")


main()
