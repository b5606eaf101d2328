#!/usr/bin/env bash
# The bash floor of benchmark 1: the same git work per item as a prodigy map agent, at the
# same parallelism, with merges into a parent worktree serialized by flock. Worktree adds and
# removes are serialized by a second lock, as prodigy does: git races on the admin directory
# when they run side by side ("failed to read .../worktrees/X/commondir").
#   baseline_map.sh REPO WORKDIR ITEMS PARALLEL
set -euo pipefail
repo=$1 work=$2 items=$3 parallel=$4
parent="$work/parent"
mkdir -p "$work"
git -C "$repo" worktree add -q -b bench-parent "$parent" HEAD

agent() {
    local i=$1 wt="$work/agent-$1" branch="bench-agent-$1"
    # from the parent's HEAD when the agent starts, as prodigy does
    flock "$work/worktree.lock" git -C "$parent" worktree add -q -b "$branch" "$wt" HEAD
    (cd "$wt" && echo "$i" > "out-$i.txt" && git add "out-$i.txt" && git commit -qm "item $i")
    flock "$work/merge.lock" git -C "$parent" merge -q --no-ff -m "Merge agent $branch" "$branch"
    flock "$work/worktree.lock" bash -ec '
        git -C "$1" worktree remove --force "$3"
        git -C "$1" branch -q -D "$2"' _ "$parent" "$branch" "$wt"
}
export -f agent
export work parent
seq 0 $((items - 1)) | xargs -P "$parallel" -I{} bash -ec 'agent "$1"' _ {}

git -C "$repo" merge -q --no-ff -m "Merge parent" bench-parent
git -C "$repo" worktree remove --force "$parent"
git -C "$repo" branch -q -D bench-parent
