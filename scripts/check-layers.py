#!/usr/bin/env python3
"""Fails when a source file includes a folder its layer may not use.

The allowed uses are read from ARCHITECTURE.md's layer table (the "may use"
column: folder names, or a header path such as store/sqlite/db.h), so the
document and the check cannot disagree. Unit tests (*_test.cpp) may include
any layer and testing/; apps/ may include cli/ only.
Usage: scripts/check-layers.py [REPO_ROOT]"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
src = os.path.join(root, "src", "roundhouse")
with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
    doc = f.read()

allowed = {}
for m in re.finditer(r"^\| ([a-z_]+)/ \|[^|]*\| ([^|]*) \|$", doc, re.M):
    uses = [u.strip() for u in m.group(2).split(",") if u.strip() not in ("", "—")]
    allowed[m.group(1)] = uses
if not allowed:
    sys.exit("check-layers: no layer table found in ARCHITECTURE.md")

include = re.compile(r'^\s*#\s*include\s+"roundhouse/([^"]+)"', re.M)
problems = []
folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
for layer in folders:
    if layer not in allowed:
        problems.append(f"src/roundhouse/{layer}/ has no row in ARCHITECTURE.md's layer table")
        continue
for dirpath, _, files in os.walk(src):
    for name in files:
        if not name.endswith((".cpp", ".h")):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, src)
        layer = rel.split(os.sep)[0]
        if layer not in allowed:
            continue
        is_test = name.endswith("_test.cpp")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for target in include.findall(text):
            to = target.split("/")[0]
            if "/" not in target or to == layer or is_test:
                continue
            if to == "testing":
                problems.append(f"src/roundhouse/{rel}: includes roundhouse/{target}; testing/ is for unit tests only")
            elif to not in allowed[layer] and target not in allowed[layer]:
                problems.append(f"src/roundhouse/{rel}: includes roundhouse/{target}, "
                                f"but {layer}/ may use only {', '.join(allowed[layer]) or 'nothing of ours'}")
apps = os.path.join(root, "apps")
for name in sorted(os.listdir(apps)) if os.path.isdir(apps) else []:
    with open(os.path.join(apps, name), encoding="utf-8") as f:
        for target in include.findall(f.read()):
            if not target.startswith("cli/"):
                problems.append(f"apps/{name}: includes roundhouse/{target}; apps/ may use cli/ only")
for p in problems:
    print("check-layers:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-layers: {len(allowed)} layers, every include allowed")
