/*
 * Exact Poisson-binomial counting loss -log P(K = c) and its gradient.
 *
 * A row is one (sequence, class): K = sum_t Bernoulli(sigmoid(l_t)) over its valid steps and c
 * is the sum of its targets there. Compiled at first use by softloc.losses._count_kernel (which
 * also holds the pure-PyTorch fallback). Arithmetic is double precision whatever the input type.
 * The kernel also validates the data in the same pass (finite logits; finite, non-negative,
 * whole targets; c <= number of valid steps), so the caller need not scan the tensors first.
 *
 * Method (perf-notes.md):
 *   1. Symmetry: K = c  <=>  (n - K) = n - c with every logit negated, so c <= n / 2.
 *   2. c = 0 and c = 1 have closed forms:
 *        -log P(0) = sum_t softplus(l_t),           d/dl_t = sigmoid(l_t)
 *        -log P(1) = sum_t softplus(l_t) - LSE(l),  d/dl_t = sigmoid(l_t) - softmax(l)_t
 *   3. Otherwise, exponential tilting: for any theta,
 *        log P(c) = -theta c + sum_t [softplus(l_t + theta) - softplus(l_t)] + log P_theta(c)
 *      where P_theta uses q_t = sigmoid(l_t + theta). Safeguarded Newton steps put
 *      sum_t q_t within a few standard deviations of c, so P_theta(c) is within a few orders of
 *      magnitude of 1 / sqrt(variance) and a linear-space double recursion cannot underflow.
 *   4. Forward recursion truncated at degree c (exact: coefficients up to degree c of a product
 *      of polynomials depend only on the factors' coefficients up to degree c):
 *        F_{t+1}(k) = a_t F_t(k) + q_t F_t(k - 1),   a_t = 1 - q_t,
 *      and a backward recursion B over the steps after t give the posterior
 *        P(b_t = 1 | K = c) = q_t sum_k F_t(k) B_{t+1}(c - 1 - k) / P_theta(c),
 *      which tilting leaves unchanged; d(-log P(c)) / dl_t = sigmoid(l_t) - posterior_t.
 *      (Computed this way the gradient is exact to ~1e-16 absolute; its relative precision is
 *      lower only where sigmoid and posterior both round to about 1.)
 *   5. Rows are sorted by count and processed LANES at a time, one SIMD lane per row, so every
 *      recursion step is a handful of vertical vector operations. The forward table is kept for
 *      a block of steps that fits in cache; earlier blocks are recomputed from checkpoints.
 *      Masked steps are identity factors (a = 1, q = 0) with zero gradient.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#define LANES 8
#define BLOCK_BYTES (192 * 1024) /* forward table kept per block of steps */
#define NEWTON_MAX_ITERATIONS 200

enum {
    OK = 0, ERR_LOGITS = 1, ERR_TARGET = 2, ERR_COUNT = 3, ERR_MEMORY = 4, ERR_UNDERFLOW = 5
};

typedef struct {
    int64_t row, n, c; /* row index, valid steps, effective count (after the flip) */
    int flip;
} RowInfo;

static void record_error(int *status, int64_t *where, int code, int64_t row) {
#pragma omp critical(softloc_error)
    {
        if (*status == OK || row < *where) {
            *status = code;
            *where = row;
        }
    }
}

static int by_count_descending(const void *x, const void *y) {
    const RowInfo *a = (const RowInfo *)x, *b = (const RowInfo *)y;
    if (a->c != b->c) return a->c < b->c ? 1 : -1;
    return a->row < b->row ? -1 : (a->row > b->row);
}

/* Solve sum_t sigmoid(x_t + theta) ~= c over valid steps, to within a few standard deviations:
   then P_theta(c) > ~exp(-5) / sqrt(2 pi var), far above double underflow, and the recursion's
   precision does not depend on how well the count is centred (all its terms are positive). */
static double solve_tilt(const double *x, const uint8_t *valid, int64_t len, int64_t n,
                         int64_t c, double mean0, double var0) {
    double lo_x = DBL_MAX, hi_x = -DBL_MAX; /* no INFINITY: -ffast-math assumes none */
    for (int64_t t = 0; t < len; ++t) {
        const int on = !valid || valid[t];
        lo_x = fmin(lo_x, on ? x[t] : DBL_MAX);
        hi_x = fmax(hi_x, on ? x[t] : -DBL_MAX);
    }
    const double base = log((double)c / (double)(n - c));
    double lo = base - hi_x, hi = base - lo_x; /* g(lo) <= 0 <= g(hi) */
    double theta = 0.0, mean = mean0, var = var0;
    for (int it = 0;; ++it) {
        const double g = mean - (double)c;
        if (fabs(g) <= 2.0 + 3.0 * sqrt(var) || it == NEWTON_MAX_ITERATIONS) break;
        if (g < 0.0) lo = fmax(lo, theta); else hi = fmin(hi, theta);
        double next = var > 0.0 ? theta - g / var : 0.5 * (lo + hi);
        if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
        if (next == theta) break;
        theta = next;
        mean = 0.0;
        var = 0.0;
        for (int64_t t = 0; t < len; ++t) {
            const double v = x[t] + theta, e = exp(-fabs(v)), big = 1.0 / (1.0 + e);
            const double s = v >= 0.0 ? big : e * big;
            const double w = (valid && !valid[t]) ? 0.0 : 1.0;
            mean += w * s;
            var += w * s * (1.0 - s);
        }
    }
    return theta;
}

/* Per-thread scratch, grown on demand. */
typedef struct {
    double *x, *p;                      /* one row: logits (flipped), sigmoid */
    double *lanes;                      /* a group's a, q and p, one contiguous row per lane */
    double *qa, *leaf_p;                /* the same, LANES-interleaved: (a, q) and p per step */
    double *table, *checkpoints, *brev, *grad;
    int64_t cap_x, cap_lanes, cap_qa, cap_leaf_p, cap_grad, cap_table, cap_ckpt, cap_brev;
} Scratch;

static int grow(double **buf, int64_t *cap, int64_t need) {
    if (need <= *cap) return 1;
    double *fresh = (double *)realloc(*buf, (size_t)need * sizeof(double));
    if (!fresh) return 0;
    *buf = fresh;
    *cap = need;
    return 1;
}

static void release(Scratch *s) {
    free(s->x); free(s->p); free(s->lanes); free(s->qa); free(s->leaf_p);
    free(s->table); free(s->checkpoints); free(s->brev); free(s->grad);
}

static int reserve_row(Scratch *s, int64_t len) {
    if (len <= s->cap_x) return 1;
    int64_t cap = s->cap_x;
    if (!grow(&s->x, &cap, len)) return 0;
    cap = s->cap_x;
    if (!grow(&s->p, &cap, len)) return 0;
    s->cap_x = len;
    return 1;
}

/* Load a row as doubles (negated when flipped) with its sigmoid and sums. */
static void prepare_row(Scratch *s, const double *restrict x_in, const uint8_t *valid, int64_t len,
                        int flip, double *softplus_sum, double *mean, double *var, double *max_x) {
    double sp = 0.0, m = 0.0, v = 0.0, mx = -DBL_MAX;
    const double sign = flip ? -1.0 : 1.0;
    double *restrict xs = s->x, *restrict ps = s->p;
    for (int64_t t = 0; t < len; ++t) {
        const double x = sign * x_in[t];
        const double e = exp(-fabs(x)), big = 1.0 / (1.0 + e), small = e * big;
        const double p = x >= 0.0 ? big : small, pc = x >= 0.0 ? small : big;
        const double w = (valid && !valid[t]) ? 0.0 : 1.0;
        xs[t] = x;
        ps[t] = p;
        sp += w * (fmax(x, 0.0) + log1p(e));
        m += w * p;
        v += w * p * pc;
        mx = fmax(mx, w > 0.0 ? x : -DBL_MAX);
    }
    *softplus_sum = sp;
    *mean = m;
    *var = v;
    *max_x = mx;
}

/* Closed forms for c = 0 and c = 1; writes the gradient (sign-corrected) and the loss. */
static void closed_form(Scratch *s, const uint8_t *valid, int64_t len, int64_t c, int flip,
                        double softplus_sum, double max_x, double *loss, double *restrict grad) {
    const double sign = flip ? -1.0 : 1.0;
    const double *restrict xs = s->x, *restrict ps = s->p;
    if (c == 0) {
        for (int64_t t = 0; t < len; ++t)
            grad[t] = (valid && !valid[t]) ? 0.0 : sign * ps[t];
        *loss = softplus_sum;
        return;
    }
    double z = 0.0;
    for (int64_t t = 0; t < len; ++t) {
        const double e = (valid && !valid[t]) ? 0.0 : exp(xs[t] - max_x);
        grad[t] = e;
        z += e;
    }
    const double inv = 1.0 / z;
    for (int64_t t = 0; t < len; ++t)
        grad[t] = (valid && !valid[t]) ? 0.0 : sign * (ps[t] - grad[t] * inv);
    *loss = softplus_sum - (max_x + log(z));
}

/* Rows arrive as float or double; each is converted once into per-thread double scratch. */
static void load_row(const void *src, int is_double, int64_t offset, int64_t len, double *dst) {
    if (is_double) {
        memcpy(dst, (const double *)src + offset, (size_t)len * sizeof(double));
    } else {
        const float *f = (const float *)src + offset;
        for (int64_t t = 0; t < len; ++t) dst[t] = (double)f[t];
    }
}

static void store_row(void *dst, int is_double, int64_t offset, int64_t len, const double *src,
                      int64_t stride, double sign) {
    if (is_double) {
        double *d = (double *)dst + offset;
        for (int64_t t = 0; t < len; ++t) d[t] = sign * src[t * stride];
    } else {
        float *f = (float *)dst + offset;
        for (int64_t t = 0; t < len; ++t) f[t] = (float)(sign * src[t * stride]);
    }
}

/* Forward step on LANES interleaved rows: out(k) = a in(k) + q in(k - 1), k = 0..c. */
static inline void forward_step(const double *restrict in, double *restrict out,
                                const double *restrict a, const double *restrict q, int64_t c) {
    for (int l = 0; l < LANES; ++l) out[l] = a[l] * in[l];
    for (int64_t k = 1; k <= c; ++k) {
        const double *restrict i0 = in + k * LANES, *restrict i1 = in + (k - 1) * LANES;
        double *restrict o = out + k * LANES;
        for (int l = 0; l < LANES; ++l) o[l] = a[l] * i0[l] + q[l] * i1[l];
    }
}

/* One group of up to LANES rows with counts >= 2 (effective). */
static int run_group(Scratch *s, const RowInfo *rows, int members, const void *logits,
                     int is_double, const uint8_t *mask, int64_t len, int64_t classes,
                     double *loss_out, void *grad_out) {
    const int64_t width = rows[0].c + 1; /* rows are sorted: the first has the largest count */
    if (!grow(&s->qa, &s->cap_qa, 2 * LANES * len) ||
        !grow(&s->leaf_p, &s->cap_leaf_p, LANES * len) ||
        !grow(&s->grad, &s->cap_grad, LANES * len) ||
        !grow(&s->lanes, &s->cap_lanes, 3 * LANES * len) || !reserve_row(s, len))
        return ERR_MEMORY;

    double theta[LANES], shift[LANES];
    int64_t count[LANES];
    for (int l = 0; l < LANES; ++l) {
        theta[l] = 0.0; shift[l] = 0.0; count[l] = 0;
    }
    /* Per lane, contiguous: a (1 - tilted sigmoid), q (tilted sigmoid), p (sigmoid). */
    double *lane_a = s->lanes, *lane_q = lane_a + LANES * len, *lane_p = lane_q + LANES * len;
    for (int l = 0; l < LANES; ++l) {
        double *restrict a = lane_a + l * len, *restrict q = lane_q + l * len;
        double *restrict p = lane_p + l * len;
        if (l >= members) { /* idle lane: identity factors */
            for (int64_t t = 0; t < len; ++t) {
                a[t] = 1.0; q[t] = 0.0; p[t] = 0.0;
            }
            continue;
        }
        const RowInfo *info = &rows[l];
        const uint8_t *valid = mask ? mask + (info->row / classes) * len : NULL;
        double sp, mean, var, max_x;
        load_row(logits, is_double, info->row * len, len, s->grad);
        prepare_row(s, s->grad, valid, len, info->flip, &sp, &mean, &var, &max_x);
        const double th = solve_tilt(s->x, valid, len, info->n, info->c, mean, var);
        double tilted_sp = 0.0;
        const double *restrict x = s->x, *restrict p_row = s->p;
        for (int64_t t = 0; t < len; ++t) {
            const double v = x[t] + th, e = exp(-fabs(v)), big = 1.0 / (1.0 + e), small = e * big;
            /* Selections, not arithmetic blends: -ffast-math may reassociate 1 - w + w a. */
            const int on = !valid || valid[t];
            q[t] = on ? (v >= 0.0 ? big : small) : 0.0;
            a[t] = on ? (v >= 0.0 ? small : big) : 1.0;
            p[t] = on ? p_row[t] : 0.0;
            tilted_sp += on ? fmax(v, 0.0) + log1p(e) : 0.0;
        }
        theta[l] = th;
        shift[l] = tilted_sp - sp;
        count[l] = info->c;
    }
    /* Interleave: qa[t][0 = a, 1 = q][lane]; leaf_p[t][lane]. */
    for (int64_t t = 0; t < len; ++t) {
        double *qa = s->qa + 2 * t * LANES, *lp = s->leaf_p + t * LANES;
        for (int l = 0; l < LANES; ++l) {
            qa[l] = lane_a[l * len + t];
            qa[LANES + l] = lane_q[l * len + t];
            lp[l] = lane_p[l * len + t];
        }
    }

    const int64_t row_doubles = width * LANES;
    int64_t block = BLOCK_BYTES / (int64_t)(row_doubles * sizeof(double)) - 1;
    if (block < 16) block = 16;
    if (block > len) block = len;
    const int64_t nblocks = (len + block - 1) / block;
    if (!grow(&s->table, &s->cap_table, (block + 1) * row_doubles)) return ERR_MEMORY;
    if (!grow(&s->brev, &s->cap_brev, (width + 1) * LANES)) return ERR_MEMORY;
    double *table = s->table, *brev = s->brev;

    if (nblocks > 1) {
        if (!grow(&s->checkpoints, &s->cap_ckpt, nblocks * row_doubles)) return ERR_MEMORY;
        double *cur = table, *nxt = table + row_doubles;
        memset(cur, 0, (size_t)row_doubles * sizeof(double));
        for (int l = 0; l < LANES; ++l) cur[l] = 1.0;
        for (int64_t t = 0; t < len; ++t) {
            if (t % block == 0)
                memcpy(s->checkpoints + (t / block) * row_doubles, cur,
                       (size_t)row_doubles * sizeof(double));
            forward_step(cur, nxt, s->qa + 2 * t * LANES, s->qa + (2 * t + 1) * LANES, width - 1);
            double *tmp = cur; cur = nxt; nxt = tmp;
        }
    }

    /* brev[i][lane] = B(c_lane - i): B(0) = 1 before any step is included. */
    memset(brev, 0, (size_t)(width + 1) * LANES * sizeof(double));
    for (int l = 0; l < LANES; ++l) brev[count[l] * LANES + l] = 1.0;
    double p_c[LANES] = {0.0}, inv_p_c[LANES] = {0.0};
    for (int64_t b = nblocks - 1; b >= 0; --b) {
        const int64_t start = b * block, stop = start + block < len ? start + block : len;
        if (nblocks > 1) {
            memcpy(table, s->checkpoints + b * row_doubles, (size_t)row_doubles * sizeof(double));
        } else {
            memset(table, 0, (size_t)row_doubles * sizeof(double));
            for (int l = 0; l < LANES; ++l) table[l] = 1.0;
        }
        for (int64_t t = start; t < stop; ++t)
            forward_step(table + (t - start) * row_doubles, table + (t - start + 1) * row_doubles,
                         s->qa + 2 * t * LANES, s->qa + (2 * t + 1) * LANES, width - 1);
        if (b == nblocks - 1) {
            const double *last = table + (stop - start) * row_doubles;
            for (int l = 0; l < LANES; ++l) {
                p_c[l] = last[count[l] * LANES + l];
                if (l < members && !(p_c[l] > 0.0)) return ERR_UNDERFLOW;
                inv_p_c[l] = l < members ? 1.0 / p_c[l] : 0.0;
            }
        }
        for (int64_t t = stop - 1; t >= start; --t) {
            const double *f = table + (t - start) * row_doubles;
            const double *a = s->qa + 2 * t * LANES, *q = s->qa + (2 * t + 1) * LANES;
            const double *p = s->leaf_p + t * LANES;
            double s1[LANES];
            for (int l = 0; l < LANES; ++l) s1[l] = 0.0;
            for (int64_t k = 0; k < width; ++k) {
                const double *fk = f + k * LANES, *b1 = brev + (k + 1) * LANES;
                for (int l = 0; l < LANES; ++l) s1[l] += fk[l] * b1[l];
            }
            /* d(-log P(c)) / dl_t = sigmoid(l_t) - q_t s1 / P_theta(c) */
            double *g = s->grad + t * LANES;
            for (int l = 0; l < LANES; ++l) g[l] = p[l] - q[l] * s1[l] * inv_p_c[l];
            for (int64_t i = 0; i < width; ++i) {
                double *b0 = brev + i * LANES;
                const double *b1 = brev + (i + 1) * LANES;
                for (int l = 0; l < LANES; ++l) b0[l] = a[l] * b0[l] + q[l] * b1[l];
            }
        }
    }
    for (int l = 0; l < members; ++l) {
        const RowInfo *info = &rows[l];
        loss_out[info->row] = theta[l] * (double)count[l] - shift[l] - log(p_c[l]);
        if (grad_out)
            store_row(grad_out, is_double, info->row * len, len, s->grad + l, LANES,
                      info->flip ? -1.0 : 1.0);
    }
    return OK;
}

/* True for inf and NaN, read from the bits: -ffast-math lets the compiler assume neither exists,
   so comparisons cannot be trusted to find them. */
static inline int not_finite(double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return (bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL;
}

/* Validate a row (held in x, y) and count its events. */
static int scan_row(const double *x, const double *y, const uint8_t *valid, int64_t len,
                    int64_t *n_out, int64_t *c_out) {
    int64_t n = 0;
    double c = 0.0;
    int bad_x = 0, bad_y = 0;
    for (int64_t t = 0; t < len; ++t) {
        bad_x |= not_finite(x[t]);
        bad_y |= not_finite(y[t]) || !(y[t] >= 0.0 && y[t] <= 9.0e15 && y[t] == floor(y[t]));
        const int w = !valid || valid[t];
        n += w;
        c += w ? y[t] : 0.0;
    }
    if (bad_x) return ERR_LOGITS;
    if (bad_y) return ERR_TARGET;
    if (c > (double)n) return ERR_COUNT;
    *n_out = n;
    *c_out = (int64_t)c;
    return OK;
}

#ifdef HAVE_MXCSR
/* Flush denormals to zero inside this kernel only (they are negligible terms here and cost
   two orders of magnitude in speed); each thread restores its floating-point state. */
#define SET_FLUSH_TO_ZERO unsigned int saved_csr = _mm_getcsr(); _mm_setcsr(saved_csr | 0x8040);
#define RESTORE_FLUSH_TO_ZERO _mm_setcsr(saved_csr);
#else
#define SET_FLUSH_TO_ZERO
#define RESTORE_FLUSH_TO_ZERO
#endif

/*
 * The entry point. logits and targets are (rows, len) arrays of float (is_double = 0) or
 * double; mask is NULL or (rows / classes, len) bytes shared by the classes of a sequence.
 * Writes the loss per row (double) and, when grad_out is not NULL, d loss / d logits in the
 * input type. Returns a status; on error *error_row is the first row at fault.
 */
int softloc_count_nll(const void *logits, const void *targets, int is_double, const uint8_t *mask,
                      int64_t rows, int64_t len, int64_t classes, double *loss_out,
                      void *grad_out, int num_threads, int64_t *error_row) {
    int status = OK;
    int64_t where = rows, groups = 0, ndense = 0;
    if (num_threads < 1) num_threads = 1;
    RowInfo *infos = (RowInfo *)malloc((size_t)(rows > 0 ? rows : 1) * sizeof(RowInfo));
    RowInfo *dense = (RowInfo *)malloc((size_t)(rows > 0 ? rows : 1) * sizeof(RowInfo));
    if (!infos || !dense) {
        free(infos);
        free(dense);
        *error_row = 0;
        return ERR_MEMORY;
    }
#pragma omp parallel num_threads(num_threads)
    {
        Scratch s;
        memset(&s, 0, sizeof(s));
        SET_FLUSH_TO_ZERO
        double *y = (double *)malloc((size_t)(len > 0 ? len : 1) * sizeof(double));
        double *g = (double *)malloc((size_t)(len > 0 ? len : 1) * sizeof(double));
        const int ready = y && g && reserve_row(&s, len);
        if (!ready) record_error(&status, &where, ERR_MEMORY, 0);
#pragma omp for schedule(dynamic, 8)
        for (int64_t r = 0; r < rows; ++r) {
            infos[r].row = r;
            infos[r].c = -1;
            infos[r].flip = 0;
            if (!ready) continue;
            const uint8_t *valid = mask ? mask + (r / classes) * len : NULL;
            int64_t n = 0, c = 0;
            load_row(logits, is_double, r * len, len, g);
            load_row(targets, is_double, r * len, len, y);
            const int rc = scan_row(g, y, valid, len, &n, &c);
            if (rc != OK) {
                record_error(&status, &where, rc, r);
                continue;
            }
            const int flip = 2 * c > n;
            const int64_t ce = flip ? n - c : c;
            infos[r].n = n;
            infos[r].c = ce;
            infos[r].flip = flip;
            if (ce <= 1) {
                double sp, mean, var, mx;
                prepare_row(&s, g, valid, len, flip, &sp, &mean, &var, &mx);
                closed_form(&s, valid, len, ce, flip, sp, mx, loss_out + r, g);
                if (grad_out) store_row(grad_out, is_double, r * len, len, g, 1, 1.0);
            }
        }
#pragma omp single
        {
            if (status == OK) {
                for (int64_t r = 0; r < rows; ++r)
                    if (infos[r].c >= 2) dense[ndense++] = infos[r];
                qsort(dense, (size_t)ndense, sizeof(RowInfo), by_count_descending);
                groups = (ndense + LANES - 1) / LANES;
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t gi = 0; gi < groups; ++gi) {
            const int64_t first = gi * LANES;
            const int members = (int)(ndense - first < LANES ? ndense - first : LANES);
            const int rc = run_group(&s, dense + first, members, logits, is_double, mask, len,
                                     classes, loss_out, grad_out);
            if (rc != OK) record_error(&status, &where, rc, dense[first].row);
        }
        RESTORE_FLUSH_TO_ZERO
        free(y);
        free(g);
        release(&s);
    }
    free(infos);
    free(dense);
    *error_row = where;
    return status;
}
