# SPDX-License-Identifier: MIT
"""json round trips of a large document (4-9 MB of JSON text).

Builds a deterministic document of nested records (dicts, lists, strings,
ints, floats, booleans, None), then dumps and loads it several times, with
and without indentation.  Prints a checksum so that the driver can verify
that every interpreter computed the same thing.  With --small: 3000
records, two round trips (for cgcompare.py, under Valgrind).
"""
import json
import random
import sys
import zlib

SMALL = "--small" in sys.argv[1:]
ROUNDS = 2 if SMALL else 4


def make_doc(rng, nrecords):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
             "theta", "iota", "kappa", "lambda", "mu", "nu", "xi"]
    doc = []
    for i in range(nrecords):
        doc.append({
            "id": i,
            "name": "-".join(rng.choice(words) for _ in range(3)),
            "active": rng.random() < 0.5,
            "score": round(rng.uniform(-1000, 1000), 6),
            "tags": [rng.choice(words) for _ in range(rng.randrange(8))],
            "matrix": [[rng.randrange(1000) for _ in range(4)]
                       for _ in range(3)],
            "parent": None if i % 7 else i // 7,
            "meta": {"created": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                     "note": "\u00e9t\u00e9 \u2603 " * (i % 4)},
        })
    return {"version": 3, "records": doc}


def main():
    doc = make_doc(random.Random(42), 3000 if SMALL else 15000)
    crc = 0
    for r in range(ROUNDS):
        text = json.dumps(doc, indent=2 if r % 2 else None,
                          sort_keys=bool(r % 2))
        crc = zlib.crc32(text.encode(), crc)
        doc = json.loads(text)
    assert doc["records"][123]["id"] == 123
    print(f"json_roundtrip {crc:08x} {len(text)}")


main()
