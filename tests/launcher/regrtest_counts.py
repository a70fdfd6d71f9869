# SPDX-License-Identifier: MIT
"""regrtest_counts.py - compare two regrtest --junit-xml reports.

Usage: python3 tests/launcher/regrtest_counts.py STOCK.xml STOCK_STATUS \
           LAUNCHER.xml LAUNCHER_STATUS [LABEL]

Prints, per test module, the test cases run, passed, failed (failures and
errors) and skipped under the stock interpreter and under the launcher
(LABEL, default rcgc-python), then
the totals and regrtest's exit statuses.  Exits 0 when every count and the
statuses are equal, 1 otherwise (and names the test cases that differ).
A test case is keyed by its full name (test.test_dict.DictTest.test_bool).
"""
import collections
import sys
import xml.etree.ElementTree as ET


def outcomes(path):
    """{case name: 'pass' | 'fail' | 'skip'} from a junit report."""
    result = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            outcome = "fail"
        elif "skipped" in tags or case.get("result") == "skipped":
            outcome = "skip"
        else:
            outcome = "pass"
        result[case.get("name")] = outcome
    return result


def module_of(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "test" else parts[0]


def tally(cases):
    per = collections.defaultdict(collections.Counter)
    for name, outcome in cases.items():
        per[module_of(name)][outcome] += 1
    return per


def row(label, c):
    run = c["pass"] + c["fail"] + c["skip"]
    return f"{label:<22} {run:>6} {c['pass']:>6} {c['fail']:>6} {c['skip']:>6}"


def main():
    stock_xml, stock_status, rc_xml, rc_status = sys.argv[1:5]
    label = sys.argv[5] if len(sys.argv) > 5 else "rcgc-python"
    stock, ours = outcomes(stock_xml), outcomes(rc_xml)
    per_stock, per_ours = tally(stock), tally(ours)
    header = f"{'module':<22} {'run':>6} {'pass':>6} {'fail':>6} {'skip':>6}"
    print(f"{'':<22} stock python3.11 | {label} (objalloc)")
    print(header + " | " + header[23:])
    total_s, total_o = collections.Counter(), collections.Counter()
    for mod in sorted(set(per_stock) | set(per_ours)):
        s, o = per_stock[mod], per_ours[mod]
        total_s.update(s)
        total_o.update(o)
        mark = "" if s == o else "   <-- differs"
        print(row(mod, s) + " | " + row("", o)[23:] + mark)
    print(row("TOTAL", total_s) + " | " + row("", total_o)[23:])
    print(f"regrtest exit status: stock {stock_status}, "
          f"{label} {rc_status}")
    differ = sorted(n for n in set(stock) | set(ours)
                    if stock.get(n) != ours.get(n))
    for name in differ[:50]:
        print(f"  differs: {name}: stock {stock.get(name, 'absent')}, "
              f"{label} {ours.get(name, 'absent')}")
    same = not differ and stock_status == rc_status and total_s == total_o
    print("python-check: counts " + ("MATCH" if same else "DIFFER"))
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
