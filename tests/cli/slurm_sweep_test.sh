#!/usr/bin/env bash
# `ar1 sweep --slurm --submit` through a real Slurm: starts munged, slurmctld and slurmd on
# localhost (a one-node cluster in a temporary folder, its own ports and munge key), submits a
# 3-task job array, waits for it, and checks that
#   - every task's run finished (results.json) with its manifest.json,
#   - each run's figures are bit-identical to the same run made by a local `ar1 sweep`,
#   - `ar1 compare` of the sweep folder gives one group of 3 runs, and compare.html exists,
#   - submitting again skips the finished runs.
# Exits 77 (CTest: Skipped) where Slurm, munge or the dataset is missing or we are not root
# (slurmd runs jobs as their submitting user); tools/setup.sh --tests installs Slurm and munge.
#
#   slurm_sweep_test.sh AR1_BINARY FASHION_MNIST_DIR WORK_DIR
set -euo pipefail

ar1="$1"
data="$2"
work="$3"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

for tool in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$tool" >/dev/null || skip "$tool not found: install slurm-wlm and munge (tools/setup.sh --tests)"
done
[[ $(id -u) -eq 0 ]] || skip "the one-node cluster runs slurmd as root: run this test as root"
awk '$5 ~ "^/sys/fs/cgroup" {f = 1} END {exit !f}' /proc/self/mountinfo ||
  skip "no cgroup file system mounted at /sys/fs/cgroup (a chroot?): slurmd 22.05 will not start without one"
[[ -d "$data" ]] || skip "Fashion-MNIST not found at $data: apt-get install dataset-fashion-mnist"

rm -rf "$work"
mkdir -p "$work"/{state,spool,munge}
chmod 700 "$work/munge"

cleanup() {
  local rc=$?
  if [[ -n "${job:-}" ]]; then scancel "$job" 2>/dev/null || true; fi
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    if [[ -f "$pidfile" ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  if [[ $rc -ne 0 && $rc -ne 77 ]]; then
    for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munge/munged.log \
               "$work"/sweep/logs/*; do
      [[ -f "$log" ]] && { echo "---- $log"; tail -n 30 "$log"; }
    done
  fi
  sleep 1
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# A free TCP port on localhost (the OS picks one; Slurm gets it a moment later).
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed"

host="$(hostname -s)"
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=ar1test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=ar1 Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF" -N "$host"
for _ in $(seq 60); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null || true)"
  [[ "$state" == idle* ]] && break
  sleep 0.5
done
[[ "$state" == idle* ]] || fail "the node never became idle (state '$state')"
echo "one-node Slurm up: $(sinfo -h -o '%P %D %T %c cpus')"

# A few seconds a run: 2 class-incremental experiences of 16 x 16 Fashion-MNIST.
small=(--scenario nc --n-experiences 2 --train-per-class 20 --test-per-class 10
       --image-size 16 --first-epochs 1 --train-epochs 1 --rm-sz 20 --train-mb-size 16
       --workers 0 --data-root "$data")

out="$("$ar1" sweep --out "$work/sweep" --sweep seed=0..2 "${small[@]}" --slurm \
         --slurm-partition ar1 --slurm-time 00:10:00 --slurm-mem 1G --slurm-cpus 1 --submit)"
echo "$out"
job="$(sed -n 's/^submitted job array \([0-9]*\);.*/\1/p' <<< "$out")"
[[ -n "$job" ]] || fail "no job id in the output of ar1 sweep --submit"
grep -q '^#SBATCH --array=0-2$' "$work/sweep/sweep.sbatch" || fail "the script does not ask for 3 array tasks"
grep -q '^#SBATCH --partition=ar1$' "$work/sweep/sweep.sbatch" || fail "no --partition in the script"

for _ in $(seq 240); do
  [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
  sleep 0.5
done
[[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] || fail "job array $job still queued or running after 120 s"
tasks=$(ls "$work"/sweep/logs/slurm-"$job"_*.out 2>/dev/null | wc -l)
[[ $tasks -eq 3 ]] || fail "expected 3 array task logs, found $tasks"

for seed in 0 1 2; do
  run="$work/sweep/seed=$seed"
  grep -q '"finished": true' "$run/results.json" || fail "$run did not finish (results.json)"
  [[ -f "$run/manifest.json" ]] || fail "$run has no manifest.json"
  grep -q '"sha256"' "$run/manifest.json" || fail "$run/manifest.json lists no dataset file"
done

# The same sweep locally: each run's figures (all but time and memory) are the same bits.
"$ar1" sweep --out "$work/local" --sweep seed=0..2 "${small[@]}" > /dev/null
strip_timing() {
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for run in r["runs"]:
    run["experiences"] = [e[:2] for e in run["experiences"]]  # accuracy, loss
print(json.dumps(r, sort_keys=True))' "$1"
}
for seed in 0 1 2; do
  a="$(strip_timing "$work/sweep/seed=$seed/results.json")"
  b="$(strip_timing "$work/local/seed=$seed/results.json")"
  [[ "$a" == "$b" ]] || fail "seed $seed: the Slurm task and the local run differ"
done

table="$("$ar1" compare "$work/sweep" --html "$work/compare.html")"
echo "$table"
grep -Eq '^all runs +3 ' <<< "$table" || fail "ar1 compare did not report one group of 3 runs"
grep -q '<svg' "$work/compare.html" || fail "compare.html has no plot"

# Submitting the finished sweep again: every task skips its run.
again="$("$ar1" sweep --out "$work/sweep" --sweep seed=0..2 "${small[@]}" --slurm \
           --slurm-partition ar1 --slurm-time 00:10:00 --slurm-mem 1G --slurm-cpus 1 --submit)"
job="$(sed -n 's/^submitted job array \([0-9]*\);.*/\1/p' <<< "$again")"
for _ in $(seq 120); do
  [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
  sleep 0.5
done
skipped=$(cat "$work"/sweep/logs/slurm-"$job"_*.out | grep -c 'finished earlier, skipped' || true)
[[ $skipped -eq 3 ]] || fail "the second submission ran again ($skipped of 3 tasks skipped)"
job=""
echo "PASS: 3 array tasks through slurmctld + slurmd, identical to the local sweep"
