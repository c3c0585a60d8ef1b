/*
 * sort.c - sorting pseudo-random integers: quicksort (median of three,
 * Hoare partition, insertion sort below 16 elements) of 64 Ki u32 and heap
 * sort of 16 Ki u32. Compare-and-branch heavy, 32-bit loads and stores.
 * bench/as/sort.ts is the same algorithm in AssemblyScript and must give the
 * same checksum. One unit = both sorts on fresh data.
 */
#include "workload.h"

#define QN 65536
#define HN 16384

static uint32_t qa[QN];
static uint32_t ha[HN];

static void insertion_sort(uint32_t *v, int32_t lo, int32_t hi)
{
    for (int32_t i = lo + 1; i <= hi; i++) {
        uint32_t x = v[i];
        int32_t j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void quicksort(uint32_t *v, int32_t lo, int32_t hi)
{
    while (hi - lo > 16) {
        int32_t mid = lo + ((hi - lo) >> 1);
        uint32_t a = v[lo], b = v[mid], c = v[hi];
        uint32_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int32_t i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (v[i] < pivot);
            do j--; while (v[j] > pivot);
            if (i >= j)
                break;
            uint32_t t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        /* Recurse into the smaller half, loop on the larger. */
        if (j - lo < hi - j) {
            quicksort(v, lo, j);
            lo = j + 1;
        } else {
            quicksort(v, j + 1, hi);
            hi = j;
        }
    }
    insertion_sort(v, lo, hi);
}

static void sift_down(uint32_t *v, int32_t root, int32_t n)
{
    uint32_t x = v[root];
    for (;;) {
        int32_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[child] <= x)
            break;
        v[root] = v[child];
        root = child;
    }
    v[root] = x;
}

static void heapsort(uint32_t *v, int32_t n)
{
    for (int32_t i = n / 2 - 1; i >= 0; i--)
        sift_down(v, i, n);
    for (int32_t end = n - 1; end > 0; end--) {
        uint32_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

static uint64_t check(const uint32_t *v, int32_t n)
{
    uint64_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        sum += (uint64_t)v[i] * (uint64_t)(i + 1);
        if (i > 0 && v[i - 1] > v[i])
            sum ^= 0xDEADBEEFull; /* not sorted: the checksum will not match */
    }
    return sum;
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        uint64_t seed = wl_seed(u);
        for (int32_t i = 0; i < QN; i++)
            qa[i] = wl_rand32(&seed);
        for (int32_t i = 0; i < HN; i++)
            ha[i] = wl_rand32(&seed) % 100000u; /* many duplicates */
        quicksort(qa, 0, QN - 1);
        heapsort(ha, HN);
        sum = wl_mix(sum, check(qa, QN));
        sum = wl_mix(sum, check(ha, HN));
    }
    return sum;
}

WL_ENTRY()
