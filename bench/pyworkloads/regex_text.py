# SPDX-License-Identifier: MIT
"""Regex-heavy text processing of a synthetic 4 MB document.

Generates deterministic text (sentences of words, numbers, dates, e-mail
addresses, URLs), then: tokenizes it with re.findall and counts words in a
dict; extracts dates, e-mails and URLs with named groups; rewrites dates
with re.sub and a callback; splits sentences and normalises whitespace and
case.  Prints a checksum of the results.  With --small: a fifth of the
text (for cgcompare.py, under Valgrind).
"""
import collections
import random
import re
import sys
import zlib

SMALL = "--small" in sys.argv[1:]

WORDS = ("the quick brown fox jumps over lazy dog memory pool arena block "
         "object reference cycle collector generation threshold heap size "
         "class python allocator free list page cache line").split()


def make_text(rng, nsentences):
    out = []
    for i in range(nsentences):
        words = [rng.choice(WORDS) for _ in range(rng.randrange(5, 18))]
        if i % 5 == 0:
            words.append(f"{rng.randrange(1990, 2030)}-"
                         f"{rng.randrange(1, 13):02d}-"
                         f"{rng.randrange(1, 29):02d}")
        if i % 7 == 0:
            words.append(f"{rng.choice(WORDS)}.{rng.choice(WORDS)}"
                         f"@example{i % 13}.org")
        if i % 11 == 0:
            words.append(f"https://www.example.com/{rng.choice(WORDS)}/"
                         f"{i}?q={rng.choice(WORDS)}")
        words.append(str(rng.randrange(100000)))
        out.append(" ".join(words).capitalize() + rng.choice(".!?"))
    return "  ".join(out)


DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)")
EMAIL = re.compile(r"(?P<user>[\w.]+)@(?P<host>[\w-]+(?:\.[\w-]+)+)")
URL = re.compile(r"https?://(?P<host>[^/\s]+)(?P<path>/[^\s?]*)?"
                 r"(?:\?(?P<query>\S+))?")
WORD = re.compile(r"[A-Za-z]+")
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def main():
    text = make_text(random.Random(7), 12000 if SMALL else 60000)
    crc = 0
    counts = collections.Counter(w.lower() for w in WORD.findall(text))
    crc = zlib.crc32(repr(sorted(counts.items())).encode(), crc)
    hosts = collections.Counter(m.group("host") for m in EMAIL.finditer(text))
    paths = [m.groupdict() for m in URL.finditer(text)]
    crc = zlib.crc32(repr((sorted(hosts.items()), paths[:50])).encode(), crc)
    swapped = DATE.sub(lambda m: f"{m['d']}/{m['m']}/{m['y']}", text)
    sentences = SENTENCE.split(swapped)
    normal = [re.sub(r"\s+", " ", s).strip().lower() for s in sentences]
    long_ones = [s for s in normal if len(WORD.findall(s)) > 12]
    crc = zlib.crc32("\n".join(long_ones).encode(), crc)
    print(f"regex_text {len(sentences)} {len(long_ones)} {crc:08x}")


main()
