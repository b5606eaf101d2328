#!/usr/bin/env bash
# The baseline of benchmark 7: the same `claude -p` commands a prodigy map runs, PARALLEL at
# a time with xargs -P, each in a worktree bench_claude.py prepared beforehand (untimed).
#   baseline_claude.sh WORK ITEMS PARALLEL
# For item I: WORK/wt-I is its worktree and WORK/argv-I its argv, NUL-separated (written from
# prodigy's own claude_argv, so the prompt stays data, never shell code); the stream-json
# stdout goes to WORK/out-I.jsonl, stderr to WORK/err-I.txt.
set -euo pipefail
work=$1 items=$2 parallel=$3

agent() {
    local argv
    mapfile -d '' -t argv < "$work/argv-$1"
    cd "$work/wt-$1"
    exec "${argv[@]}" > "$work/out-$1.jsonl" 2> "$work/err-$1.txt"
}
export -f agent
export work
seq 0 $((items - 1)) | xargs -P "$parallel" -I{} bash -ec 'agent "$1"' _ {}
