"""Checks FHIR R4 JSON files with an independent validator (fhir.resources' R4B models: datatypes,
cardinality, required elements, unknown elements). Every resource inside a Bundle is checked too.

    validate.py FILE_OR_FOLDER...     exit 0 when all are valid; 1 with one line per problem
"""
import json
import sys
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class


def check(resource, where, problems):
    kind = resource.get("resourceType")
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as e:  # the validator's own message names the element
        problems.append(f"{where}: {kind}: {e}".replace("\n", " | ")[:2000])
        return
    if kind == "Bundle":
        for i, entry in enumerate(resource.get("entry", [])):
            if "resource" in entry:
                check(entry["resource"], f"{where} entry {i}", problems)


def main(args):
    files = []
    for a in args:
        p = Path(a)
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    if not files:
        print("validate.py: no files to check", file=sys.stderr)
        return 2
    problems = []
    for f in files:
        check(json.loads(f.read_text()), f.name, problems)
    for p in problems:
        print(p)
    print(f"{len(files)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
