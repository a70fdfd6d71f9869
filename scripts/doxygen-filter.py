#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER for rcgc's public headers (scripts/docs.sh).

The headers are written with plain C comments, each above (or after) what
it documents, in the style of the rest of the code.  This filter shows
them to Doxygen as documentation, on the fly, without touching the files:

  the first comment of the file         -> /** @file ... (the file's page)
  a comment after code on its line      -> /**< (documents that member)
  any other comment                     -> /** (documents what follows)
  SPDX lines, section banners
  (/* ---- heaps ---- */), comments
  inside function bodies                -> left as they are

Usage (Doxygen runs it): doxygen-filter.py FILE, the result on stdout.
"""

import re
import sys

BANNER = re.compile(r"^\s*/\*\s*-{2,}")
OPEN = re.compile(r"/\*(?![*!])")


def convert(lines):
    out = []
    seen_file_comment = False
    stack = []             # open braces: True for a function body
    in_cplusplus = False   # inside #ifdef __cplusplus (extern "C" braces)
    in_comment = False
    prev_code = ""         # the last line of code seen (for "f(...)\n{")
    for line in lines:
        code = line
        if not in_comment and "/*" in line:
            start = line.index("/*")
            before = line[:start]
            text = line[start:]
            plain = OPEN.match(text) is not None
            if plain and "SPDX-License-Identifier" not in text \
                    and not BANNER.match(line) and True not in stack:
                if not seen_file_comment and not before.strip():
                    code = before + "/** @file\n" + before + " *" + text[2:]
                elif before.strip():
                    code = before + "/**<" + text[2:]
                else:
                    code = before + "/**" + text[2:]
            if not before.strip() and "SPDX-License-Identifier" not in text:
                seen_file_comment = True
            in_comment = "*/" not in text[2:]
        elif in_comment:
            in_comment = "*/" not in line
            out.append(code)
            continue
        bare = re.sub(r"/\*.*?(\*/|$)", "", line)
        bare = re.sub(r'"(\\.|[^"\\])*"', '""', bare).strip()
        if bare.startswith("#ifdef __cplusplus"):
            in_cplusplus = True
        elif bare.startswith("#endif") and in_cplusplus:
            in_cplusplus = False
        elif not in_cplusplus and not bare.startswith("#"):
            for i, ch in enumerate(bare):
                if ch == "{":
                    head = (bare[:i].strip() or prev_code).rstrip()
                    stack.append(head.endswith(")"))
                elif ch == "}" and stack:
                    stack.pop()
            if bare:
                prev_code = bare
        out.append(code)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.readlines()
    sys.stdout.write("".join(convert(lines)))


if __name__ == "__main__":
    main()
