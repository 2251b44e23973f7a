// Sampling on the device: one token per draw from a logit row, with the filters of the host's
// io.qspec.sampling.LogitsProcessor (penalties, temperature, top-k, top-p, min-p) and the inverse CDF
// of io.qspec.sampling.Sampler, so that only token ids cross to the host.
//
// One thread-block cluster per draw on sm_90 (8 blocks of 1024 threads, each taking one contiguous
// chunk of the row; one block elsewhere). Weights are fp32 exp((l - max) / T) in a workspace row. Every
// mass (top-p, the final CDF) is summed in 2^-40 fixed point with integer additions, so the token does
// not depend on the order threads add in: the same draw gives the same token on every run. Top-k and
// top-p thresholds are found by radix selection over the weights' float bits (which order like the
// values for non-negative floats), four 8-bit passes each; ties at a threshold go to the lowest index,
// as the host's sort puts them. Because every sum is of integers and every choice is by value, then
// index, the token and the kept distribution do not depend on how many blocks share the row.
#include <cfloat>
#include "team.cuh"

namespace {

constexpr int THREADS = 1024;
constexpr int BINS = 256;
constexpr float FIXED_ONE = 1099511627776.f;  // 2^40: a weight in [0, 1] as an integer mass
constexpr double TOP_P_TOLERANCE = 1e-6;       // LogitsProcessor.TOP_P_TOLERANCE

__device__ __forceinline__ unsigned long long fixed_mass(float w) { return w > 0.f ? __float2ull_rz(w * FIXED_ONE) : 0ull; }

// Masses are below 2^41, so a 64-bit bin holds a whole row; rows are limited to 2^20 elements
// (the counts and the warp sums below stay far inside their integers).
constexpr int MAX_VOCAB = QSPEC_MAX_SAMPLING_VOCAB;

struct Shared {
    int counts[BINS];                   // this block's histogram
    unsigned long long masses[BINS];
    int team_counts[BINS];              // the team's histogram (every block's, added)
    unsigned long long team_masses[BINS];
    unsigned long long scan[THREADS / 32];
    TeamBestScratch<THREADS> best;      // team_best's
    int selected_bin;
    unsigned long long selected_above;  // count or mass of the bins above the selected one
    int drawn;                          // the token the inverse CDF picked (-1: none past the target)
    unsigned long long team_value;      // this block's share of a team sum, read by the others
};

// Index-order scans give each warp one contiguous segment [begin, end) of the block's chunk (a
// multiple of 32 long), which its lanes walk 32 consecutive elements at a time: coalesced loads, and
// the order of the elements is rank order, then warp order, then lane order within a row of 32.
__device__ __forceinline__ void warp_segment(const Team& tm, int& begin, int& end) {
    const int warps = THREADS / 32, n = tm.hi - tm.lo;
    const int seg = (n + 32 * warps - 1) / (32 * warps) * 32;
    begin = min(tm.hi, tm.lo + (int)(threadIdx.x >> 5) * seg);
    end = min(tm.hi, begin + seg);
}

// One value per block: what the blocks of lower rank hold (`before`) and the team's total, the same
// in every block. Every thread of the team calls it; it ends with a team barrier, so team_value may
// be written again at once.
__device__ void team_scan(const Team& tm, unsigned long long v, unsigned long long& before, unsigned long long& total,
                          Shared& s) {
    if (threadIdx.x == 0) s.team_value = v;
    tm.sync();
    before = 0;
    total = 0;
    for (int r = 0; r < tm.size; ++r) {
        const unsigned long long x = *tm.peer(&s.team_value, r);
        if (r < tm.rank) before += x;
        total += x;
    }
    tm.sync();
}

__device__ __forceinline__ unsigned long long warp_sum_u64(unsigned long long v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Exclusive prefix sum over the block in thread order; every thread gets its prefix and the total.
__device__ unsigned long long block_exclusive_scan(unsigned long long v, unsigned long long& total, Shared& s) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    unsigned long long inclusive = v;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const unsigned long long n = __shfl_up_sync(0xffffffffu, inclusive, o);
        if (lane >= o) inclusive += n;
    }
    __syncthreads();
    if (lane == 31) s.scan[warp] = inclusive;
    __syncthreads();
    unsigned long long before = 0;
    total = 0;
    for (int w = 0; w < THREADS / 32; ++w) {
        if (w < warp) before += s.scan[w];
        total += s.scan[w];
    }
    return before + inclusive - v;
}

// The team's sum of one value per thread.
__device__ unsigned long long team_total(const Team& tm, unsigned long long v, Shared& s) {
    unsigned long long block, before, total;
    block_exclusive_scan(v, block, s);
    team_scan(tm, block, before, total, s);
    return total;
}

// Warp 0 scans the histogram from the top bin down and selects the bin where the running total,
// starting at `above`, first reaches `target`; it records the bin and the total of the bins above it.
// Then all threads read them. MASS: the masses histogram, else the counts.
template <bool MASS>
__device__ void select_bin_from_top(unsigned long long target, Shared& s) {
    __syncthreads();
    if (threadIdx.x < 32) {
        const int lane = threadIdx.x;
        // lane l holds bins 255 - 8l ... 248 - 8l, highest first
        unsigned long long mine = 0;
        for (int j = 0; j < 8; ++j) {
            const int bin = BINS - 1 - 8 * lane - j;
            mine += MASS ? s.team_masses[bin] : (unsigned long long)s.team_counts[bin];
        }
        unsigned long long inclusive = mine;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const unsigned long long n = __shfl_up_sync(0xffffffffu, inclusive, o);
            if (lane >= o) inclusive += n;
        }
        const unsigned long long before = inclusive - mine;
        const unsigned reached = __ballot_sync(0xffffffffu, inclusive >= target);
        const int first = reached ? __ffs(reached) - 1 : 31;
        if (lane == first) {
            unsigned long long acc = before;
            int bin = BINS - 1 - 8 * lane - 7;
            for (int j = 0; j < 8; ++j) {
                const int b = BINS - 1 - 8 * lane - j;
                const unsigned long long here = MASS ? s.team_masses[b] : (unsigned long long)s.team_counts[b];
                if (acc + here >= target || j == 7) { bin = b; break; }
                acc += here;
            }
            s.selected_bin = bin;
            s.selected_above = acc;
        }
    }
    __syncthreads();
}

// The largest float-bit value tau among the weights such that the elements at or above it reach
// `target` (by count, or by fixed-point mass); `above` returns what the elements strictly above tau hold.
// Each block histograms its chunk; every block adds the team's histograms (in rank order) and selects
// the same bin.
template <bool MASS>
__device__ uint32_t radix_select(const Team& tm, const float* w, unsigned long long target, unsigned long long& above,
                                 Shared& s) {
    uint32_t prefix = 0, mask = 0;
    above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < BINS; b += THREADS) {
            s.counts[b] = 0;
            s.masses[b] = 0;
        }
        __syncthreads();
        // warp-aggregated: the lanes that share a bin find each other in one __match_any_sync, sum their
        // masses, and the lowest of them adds to the bin (a 64-bit shared atomic is a compare-and-swap
        // loop: one per element cost ~1.9 ms a row). Loads go UNROLL rows ahead, so their latencies overlap.
        const int lane = threadIdx.x & 31;
        constexpr int UNROLL = 4;
        for (int base = tm.lo; base < tm.hi; base += UNROLL * THREADS) {
            float xs[UNROLL];
#pragma unroll
            for (int u = 0; u < UNROLL; ++u) {
                const int i = base + u * THREADS + threadIdx.x;
                xs[u] = i < tm.hi ? w[i] : 0.f;
            }
#pragma unroll
            for (int u = 0; u < UNROLL; ++u) {
                const float x = xs[u];
                const uint32_t bits = __float_as_uint(x);
                const bool mine = x > 0.f && (bits & mask) == prefix;
                const unsigned active = __ballot_sync(0xffffffffu, mine);
                if (mine) {
                    const int bin = (bits >> shift) & (BINS - 1);
                    const unsigned peers = __match_any_sync(active, bin);
                    const bool leader = lane == __ffs(peers) - 1;
                    if (MASS) {
                        // split at bit 24, so 32 lanes' parts sum within 32 bits
                        const unsigned long long m = fixed_mass(x);
                        const unsigned lo = __reduce_add_sync(peers, (unsigned)(m & 0xffffffu));
                        const unsigned hi = __reduce_add_sync(peers, (unsigned)(m >> 24));
                        if (leader) atomicAdd(&s.masses[bin], ((unsigned long long)hi << 24) + lo);
                    } else if (leader) {
                        atomicAdd(&s.counts[bin], __popc(peers));
                    }
                }
            }
        }
        tm.sync();  // every block's histogram is complete
        for (int b = threadIdx.x; b < BINS; b += THREADS) {
            int c = 0;
            unsigned long long m = 0;
            for (int r = 0; r < tm.size; ++r) {
                if (MASS) m += tm.peer(s.masses, r)[b];
                else c += tm.peer(s.counts, r)[b];
            }
            s.team_counts[b] = c;
            s.team_masses[b] = m;
        }
        tm.sync();  // every block has read the others' histograms (the next pass clears them)
        select_bin_from_top<MASS>(target - above, s);
        above += s.selected_above;
        prefix |= (uint32_t)s.selected_bin << shift;
        mask |= (uint32_t)(BINS - 1) << shift;
        __syncthreads();  // before the next pass clears the histogram
    }
    return prefix;
}

// Keeps every weight above `tau` and the first `ties` weights equal to it (in index order); zeroes the rest.
__device__ void keep_above(const Team& tm, float* w, uint32_t tau, long long ties, Shared& s) {
    int begin, end;
    warp_segment(tm, begin, end);
    const int lane = threadIdx.x & 31;
    auto is_tie = [&](int i) { return i < end && w[i] > 0.f && __float_as_uint(w[i]) == tau; };
    unsigned long long mine = 0;
    for (int base = begin; base < end; base += 32) mine += __popc(__ballot_sync(0xffffffffu, is_tie(base + lane)));
    unsigned long long block, before, total;
    // lane 0 carries the warp's count into the scan, so `rank` is the ties of the warps before this one,
    // and of the blocks before this one
    long long rank = (long long)block_exclusive_scan(lane == 0 ? mine : 0ull, block, s);
    team_scan(tm, block, before, total, s);
    rank = __shfl_sync(0xffffffffu, rank, 0) + (long long)before;
    for (int base = begin; base < end; base += 32) {
        const int i = base + lane;
        const bool tie = is_tie(i);
        const unsigned ballot = __ballot_sync(0xffffffffu, tie);
        if (i < end) {
            const float x = w[i];
            if (tie) {
                if (rank + __popc(ballot & ((1u << lane) - 1u)) >= ties) w[i] = 0.f;
            } else if (x > 0.f && __float_as_uint(x) < tau) {
                w[i] = 0.f;
            }
        }
        rank += __popc(ballot);
    }
    __syncthreads();
}

// The first index whose cumulative mass (in index order) exceeds uniform * total, or -1 when none
// does (uniform * total rounded up to the total); `total` returns the sum. MASS(i) is an element's
// fixed-point mass; every thread of the team calls this. The sums are of integers, so the answer does
// not depend on the order of additions; only the warp whose segment holds the target walks it.
template <class MASS>
__device__ int inverse_cdf(const Team& tm, MASS mass, double uniform, unsigned long long& total, Shared& s) {
    int begin, end;
    warp_segment(tm, begin, end);
    const int lane = threadIdx.x & 31;
    unsigned long long mine = 0;
    for (int i = begin + lane; i < end; i += 32) mine += mass(i);
    mine = warp_sum_u64(mine);
    unsigned long long block, block_before;
    const unsigned long long in_block =
        __shfl_sync(0xffffffffu, block_exclusive_scan(lane == 0 ? mine : 0ull, block, s), 0);
    team_scan(tm, block, block_before, total, s);
    const unsigned long long before = block_before + in_block;
    const unsigned long long target = (unsigned long long)(uniform * (double)total);
    if (threadIdx.x == 0) s.drawn = -1;
    __syncthreads();
    if (before <= target && target < before + mine) {
        unsigned long long running = before;
        for (int base = begin; base < end; base += 32) {
            const int i = base + lane;
            const unsigned long long m = i < end ? mass(i) : 0ull;
            unsigned long long inclusive = m;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                const unsigned long long n = __shfl_up_sync(0xffffffffu, inclusive, o);
                if (lane >= o) inclusive += n;
            }
            const unsigned hit = __ballot_sync(0xffffffffu, target < running + inclusive);
            if (hit) {
                if (lane == __ffs(hit) - 1) s.drawn = i;
                break;
            }
            running += __shfl_sync(0xffffffffu, inclusive, 31);
        }
    }
    __syncthreads();
    // at most one block found the token: the team's sum of drawn + 1 is it
    unsigned long long ignored, found;
    team_scan(tm, (unsigned long long)(s.drawn + 1), ignored, found, s);
    return (int)found - 1;
}

// The last index of positive weight (what the host's Sampler returns when rounding leaves the target at the total).
__device__ int last_positive(const float* w, int V) {
    for (int i = V - 1; i >= 0; --i) {
        if (w[i] > 0.f) return i;
    }
    return 0;
}

__global__ void __launch_bounds__(THREADS) sample_kernel(const float* __restrict__ logits, long ld, int V,
                                                          const qspec_draw* __restrict__ draws,
                                                          const int32_t* __restrict__ history_tokens,
                                                          const int32_t* __restrict__ history_counts,
                                                          float* __restrict__ workspace,
                                                          const int32_t* __restrict__ slots,
                                                          unsigned long long* __restrict__ totals,
                                                          int32_t* __restrict__ out) {
    __shared__ Shared s;
    const Team tm(V);
    const int draw = blockIdx.x / tm.size;  // the team's blocks are consecutive in x
    const qspec_draw d = draws[draw];
    const float* in = logits + (long)d.row * ld;
    // kept distributions (qspec_sample_keep) live in the draw's slot; plain draws use row `draw` as scratch
    const long slot = slots ? slots[draw] : draw;
    float* w = workspace + slot * V;

    // this block's chunk of the row, then the penalties of the history tokens inside it (the history's
    // tokens are distinct and inside the vocabulary)
    bool nan = false;
    for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) {
        const float l = in[i];
        nan |= isnan(l);
        w[i] = l;
    }
    __syncthreads();
    for (int j = threadIdx.x; j < d.history_length; j += THREADS) {
        const int token = history_tokens[d.history_offset + j];
        if (token < tm.lo || token >= tm.hi) continue;
        double l = w[token];
        // HF/llama.cpp: dividing a negative logit would raise it, so negative ones are multiplied
        l = l > 0 ? l / d.repetition_penalty : l * d.repetition_penalty;
        l -= history_counts[d.history_offset + j] * d.frequency_penalty + d.presence_penalty;
        // as the host: a penalty lowers a finite logit, it never forbids the token
        if (isfinite(w[token])) l = fmin(fmax(l, -(double)FLT_MAX), (double)FLT_MAX);
        w[token] = (float)l;
    }
    __syncthreads();
    nan = team_total(tm, nan ? 1ull : 0ull, s) > 0;  // refused below temperature 0 only: the host's argmax skips NaN

    // the largest logit, lowest index on ties: the greedy token, and the softmax's shift
    float best;
    int best_index;
    team_best<THREADS>(tm, w, s.best, best, best_index);
    if (d.temperature == 0) {
        const int token = best_index == 0x7fffffff ? 0 : best_index;
        if (totals) {  // the kept distribution of a greedy draw is one-hot, as the host's
            for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) w[i] = i == token ? 1.f : 0.f;
            if (tm.rank == 0 && threadIdx.x == 0) totals[slot] = fixed_mass(1.f);
        }
        if (tm.rank == 0 && threadIdx.x == 0) out[draw] = token;
        return;
    }
    if (nan || best == -INFINITY) {  // NaN, or every logit -inf: no token is possible
        if (tm.rank == 0 && threadIdx.x == 0) {
            out[draw] = nan ? -1 : -2;
            if (totals) totals[slot] = 0;
        }
        return;
    }

    // weights; an infinite logit means certainty, shared among the infinite ones
    const float inv_t = (float)(1.0 / d.temperature);
    unsigned long long positive = 0;
    for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) {
        const float l = w[i];
        const float x = best == INFINITY ? (l == INFINITY ? 1.f : 0.f) : expf((l - best) * inv_t);
        w[i] = x;
        positive += x > 0.f;
    }
    positive = team_total(tm, positive, s);

    // top-k: the k largest weights (ties to the lowest index); only when k leaves some out
    const bool top_k = d.top_k > 0 && (unsigned long long)d.top_k < positive;
    if (top_k) {
        unsigned long long above;
        const uint32_t tau = radix_select<false>(tm, w, (unsigned long long)d.top_k, above, s);
        keep_above(tm, w, tau, (long long)d.top_k - (long long)above, s);
    }
    // top-p: the smallest most-probable prefix holding top_p of what top-k left (the top token always stays)
    if (d.top_p < 1) {
        unsigned long long mass = 0;
        for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) mass += fixed_mass(w[i]);
        mass = team_total(tm, mass, s);
        const unsigned long long target =
            (unsigned long long)fmax(1.0, d.top_p * (double)mass * (1 - TOP_P_TOLERANCE));
        unsigned long long above;
        const uint32_t tau = radix_select<true>(tm, w, target, above, s);
        const unsigned long long each = fixed_mass(__uint_as_float(tau));
        // the fewest elements equal to tau (in index order) that bring the mass to the target
        const long long ties = each == 0 ? 1 : (long long)((target - above + each - 1) / each);
        keep_above(tm, w, tau, ties < 1 ? 1 : ties, s);
    }
    // min-p: drop weights below min_p times the largest (which is 1: exp(0), or an infinite logit's 1)
    if (d.min_p > 0) {
        for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) {
            if ((double)w[i] < d.min_p) w[i] = 0.f;
        }
        __syncthreads();
    }

    // inverse CDF in index order: the first token whose cumulative mass exceeds uniform * total
    unsigned long long total;
    const int drawn = inverse_cdf(tm, [&](int i) { return fixed_mass(w[i]); }, d.uniform, total, s);
    if (tm.rank == 0 && threadIdx.x == 0) {
        if (totals) totals[slot] = total;
        // no token past the target (uniform * total rounded up to total): the best token, which always stays
        out[draw] = drawn >= 0 ? drawn : best_index;
    }
}

// One lane's rejection sampling (RejectionSamplingAcceptance.decide) over distributions kept by
// qspec_sample_keep: every thread walks the drafts (a few loads each), then the block draws the
// recovered token from max(0, p - q) or the bonus token from p_gamma.
__global__ void __launch_bounds__(THREADS) rejection_kernel(const float* __restrict__ kept,
                                                             const unsigned long long* __restrict__ kept_totals, int V,
                                                             const qspec_rejection* __restrict__ lanes,
                                                             const int32_t* __restrict__ draft_tokens,
                                                             const int32_t* __restrict__ draft_slots,
                                                             const int32_t* __restrict__ verify_slots,
                                                             const double* __restrict__ uniforms,
                                                             int32_t* __restrict__ accepted_out, int32_t* __restrict__ next_out) {
    __shared__ Shared s;
    const Team tm(V);  // one block (launched without clusters)
    const qspec_rejection lane = lanes[blockIdx.x];
    const int gamma = lane.gamma;
    const double u_last = uniforms[lane.verify_offset + gamma];
    auto fail = [&]() {
        if (threadIdx.x == 0) {
            accepted_out[blockIdx.x] = 0;
            next_out[blockIdx.x] = -1;
        }
    };
    // every distribution of the lane must exist, whether or not the decision reaches it
    bool missing = false;
    for (int i = 0; i <= gamma; ++i) {
        missing |= kept_totals[verify_slots[lane.verify_offset + i]] == 0;
        if (i < gamma) missing |= kept_totals[draft_slots[lane.draft_offset + i]] == 0;
    }
    if (missing) return fail();
    for (int i = 0; i < gamma; ++i) {
        const long sp = verify_slots[lane.verify_offset + i], sq = draft_slots[lane.draft_offset + i];
        const unsigned long long tp = kept_totals[sp], tq = kept_totals[sq];
        const int x = draft_tokens[lane.draft_offset + i];
        const float* wp = kept + sp * V;
        const float* wq = kept + sq * V;
        const double p = (double)fixed_mass(wp[x]) / (double)tp;
        const double q = (double)fixed_mass(wq[x]) / (double)tq;
        const double u = uniforms[lane.verify_offset + i];
        const bool accepted = q <= 0 ? p > 0 : u * q < p;  // u < p / q without dividing
        if (accepted) continue;
        // recovered: normalize(max(0, p - q)); where that is all zero (p = q up to rounding), p itself
        const double inv_p = 1.0 / (double)tp, inv_q = 1.0 / (double)tq;
        auto residual = [&](int t) {
            const double r = (double)fixed_mass(wp[t]) * inv_p - (double)fixed_mass(wq[t]) * inv_q;
            return r > 0 ? (unsigned long long)(r * (double)FIXED_ONE) : 0ull;
        };
        unsigned long long total;
        int drawn = inverse_cdf(tm, residual, u_last, total, s);
        if (total == 0) drawn = inverse_cdf(tm, [&](int t) { return fixed_mass(wp[t]); }, u_last, total, s);
        if (threadIdx.x == 0) {
            accepted_out[blockIdx.x] = i;
            next_out[blockIdx.x] = drawn >= 0 ? drawn : last_positive(wp, V);
        }
        return;
    }
    // bonus: every draft accepted, one more token from p_gamma
    const long sb = verify_slots[lane.verify_offset + gamma];
    const float* wb = kept + sb * V;
    unsigned long long total;
    const int drawn = inverse_cdf(tm, [&](int t) { return fixed_mass(wb[t]); }, u_last, total, s);
    if (threadIdx.x == 0) {
        accepted_out[blockIdx.x] = gamma;
        next_out[blockIdx.x] = drawn >= 0 ? drawn : last_positive(wb, V);
    }
}

// One team of blocks per draw (consecutive in x). A device that refuses the cluster (a MIG slice, say)
// is remembered and gets one block per draw from then on.
int launch_sample(const float* logits, long ld, int V, const qspec_draw* draws, int n_draws,
                  const int32_t* history_tokens, const int32_t* history_counts, float* workspace, const int32_t* slots,
                  unsigned long long* totals, int32_t* out, cudaStream_t st) {
    static signed char refused[64];  // per device: 1 once a cluster launch was refused
    const int size = team_size();
    if (size > 1 && (long)n_draws * size <= 0x7fffffffL) {
        const int e = launch_in_clusters(sample_kernel, dim3(n_draws * size), dim3(THREADS), dim3(size), 0, st,
                                         refused, logits, ld, V, draws, history_tokens, history_counts, workspace,
                                         slots, totals, out);
        if (e != CLUSTERS_UNAVAILABLE) return e;
    }
    sample_kernel<<<n_draws, THREADS, 0, st>>>(logits, ld, V, draws, history_tokens, history_counts, workspace, slots,
                                               totals, out);
    return qspec_launch_status();
}

}  // namespace

QSPEC_API size_t qspec_sample_workspace_bytes(int draws, int V) {
    if (draws <= 0 || V <= 0) return 0;
    return (size_t)draws * (size_t)V * sizeof(float);
}

QSPEC_API int qspec_sample(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                           const int32_t* history_tokens, const int32_t* history_counts, void* workspace,
                           size_t workspace_bytes, int32_t* tokens_out, qspec_stream_t stream) {
    if (n_draws <= 0) return 0;
    if (V <= 0 || V > MAX_VOCAB || ld < V || workspace_bytes < qspec_sample_workspace_bytes(n_draws, V)) {
        return QSPEC_ERR_UNSUPPORTED;
    }
    return launch_sample(logits, ld, V, draws, n_draws, history_tokens, history_counts, static_cast<float*>(workspace),
                         nullptr, nullptr, tokens_out, reinterpret_cast<cudaStream_t>(stream));
}

QSPEC_API int qspec_sample_keep(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                                const int32_t* history_tokens, const int32_t* history_counts, const int32_t* slots,
                                float* kept, unsigned long long* kept_totals, int32_t* tokens_out,
                                qspec_stream_t stream) {
    if (n_draws <= 0) return 0;
    if (V <= 0 || V > MAX_VOCAB || ld < V || !slots || !kept || !kept_totals) return QSPEC_ERR_UNSUPPORTED;
    return launch_sample(logits, ld, V, draws, n_draws, history_tokens, history_counts, kept, slots, kept_totals,
                         tokens_out, reinterpret_cast<cudaStream_t>(stream));
}

QSPEC_API int qspec_rejection_sample(const float* kept, const unsigned long long* kept_totals, int V,
                                     const qspec_rejection* lanes, int n_lanes, const int32_t* draft_tokens,
                                     const int32_t* draft_slots, const int32_t* verify_slots, const double* uniforms,
                                     int32_t* accepted_out, int32_t* next_out, qspec_stream_t stream) {
    if (n_lanes <= 0) return 0;
    if (V <= 0 || V > MAX_VOCAB) return QSPEC_ERR_UNSUPPORTED;
    rejection_kernel<<<n_lanes, THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        kept, kept_totals, V, lanes, draft_tokens, draft_slots, verify_slots, uniforms, accepted_out, next_out);
    return qspec_launch_status();
}
