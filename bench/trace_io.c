/* SPDX-License-Identifier: MIT */
/* trace_io.c - writing and reading allocation traces (format: trace_io.h).
 *
 * Writer: records are encoded into a 1 MiB buffer that is written out
 * with write(2) whenever less than one record's room is left; no stdio,
 * so that it works from inside CPython's allocator hooks and at exit.
 *
 * Reader, in one pass over the file read into memory:
 *   1. check the magic;
 *   2. decode each record into a TraceEv, checking the slot rules against
 *      a byte per slot (live or not) that grows with the highest slot;
 *   3. at the end record, check its counts against what was decoded and
 *      that nothing follows it.
 * Every failure names the file, the call index and the rule broken.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC (-std=c11) */
#include "bench/trace_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACE_WBUF   (1u << 20)
#define TRACE_MAXREC 24 /* tag + two 10-byte varints, rounded up */
#define MEDIUM_MAX   (32u << 10)
#define SMALL_MAX    512u

/* ---- writing -------------------------------------------------------- */

static size_t
put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Write the whole buffer out (retrying short writes). */
static void
flush(TraceWriter *w)
{
    size_t off = 0;
    while (off < w->len && w->error == 0) {
        ssize_t k = write(w->fd, w->buf + off, w->len - off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            w->error = k < 0 ? errno : EIO;
            break;
        }
        off += (size_t)k;
    }
    w->len = 0;
}

int
trace_writer_open(TraceWriter *w, const char *path)
{
    memset(w, 0, sizeof *w);
    w->buf = malloc(TRACE_WBUF);
    if (w->buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w->buf);
        w->buf = NULL;
        errno = e;
        return -1;
    }
    memcpy(w->buf, TRACE_MAGIC, 8);
    w->len = 8;
    return 0;
}

void
trace_writer_event(TraceWriter *w, unsigned op, unsigned domain, uint32_t slot,
                   uint64_t nbytes)
{
    if (w->len > TRACE_WBUF - TRACE_MAXREC) {
        flush(w);
    }
    unsigned char *p = w->buf + w->len;
    size_t n = 0;
    p[n++] = (unsigned char)(op | (domain & 1u) << 2);
    n += put_varint(p + n, slot);
    if (op != TR_FREE) {
        n += put_varint(p + n, nbytes);
    }
    w->len += n;
    w->nevents++;
    if (slot >= w->nslots) {
        w->nslots = slot + 1;
    }
}

int
trace_writer_close(TraceWriter *w)
{
    unsigned char *p = w->buf + w->len;
    size_t n = 0;
    p[n++] = TRACE_END;
    n += put_varint(p + n, w->nevents);
    n += put_varint(p + n, w->nslots);
    w->len += n;
    flush(w);
    if (close(w->fd) != 0 && w->error == 0) {
        w->error = errno;
    }
    free(w->buf);
    w->buf = NULL;
    if (w->error != 0) {
        errno = w->error;
        return -1;
    }
    return 0;
}

void
trace_writer_abandon(TraceWriter *w)
{
    close(w->fd);
    free(w->buf);
    w->buf = NULL;
}

/* ---- reading -------------------------------------------------------- */

typedef struct Reader {
    const unsigned char *p, *end;
    const char *path;
    char *err;
    size_t errlen;
    uint8_t *live; /* per slot: 1 while a block is in it */
    size_t cap;    /* bytes of live */
} Reader;

static int __attribute__((format(printf, 2, 3)))
fail(Reader *r, const char *fmt, ...)
{
    int k = snprintf(r->err, r->errlen, "trace %s: ", r->path);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < r->errlen) {
        vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
    }
    va_end(ap);
    return -1;
}

/* Decode a varint; -1 at a truncated or over-long one. */
static int
get_varint(Reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) {
            return -1;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Make live[slot] addressable (zero-filled growth). */
static int
grow_live(Reader *r, uint64_t slot)
{
    if (slot < r->cap) {
        return 0;
    }
    size_t cap = r->cap ? r->cap : 4096;
    while (cap <= slot) {
        cap *= 2;
    }
    uint8_t *l = realloc(r->live, cap);
    if (l == NULL) {
        return -1;
    }
    memset(l + r->cap, 0, cap - r->cap);
    r->live = l;
    r->cap = cap;
    return 0;
}

static void
count_size(Trace *t, uint64_t nbytes)
{
    if (nbytes > MEDIUM_MAX) {
        t->nlarge++;
    }
    else if (nbytes > SMALL_MAX) {
        t->nmedium++;
    }
}

/* Decode record i (its tag already read) into t->ev[i]. */
static int
decode_one(Reader *r, Trace *t, unsigned tag, size_t i, uint64_t *nlive)
{
    static const char *const names[] = {"malloc", "calloc", "realloc", "free"};
    unsigned op = tag & 3u;
    uint64_t slot, nbytes = 0;
    if (tag > 7 || get_varint(r, &slot) < 0 ||
        (op != TR_FREE && get_varint(r, &nbytes) < 0)) {
        return fail(r, "call %zu: bad or truncated record (tag 0x%02x)", i,
                    tag);
    }
    if (slot > UINT32_MAX - 1 || grow_live(r, slot) < 0) {
        return fail(r, "call %zu: slot %llu out of range or no memory", i,
                    (unsigned long long)slot);
    }
    if (nbytes > TRACE_MAX_BYTES) {
        return fail(r, "call %zu: %s of %llu bytes is over the replay limit",
                    i, names[op], (unsigned long long)nbytes);
    }
    int was = r->live[slot];
    if ((op <= TR_CALLOC) == (was != 0)) {
        return fail(r, "call %zu: %s into slot %llu, which is %s", i,
                    names[op], (unsigned long long)slot,
                    was ? "live" : "empty");
    }
    r->live[slot] = op != TR_FREE;
    *nlive += (op <= TR_CALLOC) - (op == TR_FREE);
    if (*nlive > t->maxlive) {
        t->maxlive = *nlive;
    }
    if (op != TR_FREE) {
        count_size(t, nbytes);
    }
    t->count[op]++;
    t->obj_calls += (tag >> 2) & 1u;
    t->ev[i] = (TraceEv){(uint32_t)slot, (uint32_t)(nbytes << 2 | op)};
    return 0;
}

static int
decode_all(Reader *r, Trace *t)
{
    if ((size_t)(r->end - r->p) < 8 || memcmp(r->p, TRACE_MAGIC, 8) != 0) {
        return fail(r, "not a trace (no " TRACE_MAGIC " magic)");
    }
    r->p += 8;
    uint64_t nlive = 0;
    size_t i = 0;
    while (r->p < r->end && *r->p != TRACE_END) {
        unsigned tag = *r->p++;
        if (decode_one(r, t, tag, i, &nlive) < 0) {
            return -1;
        }
        i++;
    }
    uint64_t nev, nslots;
    if (r->p == r->end) {
        return fail(r, "truncated: no end record after %zu calls", i);
    }
    r->p++;
    if (get_varint(r, &nev) < 0 || get_varint(r, &nslots) < 0) {
        return fail(r, "truncated end record");
    }
    if (nev != i || nslots > r->cap || nslots > UINT32_MAX) {
        return fail(r,
                    "end record says %llu calls and %llu slots; the file "
                    "holds %zu calls",
                    (unsigned long long)nev, (unsigned long long)nslots, i);
    }
    if (r->p != r->end) {
        return fail(r, "%zu bytes after the end record",
                    (size_t)(r->end - r->p));
    }
    t->n = i;
    t->nslots = (uint32_t)nslots;
    t->leftover = nlive;
    return 0;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    size_t off = 0;
    while (buf != NULL && off < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + off, (size_t)st.st_size - off);
        if (k <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        off += (size_t)k;
    }
    close(fd);
    *len = off;
    return buf;
}

int
trace_load(const char *path, Trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    Reader r = {.path = path, .err = err, .errlen = errlen};
    size_t len = 0;
    unsigned char *buf = read_file(path, &len);
    if (buf == NULL) {
        return fail(&r, "cannot read: %s", strerror(errno ? errno : EIO));
    }
    /* A record is at least 2 bytes (tag and slot). */
    t->ev = malloc((len / 2 + 1) * sizeof(TraceEv));
    int rc = -1;
    if (t->ev == NULL) {
        fail(&r, "no memory for %zu bytes of calls", len);
    }
    else {
        r.p = buf;
        r.end = buf + len;
        rc = decode_all(&r, t);
    }
    free(buf);
    free(r.live);
    if (rc < 0) {
        trace_release(t);
        return -1;
    }
    TraceEv *shrunk = realloc(t->ev, (t->n + 1) * sizeof(TraceEv));
    if (shrunk != NULL) {
        t->ev = shrunk;
    }
    return 0;
}

void
trace_release(Trace *t)
{
    free(t->ev);
    memset(t, 0, sizeof *t);
}
