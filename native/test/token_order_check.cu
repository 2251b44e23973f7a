// Prints token_order.cuh's positions (each input of two 128-input steps: "draft k position" for the int8 rows the
// draft's weights-from-registers kernel reads, "verify k position" for the fp16 rows of the verify's DIRECT build),
// for emulate_gemm.py to check against the permutations it models (permute_tokens_rf, permute_tokens_direct), which
// its warp-by-warp emulation of the two kernels holds to their references. Host code only: no GPU needed.
#include <cstdio>
#include "../src/token_order.cuh"

int main() {
    for (int k = 0; k < 2 * token_order::STEP; ++k) printf("draft %d %d\n", k, token_order::draft_position(k));
    for (int k = 0; k < 2 * token_order::STEP; ++k) printf("verify %d %d\n", k, token_order::verify_position(k));
    return 0;
}
