#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   TARGET: policy (parser + checker), loader (bytes → items), check (a fuzzed list, whole check)
# Works on the stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags.
# New inputs go to fuzz/corpus/TARGET (not committed); crashes to fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?"usage: fuzz/run.sh policy|loader|check [seconds]"}
secs=${2:-600}
shift $(( $# > 1 ? 2 : 1 ))
case $target in
  policy) dict=dict/policy.dict ;;
  loader|check) dict=dict/yaml.dict ;;
  *) echo "unknown target $target (policy, loader, check)" >&2; exit 2 ;;
esac
mkdir -p "corpus/$target"
# No sanitizer: qingdan forbids unsafe code, and the fuzzer runs 2-3 times faster without ASan
# (FUZZ_SANITIZER=address to use it). Debug assertions on: arithmetic overflow panics.
RUSTC_BOOTSTRAP=1 exec cargo +stable fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions \
  "$target" "corpus/$target" "seeds/$target" -- \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -dict="$dict" -print_final_stats=1 "$@"
