#!/usr/bin/env python3
"""check-layers.py - server/'s folders include only downward (docs/server.md, "Architecture").

Reads every #include "..." in server/ (paths are relative to server/, the include directory)
and fails, naming each offending line, when a file includes a header of a higher layer or of
a folder the order does not know. With a total order and no upward include there can be no
circle between folders; a circle is also reported on its own, so a changed order cannot hide
one. Usage: check-layers.py [SERVER_DIR]; exit 0 clean, 1 on a violation. Run by ctest."""
import os
import re
import sys

# Lowest first. "core" is server/'s root (config, log, metrics, wallclock); "top" are the two
# files that wire every part together: main.c (start-up order) and http.c (the path table).
LAYERS = ["core", "store", "db", "admission", "outbox", "admin", "http", "channels", "qr",
          "api", "top"]
TOP_FILES = {"main.c", "http.c", "http.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    """The layer of a path relative to server/, or None for one outside server/."""
    parts = rel.split("/")
    if len(parts) == 1:
        return "top" if parts[0] in TOP_FILES else "core"
    return parts[0]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "server")
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems, edges = [], {}
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            src = layer_of(rel)
            if src not in rank:
                problems.append(f"{rel}: folder '{src}' has no place in LAYERS (add it)")
                continue
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if inc.startswith("parklink/"):
                        continue  # libparklink: below every server layer
                    if not os.path.exists(os.path.join(root, inc)):
                        if os.path.exists(os.path.join(dirpath, inc)):
                            problems.append(f"{rel}:{n}: include \"{inc}\" relative to the "
                                            "file; write it from server/")
                        continue  # a generated or third-party header
                    dst = layer_of(inc)
                    if dst not in rank:
                        problems.append(f"{rel}:{n}: \"{inc}\" is in folder '{dst}', which has "
                                        "no place in LAYERS")
                        continue
                    if dst != src:
                        edges.setdefault(src, set()).add(dst)
                    if rank[dst] > rank[src]:
                        problems.append(f"{rel}:{n}: {src} includes \"{inc}\" of {dst}, a "
                                        "higher layer")
    # a circle between folders, found on the folder graph itself
    state = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                problems.append("circle between folders: " + " -> ".join(cyc))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s); the order is {' < '.join(LAYERS)}")
        return 1
    print("check-layers: ok (" + " < ".join(LAYERS) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
