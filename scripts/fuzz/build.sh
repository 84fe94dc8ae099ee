#!/usr/bin/env bash
# Builds the libFuzzer targets (native/fuzz/*.cpp, one per kernel header) with AddressSanitizer and
# UndefinedBehaviorSanitizer into build/fuzz/<target>. Usage: scripts/fuzz/build.sh [target ...] (default: all).
# Needs clang (CXX, default clang++-19) and its fuzzer/sanitizer runtimes (Debian: libclang-rt-19-dev).
set -euo pipefail
cd "$(dirname "$0")/../.."
CXX=${CXX_FUZZ:-clang++-19}
OUT=build/fuzz
mkdir -p "$OUT"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in native/fuzz/*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
# -O1 -g: sanitizer reports with lines; no FMA contraction, as the addon builds (fuzz invariants compare bits).
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -ffp-contract=off -pthread -Wall -Wextra
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
pids=()
for t in "${targets[@]}"; do
  src=native/fuzz/$t.cpp
  [ -f "$src" ] || { echo "no fuzz target $t ($src)" >&2; exit 2; }
  # Rebuild only when a source it could include changed.
  if [ -x "$OUT/$t" ] && [ -z "$(find native -name '*.hpp' -newer "$OUT/$t" -print -quit)" ] && [ ! "$src" -nt "$OUT/$t" ]; then
    continue
  fi
  echo "building $OUT/$t" >&2
  "$CXX" "${FLAGS[@]}" "$src" -o "$OUT/$t.tmp" && mv "$OUT/$t.tmp" "$OUT/$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "${FUZZ_BUILD_JOBS:-2}" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
