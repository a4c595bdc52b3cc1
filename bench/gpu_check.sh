#!/usr/bin/env bash
# The device check (issue 8): the test suite and every bench script on the GPU, and one
# table (device, each benchmark's wall time on the GPU, on the same machine's CPU, and
# the CPU / GPU ratio) in $OUT/gpu_table.md, the full logs beside it.
#
#   PYTHONPATH=. bash bench/gpu_check.sh [tests|bench|goals|all]    (default: all)
#
# The parts exist because a session gets 15 minutes of device time and one command at
# most 10: run `tests` and `bench goals` as two calls. `goals` is the two numbers issue 8
# asks of a GPU: 1000 replications of the two-class full MoE at n = 500 (< 60 s) and a
# mixture fit at n = 100 000 (< 10 s). CPU baselines run with JAX_PLATFORMS=cpu on the
# same machine in the same call (these machines are noisy; compare ratios only within a
# run). GPU_CHECK_ALLOW_CPU=1 runs the script without a GPU (a dry run of its logic, with
# small sizes) and GPU_CHECK_QUICK=1 shrinks every size.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export TRAJMIX_COMPILE_CACHE="${TRAJMIX_COMPILE_CACHE:-off}"
PY="${PYTHON:-python}"
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT"
TABLE="$OUT/gpu_table.md"
PART="${1:-all}"
QUICK="${GPU_CHECK_QUICK:-0}"

platform=$($PY -c "import sem, jax; print(jax.devices()[0].platform)" 2>/dev/null)
device=$($PY -c "import sem, jax; d = jax.devices(); print(f'{d[0].platform}: {d[0].device_kind} x{len(d)}')")
if [ "$platform" != "gpu" ] && [ "$platform" != "cuda" ]; then
    if [ "${GPU_CHECK_ALLOW_CPU:-0}" != "1" ]; then
        echo "no GPU visible to jax ($device); set GPU_CHECK_ALLOW_CPU=1 for a dry run" >&2
        exit 2
    fi
    QUICK=1
fi

if [ ! -f "$TABLE" ]; then
    {
        echo "# gpu_check on $device ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPU cores)"
        echo
        echo "| check | device | wall s | CPU wall s (same machine) | CPU / device | result |"
        echo "|---|---|---|---|---|---|"
    } > "$TABLE"
fi

secs() { date +%s.%N; }

# row NAME CPU_TOO COMMAND...: runs COMMAND on the default device (the GPU), and with
# CPU_TOO=1 again with JAX_PLATFORMS=cpu; appends one row with both wall times.
row() {
    local name=$1 cpu_too=$2; shift 2
    local t0 t1 rc gpu_s cpu_s="—" ratio="—" result
    t0=$(secs); "$@" > "$OUT/$name.log" 2>&1; rc=$?; t1=$(secs)
    gpu_s=$(awk "BEGIN{print $t1 - $t0}")
    result=$(grep -E "ratio|per refit|passed|failed|replications|goal|check:" "$OUT/$name.log" \
             | tail -n 2 | tr '\n|' '; ' | cut -c1-400)
    [ $rc -ne 0 ] && result="EXIT $rc; $result"
    if [ "$cpu_too" = "1" ]; then
        t0=$(secs); JAX_PLATFORMS=cpu "$@" > "$OUT/$name.cpu.log" 2>&1; t1=$(secs)
        cpu_s=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
        ratio=$(awk "BEGIN{printf \"%.1f\", $cpu_s / $gpu_s}")
    fi
    printf '| %s | %s | %.1f | %s | %s | %s |\n' "$name" "$platform" "$gpu_s" \
        "$cpu_s" "$ratio" "$result" >> "$TABLE"
    echo "[$name] device ${gpu_s}s cpu ${cpu_s}s rc=$rc"
}

if [ "$QUICK" = "1" ]; then
    BOOT=200; N=500; REPS=20; BIGN=5000; BATCH=10000; TREES=10
else
    BOOT=1000; N=500; REPS=1000; BIGN=100000; BATCH=100000; TREES=100
fi

case "$PART" in tests|all)
    # tests at XLA's default optimisation level on the device (tests/conftest.py
    # lowers it for CPU compile time)
    row tests 0 env TRAJMIX_TEST_XLA_OPT=default $PY -m pytest -q -x -p no:cacheprovider ;;
esac
case "$PART" in bench|all)
    row sem_bench 1 $PY bench/sem_bench.py --boot $BOOT --semopy-fits 20
    row trajmix_bench_n500 1 $PY bench/trajmix_bench.py --n $N --skip-peer
    row graphs_bench 1 $PY bench/graphs_bench.py --batch $BATCH
    row forest_bench 1 $PY bench/forest_bench.py --quick
    row openmx_bench 0 $PY bench/openmx_bench.py
    row forest_null_bench 0 $PY bench/forest_null_bench.py --reps 200 --lr-reps 20
    [ -f bench/progression_bench.py ] && row progression_bench 0 $PY bench/progression_bench.py --quick
    ;;
esac
case "$PART" in goals|bench|all)
    # issue 8's two goals; their CPU baselines would take many minutes, so none
    row study_bench_${REPS}reps 0 $PY bench/study_bench.py --reps $REPS --single 3
    row trajmix_fit_n${BIGN} 0 $PY bench/trajmix_bench.py --n $BIGN --starts 20 --skip-peer
    ;;
esac
echo
cat "$TABLE"
