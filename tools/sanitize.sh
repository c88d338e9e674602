#!/usr/bin/env bash
# Build fastact with AddressSanitizer + UndefinedBehaviorSanitizer and run
# the test suite under them. Python itself is not instrumented, so the ASan
# runtime is preloaded; leak detection is off because CPython's allocator
# keeps memory until exit by design (reference leaks have their own test,
# tests/test_hardening.py::test_repeated_calls_do_not_leak).
#
#   tools/sanitize.sh [pytest args...]     e.g. tools/sanitize.sh -x -q
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
venv="$(mktemp -d "${TMPDIR:-/tmp}/fastact-asan.XXXXXX")"
trap 'rm -rf "$venv"' EXIT

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/pip" install -q "$repo[test]" \
    -C cmake.define.FASTACT_SANITIZE=ON -C cmake.build-type=Debug -C build-dir="$venv/build"

cc="${CC:-gcc}"
asan="$("$cc" -print-file-name=libasan.so)"
ubsan="$("$cc" -print-file-name=libubsan.so)"
cd "$repo"
LD_PRELOAD="$asan:$ubsan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:check_initialization_order=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
PYTHONMALLOC=malloc \
    "$venv/bin/pytest" -p no:cacheprovider "$@"
