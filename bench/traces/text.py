# SPDX-License-Identifier: MIT
"""Trace workload "text": text processing without regular expressions.

Generates paragraphs of words, then wraps them with textwrap, writes and
reads them as CSV, diffs two edited versions with difflib, fills a
string.Template report and counts words with str methods.  Prints a
checksum.
"""
import csv
import difflib
import io
import random
import string
import textwrap
import zlib

rng = random.Random(11)
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua").split()
paras = [" ".join(rng.choice(WORDS) for _ in range(rng.randrange(20, 120)))
         for _ in range(1500)]
wrapped = [textwrap.fill(p, width=rng.choice((40, 60, 72))) for p in paras]
buf = io.StringIO()
w = csv.writer(buf)
for i, p in enumerate(paras):
    w.writerow([i, p[:30], len(p.split()), p.upper()[:60]])
rows = list(csv.reader(io.StringIO(buf.getvalue())))
a = "\n".join(wrapped).splitlines()
b = [line.replace("dolor", "color") if i % 9 == 0 else line
     for i, line in enumerate(a)]
diff = list(difflib.unified_diff(a, b, lineterm=""))
tmpl = string.Template("$n: $first ... ($count words)")
report = [tmpl.substitute(n=r[0], first=r[1].title(), count=r[2])
          for r in rows]
counts = {}
for p in paras:
    for word in p.split():
        counts[word] = counts.get(word, 0) + 1
crc = zlib.crc32("\n".join(report + diff).encode())
crc = zlib.crc32(repr(sorted(counts.items())).encode(), crc)
print("text", len(rows), len(diff), f"{crc:08x}")
