#!/usr/bin/env bash
# Regenerates service/data/common-passwords.txt from a pinned npm package (MIT licence).
# Run by hand when the list should be refreshed; the result is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent @zxcvbn-ts/language-common@4.1.3 >/dev/null && tar xzf ./*.tgz )
python3 - "$tmp/package/src/passwords.json" "$here/service/data/common-passwords.txt" <<'PY'
import json, sys, unicodedata
words = json.load(open(sys.argv[1]))
seen, out = set(), []
for w in words:
    w = unicodedata.normalize("NFKC", w).lower()
    if len(w) >= 4 and w not in seen:
        seen.add(w); out.append(w)
    if len(out) == 20000:
        break
with open(sys.argv[2], "w") as f:
    f.write("# The 20,000 most common passwords (4+ characters, NFKC, lower case), most common first.\n")
    f.write("# From @zxcvbn-ts/language-common 4.1.3, MIT licence: Copyright (c) 2012-2016 Dan Wheeler and\n")
    f.write("# Dropbox, Inc.; Copyright (c) 2021 @zxcvbn-ts. Regenerate with scripts/make-common-passwords.sh.\n")
    f.write("\n".join(out) + "\n")
PY
