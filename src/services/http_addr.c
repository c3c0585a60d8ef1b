/*
 * http_addr.c - which resolved addresses a plugin's request may connect to:
 * the special-purpose ranges of IPv4 and IPv6 (IANA registries, RFC 6890)
 * and address ranges ("CIDR") the operator allows for some hosts.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Special ranges, most specific first (the first match names the range),
 * as address bytes and prefix lengths (no parsing per request). Everything
 * in IPv6 outside 2000::/3 (global unicast) is refused too. */
typedef struct special_range {
    int family;
    uint8_t bytes[16];
    unsigned prefix;
    const char *name;
} special_range;

#define V4(a, b, c, d) AF_INET, {a, b, c, d}
#define V6(...) AF_INET6, {__VA_ARGS__}
static const special_range SPECIAL[] = {
    {V4(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8, unspecified)"},
    {V4(10, 0, 0, 0), 8, "private (RFC 1918)"},
    {V4(100, 64, 0, 0), 10, "shared address space (100.64.0.0/10, carrier-grade NAT)"},
    {V4(127, 0, 0, 0), 8, "loopback"},
    {V4(169, 254, 169, 254), 32, "link-local (cloud metadata service)"},
    {V4(169, 254, 0, 0), 16, "link-local"},
    {V4(172, 16, 0, 0), 12, "private (RFC 1918)"},
    {V4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"},
    {V4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)"},
    {V4(192, 88, 99, 0), 24, "6to4 relay anycast"},
    {V4(192, 168, 0, 0), 16, "private (RFC 1918)"},
    {V4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"},
    {V4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)"},
    {V4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)"},
    {V4(224, 0, 0, 0), 4, "multicast"},
    {V4(255, 255, 255, 255), 32, "broadcast"},
    {V4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)"},
    {V6(0), 128, "unspecified (::)"},
    {V6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 128, "loopback (::1)"},
    {V6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), 96, "IPv4-mapped IPv6"},
    {V6(0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), 96, "IPv4-translated IPv6"},
    {V6(0), 96, "IPv4-compatible IPv6"},
    {V6(0, 0x64, 0xff, 0x9b), 96, "NAT64 (64:ff9b::/96)"},
    {V6(0, 0x64, 0xff, 0x9b, 0, 1), 48, "local NAT64 (64:ff9b:1::/48)"},
    {V6(0x01, 0x00), 64, "discard-only (100::/64)"},
    {V6(0x20, 0x01, 0, 0), 32, "Teredo (2001::/32)"},
    {V6(0x20, 0x01, 0x0d, 0xb8), 32, "documentation (2001:db8::/32)"},
    {V6(0x20, 0x01), 23, "IETF protocol assignments (2001::/23)"},
    {V6(0x20, 0x02), 16, "6to4 (2002::/16)"},
    {V6(0x3f, 0xff), 20, "documentation (3fff::/20)"},
    {V6(0xfc), 7, "unique local (fc00::/7)"},
    {V6(0xfe, 0x80), 10, "link-local (fe80::/10)"},
    {V6(0xfe, 0xc0), 10, "site-local (fec0::/10)"},
    {V6(0xff), 8, "multicast"},
};
#undef V4
#undef V6

bool wsh_cidr_parse(const char *text, wsh_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, text, n + 1);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return false;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0')
            return false;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return false;
        out->prefix = prefix < 0 ? 32u : (unsigned)prefix;
    } else if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = AF_INET6;
        if (prefix > 128)
            return false;
        out->prefix = prefix < 0 ? 128u : (unsigned)prefix;
    } else {
        return false;
    }
    return true;
}

/* The address bytes of sa (4 or 16) and its family. */
static const uint8_t *addr_bytes(const struct sockaddr *sa, int *family)
{
    *family = sa->sa_family;
    if (sa->sa_family == AF_INET)
        return (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    if (sa->sa_family == AF_INET6)
        return (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return NULL;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool wsh_cidr_contains(const wsh_cidr *range, const struct sockaddr *sa)
{
    int family;
    const uint8_t *bytes = addr_bytes(sa, &family);
    return bytes && family == range->family && prefix_equal(bytes, range->bytes, range->prefix);
}

const char *wsh_addr_special(const struct sockaddr *sa)
{
    int family;
    const uint8_t *bytes = addr_bytes(sa, &family);
    if (!bytes)
        return "not an IP address";
    for (size_t i = 0; i < sizeof SPECIAL / sizeof SPECIAL[0]; i++)
        if (SPECIAL[i].family == family && prefix_equal(bytes, SPECIAL[i].bytes, SPECIAL[i].prefix))
            return SPECIAL[i].name;
    if (family == AF_INET6 && (bytes[0] & 0xE0) != 0x20)
        return "reserved IPv6 (outside global unicast 2000::/3)";
    return NULL;
}

const char *wsh_addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
    int family;
    const uint8_t *bytes = addr_bytes(sa, &family);
    if (!bytes || !inet_ntop(family, bytes, buf, (socklen_t)size))
        snprintf(buf, size, "?");
    return buf;
}
