#!/usr/bin/env python3
"""kill -9 of the Carry server during writes (security.md T24).

Writes entries, readings, sharing changes and carer invitations through Carry's own HTTP API
(the server functions the pages use) from two writers at once, and the GP's reviews of what was
shared (notes and acceptances) from a third, while the server (never the database) is killed
with SIGKILL at random moments and started again. Then checks that every write the server
acknowledged is there, that no transaction is half-applied (each entry's versions are all there,
each invitation has its history row, each review its step, its access-log row and, for an
acceptance, its row in the queue for the shared care record; every write has its access-log
row), that `carry audit verify` passes, and the database's own check (SQLite's
`PRAGMA integrity_check`; amcheck through `pg_amcheck` on PostgreSQL).

The demo patient links their record to the demo practice first (asked with NHS number and date
of birth, accepted by the demo administrator). The demo GP signs in with their password and the
run marks that session as started with a passkey in the database, as the server's HTTP tests
do: the passkey ceremony itself is tested in Chromium, and what is under test here is the
writes.

usage: kill9.py --backend sqlite|postgres --kills N [--binary target/release/carry]

Prints one line of figures per backend and exits 1 if anything is missing or broken.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

PATIENT = ("sam.patel@demo.carry.invalid", "demo kettle lantern orbit")
ADMIN = ("jo.lee@demo.carry.invalid", "demo saffron pebble tide")
GP = ("priya.shah@demo.carry.invalid", "demo granite willow comet")
NHS_NUMBER, BORN_ON = "943 476 5919", "1980-04-02"
PG = "postgres://postgres@127.0.0.1:5432"


class Server:
    """One Carry server on a free port, in demo mode, on the given database."""

    def __init__(self, binary, database_url, workdir):
        self.binary, self.database_url, self.workdir = binary, database_url, workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.update({
            "CARRY_MODE": "demo",
            "CARRY_LISTEN": f"127.0.0.1:{self.port}",
            "CARRY_PUBLIC_URL": f"http://localhost:{self.port}",
            "DATABASE_URL": self.database_url,
            "LEPTOS_SITE_ROOT": "target/site",
            "CARRY_MAIL_FOLDER": os.path.join(self.workdir, "outbox"),
            "RUST_LOG": "warn",
        })
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary], env=env, stdout=log, stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"Carry exited at start; see {self.workdir}/server.log")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit("Carry did not answer /health within 60 s")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    """Posts to server functions as a signed-in browser without JavaScript would, but asking
    for JSON, so an acknowledgement is exactly an HTTP 200."""

    def __init__(self, server, cookie=None):
        self.server, self.cookie = server, cookie

    def post(self, endpoint, fields):
        base = f"http://localhost:{self.server.port}"
        headers = {"Origin": base, "Host": f"localhost:{self.server.port}", "Accept": "application/json",
                   "Content-Type": "application/x-www-form-urlencoded"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        c.request("POST", f"/api/{endpoint}", urllib.parse.urlencode(fields), headers)
        res = c.getresponse()
        body = res.read()
        for k, v in res.getheaders():
            if k.lower() == "set-cookie" and v.startswith("__Host-carry-session="):
                self.cookie = v.split(";", 1)[0]
        return res.status, dict((k.lower(), v) for k, v in res.getheaders()), body

    def get_json(self, endpoint):
        headers = {"Host": f"localhost:{self.server.port}", "Accept": "application/json", "Cookie": self.cookie or ""}
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        c.request("GET", f"/api/{endpoint}", headers=headers)
        res = c.getresponse()
        body = res.read()
        if res.status != 200:
            sys.exit(f"GET /api/{endpoint}: HTTP {res.status} {body[:200]!r}")
        return json.loads(body)


def entry_id(headers):
    m = re.search(r"/record/entries/([0-9a-f-]{36})", headers.get("location", ""))
    return m.group(1) if m else None


class Run:
    def __init__(self, server, kills, rng):
        self.server, self.kills, self.rng = server, kills, rng
        self.lock = threading.Lock()
        self.acked = {"note": [], "reading": [], "share": [], "invite": [], "review": []}
        self.refused = []
        self.sent = 0
        self.up = threading.Event()
        self.done = threading.Event()
        self.cookie = None
        self.gp_cookie = None
        self.patient_id = None
        self.invites_left = 15  # under the daily cap of invitations one person may send
        self.started_ms = int(time.time() * 1000)

    def sign_in(self, who=PATIENT):
        client = Client(self.server)
        status, _, body = client.post("sign-in", {"email": who[0], "password": who[1]})
        if status != 200 or not client.cookie:
            sys.exit(f"sign-in of {who[0]} failed: HTTP {status} {body[:200]!r}")
        return client.cookie

    def link_and_review_as_gp(self, q):
        """The patient's record is linked to the demo practice, and the GP's session may review."""
        practice = q("select id from practices where ods_code = 'X99001'")[0][0]
        patient = Client(self.server, self.cookie)
        status, _, body = patient.post("practice/link", {"practice": practice, "nhs_number": NHS_NUMBER, "born_on": BORN_ON})
        if status != 200:
            sys.exit(f"asking to link failed: HTTP {status} {body[:200]!r}")
        admin = Client(self.server, self.sign_in(ADMIN))
        request = admin.get_json("practice/home")["link_requests"][0]
        self.patient_id = request["patient_id"]
        status, _, body = admin.post("practice/decide-link", {"patient": self.patient_id, "seen": request["seen"], "decision": "accept"})
        if status != 200:
            sys.exit(f"accepting the link failed: HTTP {status} {body[:200]!r}")
        self.gp_cookie = self.sign_in(GP)
        q("update sessions set auth_method = 'passkey' where user_id = (select id from users where email_key = ?)", (GP[0],))

    def reviewer(self):
        """The GP notes or accepts shared entries, one at a time, as they are shared."""
        rng = random.Random(99)
        reviewed = set()
        while not self.done.is_set():
            self.up.wait()
            with self.lock:
                waiting = [e for e in self.acked["share"] if e not in reviewed]
            if not waiting:
                time.sleep(0.02)
                continue
            target = rng.choice(waiting)
            decision = rng.choice(["note", "accept"])
            with self.lock:
                self.sent += 1
            try:
                status, _, body = Client(self.server, self.gp_cookie).post(
                    "practice/review", {"patient": self.patient_id, "entries[0]": f"{target}:2", "decision": decision})
                if status == 200:
                    reviewed.add(target)
                    with self.lock:
                        self.acked["review"].append((target, decision))
                elif status == 400 and b"already been reviewed" in body:
                    # Reviewed by a request the kill cut off after it committed.
                    reviewed.add(target)
                else:
                    with self.lock:
                        self.refused.append(("review", status, body[:200]))
            except (OSError, http.client.HTTPException):
                time.sleep(0.02)

    def writer(self, n):
        rng = random.Random(n)
        i = 0
        while not self.done.is_set():
            self.up.wait()
            client = Client(self.server, self.cookie)
            i += 1
            marker = f"kill9-{n}-{i}-{uuid.uuid4().hex[:8]}"
            choice = rng.random()
            with self.lock:
                self.sent += 1
            try:
                if choice < 0.4:
                    kind, fields = "note", {"title": marker, "text": f"written by writer {n}", "occurred_at": "2026-11-01T09:00",
                                           "label": "general"}
                    status, headers, body = client.post("record/add-note", fields)
                    ack = entry_id(headers)
                elif choice < 0.8:
                    kind, fields = "reading", {"kind": "blood-pressure", "value": str(100 + i % 60), "diastolic": "70",
                                              "pulse": "64", "occurred_at": "2026-11-01T09:00", "label": "general"}
                    status, headers, body = client.post("record/add-reading", fields)
                    ack = entry_id(headers)
                elif choice < 0.95:
                    with self.lock:
                        done = [e for e in self.acked["note"] + self.acked["reading"] if e not in self.acked["share"]]
                    if not done:
                        with self.lock:
                            self.sent -= 1
                        continue
                    target = rng.choice(done)
                    kind = "share"
                    status, headers, body = client.post("record/set-privacy",
                                                        {"id": target, "version": "1", "label": "general", "share": "on"})
                    ack = target
                else:
                    with self.lock:
                        if self.invites_left <= 0:
                            self.sent -= 1
                            continue
                        self.invites_left -= 1
                    kind = "invite"
                    email = f"{marker}@example.org"
                    status, headers, body = client.post("access/invite", {"name": "Kill Nine", "email": email, "relationship": "FRND",
                                                                          "label_general": "on"})
                    ack = email
                if status == 200 and ack:
                    with self.lock:
                        self.acked[kind].append(ack)
                elif status != 200 and not (kind == "share" and status == 409):
                    # A refusal the run did not expect (a stale share is expected: another
                    # writer may have shared the same entry first).
                    with self.lock:
                        self.refused.append((kind, status, body[:200]))
            except (OSError, http.client.HTTPException):
                # The server died with this request in flight: not acknowledged.
                time.sleep(0.02)

    def go(self, q):
        self.server.start()
        self.cookie = self.sign_in()
        self.link_and_review_as_gp(q)
        self.up.set()
        writers = [threading.Thread(target=self.writer, args=(n,), daemon=True) for n in range(2)]
        writers.append(threading.Thread(target=self.reviewer, daemon=True))
        for w in writers:
            w.start()
        for _ in range(self.kills):
            time.sleep(self.rng.uniform(0.05, 0.8))
            self.up.clear()
            self.server.kill()
            self.server.start()
            self.up.set()
        time.sleep(0.5)
        self.done.set()
        self.up.set()
        for w in writers:
            w.join(timeout=40)
        self.server.stop()


def query(database_url, workdir, sql, args=()):
    if database_url.startswith("sqlite://"):
        con = sqlite3.connect(database_url[len("sqlite://"):].split("?")[0])
        try:
            rows = con.execute(sql, args).fetchall()
            con.commit()
            return rows
        finally:
            con.close()
    # PostgreSQL through psql: arguments are bound as psql variables, quoted by psql itself.
    text = sql
    cmd = ["psql", database_url, "-qAtX", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for n, a in enumerate(args):
        cmd += ["-v", f"a{n}={a}"]
        text = text.replace("?", f":'a{n}'", 1)
    out = subprocess.run(cmd, input=text, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def check(run, database_url, binary, workdir, backend):
    q = lambda sql, args=(): query(database_url, workdir, sql, args)
    missing = []
    half = []
    for kind in ("note", "reading"):
        for e in run.acked[kind]:
            if int(q("select count(*) from entries where id = ?", (e,))[0][0]) != 1:
                missing.append(f"{kind} {e}")
    for e in run.acked["share"]:
        row = q("select version, shared_with_practice from entries where id = ?", (e,))
        if not row or int(row[0][0]) < 2 or int(row[0][1]) != 1:
            missing.append(f"share {e}")
    for email in run.acked["invite"]:
        if int(q("select count(*) from grants where invited_email = ?", (email,))[0][0]) != 1:
            missing.append(f"invitation {email}")
    for (e, decision) in run.acked["review"]:
        step = "accepted" if decision == "accept" else "noted"
        if int(q("select count(*) from entry_reviews where entry_id = ? and step = ?", (e, step))[0][0]) != 1:
            missing.append(f"review {e} ({step})")
    # Every review step has its access-log row, its place in the inbox, and an acceptance its
    # row in the queue for the shared care record: all in one transaction.
    for (e, step, logged, inbox, queued) in q(
            "select r.entry_id, r.step, "
            "(select count(*) from audit_log a where a.item_id = r.entry_id and a.action = 'review' and a.outcome = 'allowed'), "
            "(select count(*) from practice_inbox i where i.entry_id = r.entry_id and i.state = 'done'), "
            "(select count(*) from care_record_outbox o where o.entry_id = r.entry_id) from entry_reviews r"):
        if int(logged) < 1 or int(inbox) != 1 or int(queued) != (1 if step == "accepted" else 0):
            half.append(f"review of {e} ({step}): {logged} access-log rows, {inbox} done in the inbox, {queued} queued to send")
    # Every entry has every version up to its number, and every version its access-log row.
    for (e, v, n) in q("select e.id, e.version, (select count(*) from entry_versions x where x.entry_id = e.id) from entries e"):
        if int(v) != int(n):
            half.append(f"entry {e}: version {v} with {n} version rows")
    for (g, n) in q("select g.id, (select count(*) from grant_changes c where c.grant_id = g.id) from grants g"):
        if int(n) < 1:
            half.append(f"grant {g} without its history")
    # Every entry written during the run has the access-log row of its creation, and one for
    # each change (they commit in the same transaction as the write).
    for (e, v, adds, changes) in q(
            "select e.id, e.version, "
            "(select count(*) from audit_log a where a.item_id = e.id and a.action = 'add' and a.outcome = 'allowed'), "
            "(select count(*) from audit_log a where a.item_id = e.id and a.action = 'change' and a.outcome = 'allowed') "
            "from entries e where e.created_at >= ?", (run.started_ms,)):
        if int(adds) < 1 or int(changes) < int(v) - 1:
            half.append(f"entry {e}: version {v} with {adds} add and {changes} change rows in the access log")
    env = dict(os.environ, DATABASE_URL=database_url)
    audit = subprocess.run([binary, "audit", "verify"], env=env, capture_output=True, text=True)
    audit_line = (audit.stdout + audit.stderr).strip().splitlines()[-1] if (audit.stdout + audit.stderr).strip() else "no output"
    if backend == "sqlite":
        integrity = q("pragma integrity_check")[0][0]
        integrity_ok = integrity == "ok"
    else:
        db = database_url.rsplit("/", 1)[1]
        amcheck = shutil.which("pg_amcheck") or next(iter(sorted(
            p for p in (f"/usr/lib/postgresql/{v}/bin/pg_amcheck" for v in os.listdir("/usr/lib/postgresql")) if os.path.exists(p))), None)
        if not amcheck:
            sys.exit("pg_amcheck not found (it comes with PostgreSQL's server package)")
        res = subprocess.run([amcheck, "-h", "127.0.0.1", "-U", "postgres", "--install-missing", "--heapallindexed", db],
                             capture_output=True, text=True)
        integrity_ok = res.returncode == 0
        integrity = "ok" if integrity_ok else (res.stdout + res.stderr).strip()[:500]
    total = sum(len(v) for v in run.acked.values())
    print(f"{backend}: {run.kills} kills, {run.sent} writes sent (those in flight at a kill unanswered), {total} acknowledged "
          f"({len(run.acked['note'])} notes, {len(run.acked['reading'])} readings, {len(run.acked['share'])} shares, "
          f"{len(run.acked['invite'])} invitations, {len(run.acked['review'])} reviews), {len(missing)} missing, {len(half)} half-applied; "
          f"audit: {audit_line}; integrity: {integrity}")
    for m in missing[:20]:
        print(f"  MISSING {m}")
    for h in half[:20]:
        print(f"  HALF-APPLIED {h}")
    for r in run.refused[:10]:
        print(f"  REFUSED {r}")
    return not missing and not half and audit.returncode == 0 and integrity_ok and not run.refused and total > 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--binary", default="target/release/carry")
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    workdir = tempfile.mkdtemp(prefix="carry-kill9.")
    if a.backend == "sqlite":
        database_url = f"sqlite://{workdir}/carry.db"
    else:
        name = f"carry_kill9_{os.getpid()}"
        subprocess.run(["psql", f"{PG}/postgres", "-qAtX", "-c", f"create database {name}"], check=True, capture_output=True)
        database_url = f"{PG}/{name}"
    ok = False
    try:
        run = Run(Server(a.binary, database_url, workdir), a.kills, random.Random(seed))
        run.go(lambda sql, args=(): query(database_url, workdir, sql, args))
        ok = check(run, database_url, a.binary, workdir, a.backend)
        if not ok:
            print(f"  (seed {seed}; server log in {workdir}/server.log)")
    finally:
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        if a.backend == "postgres":
            subprocess.run(["psql", f"{PG}/postgres", "-qAtX", "-c", f"drop database if exists {name} with (force)"], capture_output=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
