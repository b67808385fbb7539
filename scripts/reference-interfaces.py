#!/usr/bin/env python3
"""reference-interfaces.py - list every interface row of the reference's README tables.

Writes tests/data/reference-interfaces.tsv (to stdout): section, path or service_name,
direction, as spec/README.md's "Every interface" tables give them. The unit test
tests/unit/test_services_table.c checks that lib/services.def has a row for each line.
Usage: scripts/reference-interfaces.py [README.md] > tests/data/reference-interfaces.tsv
"""
import re
import sys

DEFAULT_README = "/work/shared/spec/README.md"

# Sections that are protocol rules, not interfaces: chapter 1 and 8.1 (8.1 restates 1.1).
NOT_INTERFACES = re.compile(r"^(—|1\.\d+|8\.1)$")


def cells(line):
    """Cells of a markdown table row, stripped; a '|' escaped as '\\|' is not a separator."""
    parts = re.split(r"(?<!\\)\|", line.strip())
    return [c.strip() for c in parts[1:-1]]


def address(cell):
    """The path or service_name of a cell. A cell naming an SDK twin gives that name
    (11.1, 11.3); otherwise the cell's text without backticks."""
    if "SDK twin" in cell:
        m = re.search(r"`([^`]+)`", cell)
        if m:
            return m.group(1)
    return cell.replace("`", "")


def sdk_row(cols):
    """SDK transport rows have no section number: name them, and reduce the address to the
    port (TCP) or the path of the URL (HTTP mode)."""
    transport, direction, addr = cols[0], cols[1], cols[2].replace("`", "")
    if "TCP" in transport:
        section = "SDK-tcp"
        path = re.search(r"port (\d+)", addr).group(1)
    elif "uplink" in transport:
        section = "SDK-upload"
        path = re.sub(r"^\w+://[^/]+", "", addr)
    elif "downlink" in transport:
        section = "SDK-download"
        path = re.sub(r"^\w+://[^/]+", "", addr)
    else:
        raise SystemExit(f"unknown SDK transport row: {transport}")
    return section, path, direction


def rows(text):
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cols = cells(line)
        if header is None:
            header = cols
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cols):
            continue
        if header[0] == "Transport":
            yield sdk_row(cols)
            continue
        if header[0] != "§" or "Dir" not in header:
            continue
        section = cols[0]
        if NOT_INTERFACES.match(section):
            continue
        where = next(i for i, h in enumerate(header) if "service_name" in h or h == "Path")
        yield section, address(cols[where]), cols[header.index("Dir")]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_README
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for r in rows(text):
        print("\t".join(r))


if __name__ == "__main__":
    main()
