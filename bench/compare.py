#!/usr/bin/env python3
"""Check that exported trees hold the same files with the same SHA-256.

usage: compare.py REFERENCE OTHER [OTHER...] [--deep-json SCAN.json]
REFERENCE and each OTHER are export folders laid out as <domain>/<relativePath>.
With --deep-json, the per-file sha256 of `auditor scan --deep --format json` must match too.
Exits 1 on any difference.
"""
import argparse
import hashlib
import json
import os
import sys


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p):
                continue
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.relpath(p, root)] = h.hexdigest()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("others", nargs="+")
    ap.add_argument("--deep-json")
    a = ap.parse_args()
    ref = tree(a.reference)
    bad = 0
    if a.deep_json:
        with open(a.deep_json) as f:
            scan = json.load(f)
        deep = {
            os.path.join(x["domain"], x["relative_path"]): x["sha256"]
            for x in scan["files"]
            if x["kind"] == "file" and x.get("sha256")
        }
        # Every hash of the scan must be that of the exported file (a file the export does
        # not hold differs); the export's own files (its manifest) have no row to match.
        diff = [k for k in deep if ref.get(k) != deep[k]]
        unhashed = len(set(ref) - set(deep))
        print(f"scan --deep: {len(deep)} sha256, {len(diff)} differ from {a.reference} "
              f"({unhashed} exported files the scan has no hash for, such as the export's manifest)")
        bad += len(diff)
    for o in a.others:
        t = tree(o)
        missing = sorted(set(ref) - set(t))
        extra = sorted(set(t) - set(ref))
        differ = sorted(k for k in set(ref) & set(t) if ref[k] != t[k])
        print(
            f"{o}: {len(t)} files; vs {a.reference} ({len(ref)} files): "
            f"{len(missing)} missing, {len(extra)} extra, {len(differ)} differ"
        )
        for k in (missing + extra + differ)[:10]:
            print(f"  {k}")
        bad += len(missing) + len(extra) + len(differ)
    print("ALL SHA-256 EQUAL" if bad == 0 else f"DIFFERENCES: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
