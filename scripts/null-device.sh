#!/usr/bin/env bash
# Makes sure /dev/null is the null device. Should something run as root have replaced it with
# a regular file (a rename onto it does that), every `>/dev/null` then writes into that file and
# every child whose input is /dev/null reads it back: cargo's first question to the compiler
# then reads old error text as Rust source, which is how one CI run's lints failed. Put back.
set -euo pipefail
[ -c /dev/null ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "/dev/null is not the null device; as root: rm -f /dev/null && mknod -m 666 /dev/null c 1 3" >&2
  exit 1
fi
rm -f /dev/null
mknod -m 666 /dev/null c 1 3
echo "==> /dev/null had been replaced by a regular file; it is the null device again" >&2
