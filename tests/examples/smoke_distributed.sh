#!/usr/bin/env bash
# The trainers over MPI, end to end on the bundled FER-2013 sample (`train`, CustomNet w 8, one
# thread per rank): 2 ranks train and only rank 0 writes; --sync-bn trains; the same run twice
# writes the same bytes, and so does --overlap-allreduce; --winograd f2 trains and measured is refused; a run stopped by --max-steps resumes on 2 ranks; flags that differ between ranks, a rank that
# cannot read its data and a rank killed mid-run each end the whole job with a clear error, never
# a hang (every mpiexec runs under `timeout`).
# usage: smoke_distributed.sh <bin-dir> <mpiexec>
set -euo pipefail
bin=$1
mpiexec=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
sample="$(cd "$(dirname "$0")/../.." && pwd)/data/fer2013-sample"
args=(--model customnet --width 8 --data "$sample" --epochs 2 --batch-size 8 --threads 1 --time-budget 0 --tta none)

# 2 ranks train; rank 0 alone logs and writes.
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --out "$work/a" > "$work/a.log" 2>&1 || { cat "$work/a.log"; fail "2 ranks did not train"; }
grep -q "data parallel: 2 ranks" "$work/a.log" || fail "the log does not say it ran on 2 ranks"
[[ $(grep -c "train loss" "$work/a.log") == 2 ]] || fail "2 epoch summaries expected (rank 0 logs alone)"
for f in best.safetensors last.safetensors last.state.safetensors history.csv test_results.txt; do
  [[ -f "$work/a/$f" ]] || fail "missing $f"
done

grep -q "ms/step in the gradient allreduce" "$work/a.log" || fail "the log does not give the allreduce time per step"

# --sync-bn: batchnorm statistics over the global batch; the log says how many layers; the same
# run twice writes the same bytes.
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --sync-bn --max-steps 3 --out "$work/s" > "$work/s.log" 2>&1 || { cat "$work/s.log"; fail "--sync-bn did not train"; }
grep -q "data parallel: 2 ranks.*, [1-9][0-9]* batchnorm layers synchronised" "$work/s.log" || { cat "$work/s.log"; fail "the log does not say batchnorm is synchronised"; }
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --sync-bn --max-steps 3 --out "$work/s2" > "$work/s2.log" 2>&1 || fail "the second --sync-bn run failed"
cmp -s "$work/s/last.safetensors" "$work/s2/last.safetensors" || fail "two identical --sync-bn runs wrote different weights"

# --winograd f2: one fixed tile, the same on every rank, trains on 2 ranks (measured is refused:
# the ranks would time, and choose, apart).
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --winograd f2 --max-steps 3 --out "$work/w" > "$work/w.log" 2>&1 || { cat "$work/w.log"; fail "--winograd f2 did not train on 2 ranks"; }
grep -q "\[f2,f2,f2\]" "$work/w.log" || { cat "$work/w.log"; fail "the plan does not show F(2x2) on 2 ranks"; }
set +e
timeout 120 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --winograd measured --max-steps 3 --out "$work/wm" > "$work/wm.log" 2>&1
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "--winograd measured on 2 ranks: exit $rc (124: a hang)"
grep -q "winograd measured: not with several ranks" "$work/wm.log" || { cat "$work/wm.log"; fail "--winograd measured on 2 ranks: no clear error"; }

# The same run again: the same bytes.
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --out "$work/b" > "$work/b.log" 2>&1 || fail "the second run failed"
cmp -s "$work/a/best.safetensors" "$work/b/best.safetensors" || fail "two identical 2-rank runs wrote different weights"

# --overlap-allreduce: the same sums, started while the backward pass runs: the same bytes.
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --overlap-allreduce --out "$work/o" > "$work/o.log" 2>&1 || { cat "$work/o.log"; fail "--overlap-allreduce did not train"; }
cmp -s "$work/a/best.safetensors" "$work/o/best.safetensors" || fail "--overlap-allreduce wrote other weights than the blocking average"
grep -q "overlapped with the backward pass" "$work/o.log" || fail "the log does not say the allreduce was overlapped"
# With --sync-bn too (its blocking allreduces inside the backward pass, between the buckets' ones).
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --sync-bn --overlap-allreduce --max-steps 3 --out "$work/so" > "$work/so.log" 2>&1 || { cat "$work/so.log"; fail "--sync-bn --overlap-allreduce did not train"; }
cmp -s "$work/s/last.safetensors" "$work/so/last.safetensors" || fail "--sync-bn --overlap-allreduce wrote other weights than --sync-bn"

# Stopped by --max-steps, then resumed on 2 ranks to the end.
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --out "$work/c" --max-steps 2 > "$work/c.log" 2>&1 || fail "the stopped run failed"
timeout 300 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --out "$work/c" --resume > "$work/c2.log" 2>&1 || { cat "$work/c2.log"; fail "the resume failed"; }
grep -q "resumed from" "$work/c2.log" || fail "the second run did not resume"

# Flags that differ between ranks (MPMD: one --lr per rank): both ranks stop, the error says why.
set +e
timeout 120 "$mpiexec" -n 1 "$bin/train" "${args[@]}" --out "$work/d" --lr 0.05 : -n 1 "$bin/train" "${args[@]}" \
  --out "$work/d" --lr 0.1 > "$work/d.log" 2>&1
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "differing flags: exit $rc (124: a hang)"
grep -q "do not match rank 0's" "$work/d.log" || { cat "$work/d.log"; fail "differing flags: no clear error"; }

# --overlap-allreduce on one rank only: the collectives would not match; both ranks stop and say why.
set +e
timeout 120 "$mpiexec" -n 1 "$bin/train" "${args[@]}" --out "$work/g" : -n 1 "$bin/train" "${args[@]}" \
  --overlap-allreduce --out "$work/g" > "$work/g.log" 2>&1
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "--overlap-allreduce on one rank: exit $rc (124: a hang)"
grep -q -- "--overlap-allreduce of rank 1 do not match rank 0's" "$work/g.log" || { cat "$work/g.log"; fail "--overlap-allreduce on one rank: no clear error"; }

# A rank that cannot read its data.
set +e
timeout 120 "$mpiexec" -n 1 "$bin/train" "${args[@]}" --out "$work/e" : -n 1 "$bin/train" "${args[@]/$sample//nonexistent/fer}" \
  --out "$work/e" > "$work/e.log" 2>&1
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "unreadable data on rank 1: exit $rc (124: a hang)"
grep -q "/nonexistent/fer" "$work/e.log" || { cat "$work/e.log"; fail "unreadable data: the error does not name the path"; }

# A rank killed mid-run: the job ends (mpiexec notices), it does not hang.
set +e
timeout 120 "$mpiexec" -n 2 "$bin/train" "${args[@]}" --epochs 50 --out "$work/f" > "$work/f.log" 2>&1 &
job=$!
for _ in $(seq 300); do grep -q "train loss" "$work/f.log" 2>/dev/null && break; sleep 0.2; done
victim=$(for p in $(pgrep -f -- "--out $work/f"); do [[ $(cat /proc/$p/comm 2>/dev/null) == train ]] && echo $p; done | tail -1)
[[ -n $victim ]] && kill -9 "$victim"
wait $job
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "a killed rank: exit $rc (124: a hang)"
echo "smoke_distributed: OK"
