/*
 * polltest.c - poll_oneoff through wasi-libc: poll(2) on the host's stdin (real
 * readiness from ppoll), then sleeps (poll with no descriptors, nanosleep)
 * that must advance the monotonic clock (virtually in deterministic mode).
 * Run by exec-test.sh.
 */
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(void) {
    struct pollfd p = {0, POLLIN, 0};
    int r = poll(&p, 1, 30000); /* returns once stdin is readable */
    printf("poll=%d revents=%d\n", r, p.revents);
    char buf[64]; ssize_t n = read(0, buf, sizeof buf);
    printf("read=%zd\n", n);
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    r = poll(NULL, 0, 50);
    struct timespec ts = {0, 20000000}; nanosleep(&ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept>=70: %d\n", ms >= 70);
    return 0;
}
