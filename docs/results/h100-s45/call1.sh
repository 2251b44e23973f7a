# Session 45, call 1: the q|k|v GEMVs with RoPE and the KV write in their epilogue (ABI 12). Their tests (bits against
# the GEMM + qspec_rope_write_kv, float64), the bulk and epilogue groups with them, the attention group (the RoPE
# kernel's own cases), and `qspec_bench epilogues` (the two launches against the fused call at M = 1-8).
. scripts/device/call-prelude.sh 420
run_test rope 30 rope
run_test rope-all-bulk 30 rope QSPEC_BULK_GEMV=all
run_test rope-off 30 rope QSPEC_ROPE_EPILOGUE=0
run_test bulk 200 bulk
build_bench
timeout -s KILL 150 /tmp/qspec_bench epilogues > "$OUT/bench-epilogues.txt" 2>&1; echo "bench epilogues rc=$?" | tee -a "$S"
grep -E "^rope_kv|^swiglu," "$OUT/bench-epilogues.txt" | tee -a "$S"
run_test attention 200 attention
