#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzzer.sh FUZZER CORPUS OUTDIR RUNS: runs a libFuzzer target RUNS times from its seed
# corpus, new inputs going to OUTDIR (the source tree stays as it is), crashes to OUTDIR too.
set -e
fuzzer=$1 corpus=$2 out=$3 runs=$4
mkdir -p "$out"
exec "$fuzzer" -runs="$runs" -seed=1 -max_len=20000 -timeout=10 -artifact_prefix="$out/" "$out" "$corpus"
