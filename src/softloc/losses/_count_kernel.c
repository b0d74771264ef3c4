/*
 * Exact Poisson-binomial counting loss -log P(K = c) and its gradient, one row at a time.
 *
 * K = sum_t Bernoulli(sigmoid(l_t)) over the valid steps of a row; c is the row's count.
 * Compiled at first use by softloc.losses._count_kernel (see that module for the build and the
 * pure-PyTorch fallback). All arithmetic is in double precision whatever the input type.
 *
 * Method (perf-notes.md):
 *   1. Symmetry: K = c  <=>  (n - K) = n - c with every logit negated, so c <= n / 2.
 *   2. c = 0 and c = 1 have closed forms:
 *        -log P(0) = sum_t softplus(l_t),           d/dl_t = sigmoid(l_t)
 *        -log P(1) = sum_t softplus(l_t) - LSE(l),  d/dl_t = sigmoid(l_t) - softmax(l)_t
 *   3. Otherwise, exponential tilting: for any theta,
 *        log P(c) = -theta c + sum_t [softplus(l_t + theta) - softplus(l_t)] + log P_theta(c)
 *      where P_theta uses q_t = sigmoid(l_t + theta). Newton's method (safeguarded by
 *      bisection) puts sum_t q_t within about one standard deviation of c, so P_theta(c) is
 *      O(1 / sqrt(variance)) and a linear-space recursion cannot underflow.
 *   4. Forward recursion over steps, truncated at degree c (exact: coefficients up to degree c
 *      of a product of polynomials depend only on the factors' coefficients up to degree c):
 *        F_{t+1}(k) = a_t F_t(k) + q_t F_t(k - 1),   a_t = 1 - q_t.
 *      Backward recursion B over the steps after t gives the posterior
 *        P(b_t = 1 | K = c) = q_t sum_k F_t(k) B_{t+1}(c - 1 - k) / P_theta(c),
 *      which tilting leaves unchanged, and d(-log P(c))/dl_t = sigmoid(l_t) - posterior_t.
 *      F is stored for every step when it fits in STORE_LIMIT doubles, else at sqrt(n)-spaced
 *      checkpoints and recomputed one block at a time (memory O(sqrt(n) c) per thread).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#define STORE_LIMIT (1 << 21) /* doubles kept per thread for the forward table (16 MiB) */
#define NEWTON_MAX_ITERATIONS 200

enum { OK = 0, ERR_COUNT = 1, ERR_MEMORY = 2, ERR_UNDERFLOW = 3 };

typedef struct {
    double *steps;                   /* one allocation for the six per-step arrays below */
    double *x, *q, *a, *p, *pc, *g; /* logits, tilted q and 1 - q, sigmoid, 1 - sigmoid, grad */
    double *table, *brev;            /* forward table (block or full), reversed backward vector */
    double *checkpoints;
    int64_t cap_table, cap_brev, cap_ckpt;
} Workspace;

static int grow(double **buf, int64_t *cap, int64_t need) {
    if (need <= *cap) return 1;
    double *fresh = (double *)realloc(*buf, (size_t)need * sizeof(double));
    if (!fresh) return 0;
    *buf = fresh;
    *cap = need;
    return 1;
}

static int reserve_steps(Workspace *w, int64_t length) {
    w->steps = (double *)malloc((size_t)(6 * (length > 0 ? length : 1)) * sizeof(double));
    if (!w->steps) return 0;
    w->x = w->steps;
    w->q = w->x + length;
    w->a = w->q + length;
    w->p = w->a + length;
    w->pc = w->p + length;
    w->g = w->pc + length;
    return 1;
}

static void release(Workspace *w) {
    free(w->steps); free(w->table); free(w->brev); free(w->checkpoints);
}

static inline double softplus(double v) { return fmax(v, 0.0) + log1p(exp(-fabs(v))); }

/* sigmoid(v) and sigmoid(-v) = 1 - sigmoid(v), both to full relative precision. */
static inline void sigmoid_pair(double v, double *s, double *sc) {
    double e = exp(-fabs(v));
    double big = 1.0 / (1.0 + e);
    double small = e * big;
    *s = v >= 0.0 ? big : small;
    *sc = v >= 0.0 ? small : big;
}

static inline void forward_step(const double *restrict in, double *restrict out, double a,
                                double q, int64_t c) {
    out[0] = a * in[0];
    for (int64_t k = 1; k <= c; ++k) out[k] = a * in[k] + q * in[k - 1];
}

/* Tilt theta such that sum_t sigmoid(x_t + theta) is within about one standard deviation of c. */
static double solve_tilt(const double *x, int64_t n, int64_t c) {
    double lo_x = x[0], hi_x = x[0];
    for (int64_t t = 1; t < n; ++t) {
        lo_x = fmin(lo_x, x[t]);
        hi_x = fmax(hi_x, x[t]);
    }
    double base = log((double)c / (double)(n - c));
    double lo = base - hi_x, hi = base - lo_x; /* g(lo) <= 0 <= g(hi) */
    double theta = fmin(fmax(0.0, lo), hi);
    for (int it = 0; it < NEWTON_MAX_ITERATIONS; ++it) {
        double mean = 0.0, var = 0.0;
        for (int64_t t = 0; t < n; ++t) {
            double s, sc;
            sigmoid_pair(x[t] + theta, &s, &sc);
            mean += s;
            var += s * sc;
        }
        double g = mean - (double)c;
        if (fabs(g) <= 0.25 + 0.5 * sqrt(var)) break;
        if (g < 0.0) lo = theta; else hi = theta;
        double next = var > 0.0 ? theta - g / var : 0.5 * (lo + hi);
        if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
        if (next == theta) break;
        theta = next;
    }
    return theta;
}

/* -log P(K = c) and its gradient (into w->g) for one row of n logits with 0 <= c <= n / 2. */
static int row_loss(Workspace *w, int64_t n, int64_t c, double *loss) {
    const double *x = w->x;
    double *g = w->g;
    double sp = 0.0;
    for (int64_t t = 0; t < n; ++t) {
        sigmoid_pair(x[t], &w->p[t], &w->pc[t]);
        sp += softplus(x[t]);
    }
    if (c == 0) {
        for (int64_t t = 0; t < n; ++t) g[t] = w->p[t];
        *loss = sp;
        return OK;
    }
    if (c == 1) {
        double m = x[0];
        for (int64_t t = 1; t < n; ++t) m = fmax(m, x[t]);
        double z = 0.0;
        for (int64_t t = 0; t < n; ++t) z += exp(x[t] - m);
        for (int64_t t = 0; t < n; ++t) g[t] = w->p[t] - exp(x[t] - m) / z;
        *loss = sp - (m + log(z));
        return OK;
    }

    double theta = solve_tilt(x, n, c);
    double shift = 0.0; /* sum_t softplus(x_t + theta) - softplus(x_t) */
    for (int64_t t = 0; t < n; ++t) {
        double v = x[t] + theta;
        sigmoid_pair(v, &w->q[t], &w->a[t]);
        shift += softplus(v);
    }
    shift -= sp;

    const int64_t width = c + 1;
    int64_t block = n;
    if ((n + 1) * width > STORE_LIMIT) block = (int64_t)ceil(sqrt((double)n));
    const int64_t nblocks = (n + block - 1) / block;
    if (!grow(&w->table, &w->cap_table, (block + 1) * width)) return ERR_MEMORY;
    if (!grow(&w->brev, &w->cap_brev, width + 1)) return ERR_MEMORY;
    double *table = w->table, *brev = w->brev;
    const double *q = w->q, *a = w->a;

    if (nblocks > 1) {
        /* Checkpoint pass: F at t = 0, block, 2 block, ... */
        if (!grow(&w->checkpoints, &w->cap_ckpt, nblocks * width)) return ERR_MEMORY;
        double *cur = table, *nxt = table + width;
        memset(cur, 0, (size_t)width * sizeof(double));
        cur[0] = 1.0;
        for (int64_t t = 0; t < n; ++t) {
            if (t % block == 0) memcpy(w->checkpoints + (t / block) * width, cur, (size_t)width * sizeof(double));
            forward_step(cur, nxt, a[t], q[t], c);
            double *tmp = cur; cur = nxt; nxt = tmp;
        }
    }

    memset(brev, 0, (size_t)(width + 1) * sizeof(double));
    brev[c] = 1.0; /* B(0) = 1: no step after the last one, count 0 */
    double p_c = -1.0;
    for (int64_t b = nblocks - 1; b >= 0; --b) {
        const int64_t start = b * block;
        const int64_t stop = start + block < n ? start + block : n;
        if (nblocks > 1) {
            memcpy(table, w->checkpoints + b * width, (size_t)width * sizeof(double));
        } else {
            memset(table, 0, (size_t)width * sizeof(double));
            table[0] = 1.0;
        }
        for (int64_t t = start; t < stop; ++t)
            forward_step(table + (t - start) * width, table + (t - start + 1) * width, a[t], q[t], c);
        if (b == nblocks - 1) p_c = table[(stop - start) * width + c];
        for (int64_t t = stop - 1; t >= start; --t) {
            const double *f = table + (t - start) * width;
            double s0 = 0.0, s1 = 0.0;
            for (int64_t k = 0; k <= c; ++k) {
                s0 += f[k] * brev[k];
                s1 += f[k] * brev[k + 1];
            }
            const double on = q[t] * s1, off = a[t] * s0, total = on + off;
            if (!(total > 0.0)) return ERR_UNDERFLOW;
            /* sigmoid(l) - posterior = p (1 - post) - (1 - p) post, free of cancellation */
            g[t] = (w->p[t] * off - w->pc[t] * on) / total;
            const double at = a[t], qt = q[t];
            for (int64_t i = 0; i <= c; ++i) brev[i] = at * brev[i] + qt * brev[i + 1];
        }
    }
    if (!(p_c > 0.0)) return ERR_UNDERFLOW;
    *loss = theta * (double)c - shift - log(p_c);
    return OK;
}

#define DEFINE_ENTRY(NAME, REAL)                                                               \
    int NAME(const REAL *logits, const uint8_t *mask, const int64_t *counts, int64_t rows,     \
             int64_t length, int64_t classes, double *loss_out, REAL *grad_out,                \
             int num_threads) {                                                                \
        int status = OK;                                                                       \
        if (num_threads < 1) num_threads = 1;                                                  \
        _Pragma("omp parallel num_threads(num_threads)")                                       \
        {                                                                                      \
            Workspace w;                                                                       \
            memset(&w, 0, sizeof(w));                                                          \
            SET_FLUSH_TO_ZERO                                                                  \
            int ok = reserve_steps(&w, length);                                                \
            if (!ok) {                                                                         \
                _Pragma("omp atomic write") status = ERR_MEMORY;                               \
            }                                                                                  \
            _Pragma("omp for schedule(dynamic, 4)")                                            \
            for (int64_t r = 0; r < rows; ++r) {                                               \
                if (!ok) continue;                                                             \
                const REAL *row = logits + r * length;                                         \
                const uint8_t *valid = mask ? mask + (r / classes) * length : NULL;            \
                int64_t n = 0;                                                                 \
                for (int64_t t = 0; t < length; ++t)                                           \
                    if (!valid || valid[t]) w.x[n++] = (double)row[t];                         \
                int64_t c = counts[r];                                                         \
                int rc;                                                                        \
                double value = 0.0;                                                            \
                if (c < 0 || c > n) {                                                          \
                    rc = ERR_COUNT;                                                            \
                } else {                                                                       \
                    int flip = 2 * c > n;                                                      \
                    if (flip) {                                                                \
                        for (int64_t t = 0; t < n; ++t) w.x[t] = -w.x[t];                      \
                        c = n - c;                                                             \
                    }                                                                          \
                    rc = row_loss(&w, n, c, &value);                                           \
                    if (rc == OK && flip)                                                      \
                        for (int64_t t = 0; t < n; ++t) w.g[t] = -w.g[t];                      \
                }                                                                              \
                if (rc != OK) {                                                                \
                    _Pragma("omp atomic write") status = rc;                                   \
                    continue;                                                                  \
                }                                                                              \
                loss_out[r] = value;                                                           \
                if (grad_out) {                                                                \
                    REAL *out = grad_out + r * length;                                         \
                    int64_t i = 0;                                                             \
                    for (int64_t t = 0; t < length; ++t)                                       \
                        out[t] = (!valid || valid[t]) ? (REAL)w.g[i++] : (REAL)0;              \
                }                                                                              \
            }                                                                                  \
            RESTORE_FLUSH_TO_ZERO                                                              \
            release(&w);                                                                       \
        }                                                                                      \
        return status;                                                                         \
    }

#ifdef HAVE_MXCSR
/* Flush denormals to zero inside this kernel only (they are negligible terms here and cost
   two orders of magnitude in speed); the caller's floating-point state is restored. */
#define SET_FLUSH_TO_ZERO unsigned int saved_csr = _mm_getcsr(); _mm_setcsr(saved_csr | 0x8040);
#define RESTORE_FLUSH_TO_ZERO _mm_setcsr(saved_csr);
#else
#define SET_FLUSH_TO_ZERO
#define RESTORE_FLUSH_TO_ZERO
#endif

DEFINE_ENTRY(softloc_count_nll_f32, float)
DEFINE_ENTRY(softloc_count_nll_f64, double)
