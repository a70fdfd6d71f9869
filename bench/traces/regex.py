# SPDX-License-Identifier: MIT
"""Trace workload "regex": regex-heavy processing of synthetic text.

Generates 15000 sentences of words with dates, e-mail addresses and URLs,
then tokenizes with findall, extracts with named groups, rewrites dates
with a callback, splits sentences and normalises them.  Prints a checksum.
"""
import collections
import random
import re
import zlib

WORDS = ("the quick brown fox jumps over lazy dog memory pool arena block "
         "object reference cycle collector generation heap size").split()
WORD = re.compile(r"[A-Za-z]+")
EMAIL = re.compile(r"(?P<user>[\w.]+)@(?P<host>[\w.]+\.org)")
URL = re.compile(r"https?://(?P<host>[\w.]+)(?P<path>/[\w/]*)?")
DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})")
SENTENCE = re.compile(r"(?<=[.!?])\s+")

rng = random.Random(7)
out = []
for i in range(15000):
    words = [rng.choice(WORDS) for _ in range(rng.randrange(5, 18))]
    if i % 5 == 0:
        words.append(f"{rng.randrange(1990, 2030)}-{rng.randrange(1, 13):02d}"
                     f"-{rng.randrange(1, 29):02d}")
    if i % 7 == 0:
        words.append(f"{rng.choice(WORDS)}.{rng.choice(WORDS)}"
                     f"@example{i % 13}.org")
    if i % 11 == 0:
        words.append(f"https://www.{rng.choice(WORDS)}.org/"
                     f"{rng.choice(WORDS)}/{i}")
    out.append(" ".join(words).capitalize() + rng.choice(".!?"))
text = "  ".join(out)
counts = collections.Counter(w.lower() for w in WORD.findall(text))
hosts = collections.Counter(m.group("host") for m in EMAIL.finditer(text))
paths = [m.groupdict() for m in URL.finditer(text)]
swapped = DATE.sub(lambda m: f"{m['d']}/{m['m']}/{m['y']}", text)
normal = [re.sub(r"\s+", " ", s).strip().lower()
          for s in SENTENCE.split(swapped)]
long_ones = [s for s in normal if len(WORD.findall(s)) > 12]
crc = zlib.crc32(repr((sorted(counts.items()), sorted(hosts.items()),
                       paths[:50])).encode())
crc = zlib.crc32("\n".join(long_ones).encode(), crc)
print("regex", len(normal), len(long_ones), f"{crc:08x}")
