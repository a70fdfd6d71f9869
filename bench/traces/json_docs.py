# SPDX-License-Identifier: MIT
"""Trace workload "json": dumps and loads of a nested document.

Builds 4000 records (dicts, lists, strings, numbers, None), then two
round trips through json text, indented and compact.  Prints a checksum.
"""
import json
import random
import zlib

rng = random.Random(42)
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
         "theta", "iota", "kappa"]
doc = [{"id": i,
        "name": "-".join(rng.choice(words) for _ in range(3)),
        "score": round(rng.uniform(-1000, 1000), 6),
        "tags": [rng.choice(words) for _ in range(rng.randrange(8))],
        "matrix": [[rng.randrange(1000) for _ in range(4)] for _ in range(3)],
        "parent": None if i % 7 else i // 7,
        "meta": {"created": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                 "note": "\u00e9t\u00e9 " * (i % 4)}}
       for i in range(4000)]
crc = 0
for r in range(2):
    text = json.dumps({"records": doc}, indent=2 if r else None,
                      sort_keys=bool(r))
    crc = zlib.crc32(text.encode(), crc)
    doc = json.loads(text)["records"]
print("json", len(doc), f"{crc:08x}")
