#!/usr/bin/env bash
# Session 44, call 1: the one-token tile's walk without register copies (walk_one unrolled by two, so that the two sets
# of K/V loads trade roles; session 43's profile counted 64 copies in a step of ~450 instructions) and the first
# step's K/V loads issued before Q's (start_one). Both keep the bits. The library of this session's working tree
# (sm_90a) against a baseline library of main's 0b7349c beside it ($g/native/base). In order of need:
#  - `qspec_test attention` with both libraries: the same lines (the same bits);
#  - the SASS of the one-token tile's kernel, both libraries: an opcode count;
#  - `qspec_bench attention` (decode and verify passes, 128-8192 positions), new against base, twice, interleaved;
#  - the full JUnit GPU suite with the new library, on the staged JRE without java.desktop (first run there);
#  - 512-token prompts at batch 1 and 8 (256 new tokens), new against base, twice, interleaved.
. scripts/device/call-prelude.sh "${BUDGET:-520}"
build_bench & build=$!
ab_tests attention
if command -v cuobjdump > /dev/null; then
  for lib in new base; do
    f=$g/native/libqspec_cuda.so; [ "$lib" = base ] && f=$g/native/base/libqspec_cuda.so
    cuobjdump -sass "$f" 2>&1 | awk '/Function : / {p = /decode_tiles_kernelILb1ELb1ELi4E/} p' > "$OUT/sass-$lib.txt"
    grep -oE '/\*[0-9a-f]{4,}\*/ +(@!?U?P[0-9T] +)?[A-Z0-9_.]+' "$OUT/sass-$lib.txt" | awk '{print $NF}' | sort | uniq -c | sort -rn > "$OUT/opcodes-$lib.txt"
    echo "sass $lib: $(awk '{s += $1} END {print s}' "$OUT/opcodes-$lib.txt") instructions; $(head -8 "$OUT/opcodes-$lib.txt" | awk '{printf "%s %s, ", $2, $1}')" | tee -a "$S"
  done
fi
wait $build; echo "bench build rc=$?" | tee -a "$S"
ab_attention_benches 128,256,512,1024,2048,8192
[ "$(left)" -gt 150 ] && junit
for r in a b; do
  E2E_NEED=45 e2e_prompts p512-new-$r 512 1,8
  E2E_NEED=45 on_base e2e_prompts p512-base-$r 512 1,8
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* junit sass-*.txt opcodes-*.txt bench-attention-*.txt 2>/dev/null
rm -rf p512-* junit bench-build.txt sass-*.txt opcodes-*.txt bench-attention-*.txt; ls
