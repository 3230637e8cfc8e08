#!/usr/bin/env python3
"""Independent check of a backup patched by `auditor patch` (does not use the auditor crate).

Usage: check_patch.py SPEC.json

SPEC: {"source": DIR, "patched": DIR, "password": STR or null,
       "sets": [{"domain", "path", "key_path", "value"}],
       "replaces": [{"domain", "path", "sha256"}],
       "deletes": [{"domain", "path"}]}

Both backups are read with public readers in a throw-away venv (fixtures/specs/README.md):
iphone_backup_decrypt (encrypted backups only) and iOSbackup (both), every regular file of
each. It checks that every value set is there (and nothing else of its document changed,
binary plists stay binary), every replaced file has the expected SHA-256, every deleted file
is gone (row and payload), every other file is byte-identical, the MBFile Size of each
changed file is its plaintext length, and the source tree is unchanged by the reading.
Prints a JSON summary; exits 1 on any mismatch, 2 on bad usage.
"""
import hashlib
import json
import os
import plistlib
import sqlite3
import sys
import tempfile


def tree_hash(root):
    h = hashlib.sha256()
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def mbfile(blob):
    """The MBFile dictionary of an NSKeyedArchiver blob (plistlib, UIDs resolved by hand)."""
    a = plistlib.loads(blob)
    objs = a["$objects"]
    root = a["$top"]["root"]
    f = objs[root.data if isinstance(root, plistlib.UID) else 1]
    out = {}
    for k, v in f.items():
        while isinstance(v, plistlib.UID):
            v = objs[v.data]
        if isinstance(v, dict) and "NS.data" in v:
            v = v["NS.data"]
            while isinstance(v, plistlib.UID):
                v = objs[v.data]
        out[k] = v
    return out


def rows_of(db_path):
    con = sqlite3.connect("file:" + db_path + "?mode=ro", uri=True)
    rows = con.execute("SELECT fileID, domain, relativePath, flags, file FROM Files").fetchall()
    con.close()
    return rows


def payload_path(backup, file_id):
    p = os.path.join(backup, file_id[:2], file_id)
    return p if os.path.exists(p) else os.path.join(backup, file_id)


def read_ibd(backup, password):
    """iphone_backup_decrypt: {(domain, path): bytes} of every regular file, and rows."""
    from iphone_backup_decrypt import EncryptedBackup

    b = EncryptedBackup(backup_directory=backup, passphrase=password)
    with tempfile.TemporaryDirectory() as t:
        db = os.path.join(t, "Manifest.db")
        b.save_manifest_file(db)
        rows = rows_of(db)
    out = {}
    for file_id, domain, path, flags, blob in rows:
        if flags != 1:
            continue
        f = mbfile(blob)
        if "EncryptionKey" not in f:  # empty file: the reader refuses it by design
            with open(payload_path(backup, file_id), "rb") as fh:
                out[(domain, path)] = fh.read()
            continue
        if not os.path.exists(payload_path(backup, file_id)):
            continue
        out[(domain, path)] = b._decrypt_inner_file(file_id=file_id, file_bplist=blob)
    return out, {(r[1], r[2]): r for r in rows}


def read_iosbackup(backup, password):
    """iOSbackup: {(domain, path): bytes} of every regular file, and rows."""
    from iOSbackup import iOSbackup

    root, udid = os.path.split(os.path.abspath(backup))
    b = iOSbackup(udid=udid, backuproot=root, cleartextpassword=password)
    out = {}
    rows = {}
    for f in b.getBackupFilesList():
        rows[(f["domain"], f["relativePath"])] = (
            f["fileID"], f["domain"], f["relativePath"], f["flags"], f["file"])
        if f["flags"] != 1:
            continue
        if not os.path.exists(payload_path(backup, f["fileID"])):
            continue
        _info, data = b.getFileDecryptedData(f["fileID"], f["file"])
        if data is None:  # no EncryptionKey: plaintext (unencrypted backup, or empty)
            with open(payload_path(backup, f["fileID"]), "rb") as fh:
                data = fh.read()
        out[(f["domain"], f["relativePath"])] = data
    if password is not None and b.manifestDB and os.path.exists(b.manifestDB):
        os.remove(b.manifestDB)  # its decrypted temporary copy
    return out, rows


def parse_doc(data):
    if data.lstrip().startswith((b"{", b"[")):
        return "json", json.loads(data)
    fmt = "binary_plist" if data.startswith(b"bplist00") else "xml_plist"
    return fmt, plistlib.loads(data)


def pointer_set(doc, key_path, value):
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in key_path.split("/")[1:]]
    for t in tokens[:-1]:
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    last = tokens[-1]
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def check(spec):
    src, dst, pw = spec["source"], spec["patched"], spec.get("password")
    before = tree_hash(src)
    problems = []
    readers = [("iOSbackup", read_iosbackup)]
    if pw is not None:
        readers.insert(0, ("iphone_backup_decrypt", read_ibd))
    sets = {}
    for s in spec.get("sets", []):
        sets.setdefault((s["domain"], s["path"]), []).append(s)
    replaces = {(r["domain"], r["path"]): r["sha256"] for r in spec.get("replaces", [])}
    deletes = {(d["domain"], d["path"]) for d in spec.get("deletes", [])}
    summary = {"readers": {}}
    for name, read in readers:
        a, arows = read(src, pw)
        b, brows = read(dst, pw)
        identical = 0
        for key, data in a.items():
            label = f"{name}: {key[0]}:{key[1]}"
            if key in deletes:
                if key in brows:
                    problems.append(f"{label}: deleted but its row is still there")
                if os.path.exists(payload_path(dst, arows[key][0])):
                    problems.append(f"{label}: deleted but its payload is still there")
                continue
            if key not in b:
                problems.append(f"{label}: missing from the patched copy")
                continue
            new = b[key]
            if key in sets:
                fmt_a, doc = parse_doc(data)
                fmt_b, got = parse_doc(new)
                for s in sets[key]:
                    pointer_set(doc, s["key_path"], s["value"])
                if fmt_a != fmt_b:
                    problems.append(f"{label}: format changed from {fmt_a} to {fmt_b}")
                if doc != got:
                    problems.append(f"{label}: the patched document is not the source with the value set")
            elif key in replaces:
                if hashlib.sha256(new).hexdigest() != replaces[key]:
                    problems.append(f"{label}: replaced content has the wrong SHA-256")
            elif new != data:
                problems.append(f"{label}: changed but was not patched")
                continue
            else:
                identical += 1
                continue
            size = mbfile(brows[key][4]).get("Size")
            if size != len(new):
                problems.append(f"{label}: MBFile Size {size}, content {len(new)} bytes")
        extra = set(brows) - set(arows)
        if extra:
            problems.append(f"{name}: rows only in the patched copy: {sorted(extra)[:5]}")
        missing_rows = set(arows) - set(brows) - deletes
        if missing_rows:
            problems.append(f"{name}: rows lost: {sorted(missing_rows)[:5]}")
        summary["readers"][name] = {
            "files_source": len(a), "files_patched": len(b), "identical": identical,
            "rows_source": len(arows), "rows_patched": len(brows)}
    if tree_hash(src) != before:
        problems.append("the source tree changed while it was read")
    summary["problems"] = problems
    summary["ok"] = not problems
    return summary


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    s = check(spec)
    print(json.dumps(s, indent=1))
    return 0 if s["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
