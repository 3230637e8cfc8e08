#!/usr/bin/env python3
"""Drive the Python backup readers on one benchmark operation (run inside the bench venv).

usage: pytools.py TOOL OP BACKUP [--password PW] [--key HEX] [--out DIR]
  TOOL: ibd (iphone_backup_decrypt) | iosbackup (iOSbackup)
  OP:   open    unlock with the password (real key derivation), as each tool opens a backup
        list    list every index row (derived key given, so no derivation)
        decode  list and decode every file record (MBFile plist)
        export  export every file to OUT as OUT/<domain>/<relativePath>
Prints one line: what was done and a count, so a run that did nothing is visible.
"""
import argparse
import os
import sys


def ibd(op, backup, pw, key, out):
    from iphone_backup_decrypt import EncryptedBackup

    if op == "open":
        b = EncryptedBackup(backup_directory=backup, passphrase=pw)
        b.test_decryption()  # derive, unwrap the class keys, decrypt and open Manifest.db
        return "opened", 1
    b = EncryptedBackup(backup_directory=backup, passphrase_key=bytes.fromhex(key))
    if op == "list":
        with b.manifest_db_cursor() as cur:
            cur.execute("SELECT fileID, domain, relativePath, flags FROM Files")
            return "rows", len(cur.fetchall())
    if op == "decode":
        n = 0
        # The generator behind get_folders/get_symlinks, for every flag value: decodes each
        # row's MBFile plist (utils.FilePlist).
        for _ in b._get_manifest_rows_generator():
            n += 1
        return "decoded rows", n
    if op == "export":
        n = b.extract_files(
            relative_paths_like="%",
            domain_like="%",
            output_folder=out,
            preserve_folders=True,
            domain_subfolders=True,
        )
        return "exported files", n
    raise SystemExit(f"unknown op {op}")


def iosbackup(op, backup, pw, key, out):
    from iOSbackup import iOSbackup as IB

    root, udid = os.path.split(os.path.abspath(backup))
    if op == "open":
        IB(udid=udid, cleartextpassword=pw, backuproot=root)
        return "opened", 1
    b = IB(udid=udid, derivedkey=key, backuproot=root)
    if op == "list":
        return "rows", len(b.getBackupFilesList())
    if op == "decode":
        n = 0
        for f in b.getBackupFilesList():
            IB.getFileInfo(f["file"])
            n += 1
        return "decoded rows", n
    if op == "export":
        files = b.getFolderDecryptedCopy(targetFolder=out, includeDomains=b.getDomains())
        return "exported rows", len(files)
    raise SystemExit(f"unknown op {op}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["ibd", "iosbackup"])
    ap.add_argument("op", choices=["open", "list", "decode", "export"])
    ap.add_argument("backup")
    ap.add_argument("--password")
    ap.add_argument("--key")
    ap.add_argument("--out")
    a = ap.parse_args()
    fn = ibd if a.tool == "ibd" else iosbackup
    what, n = fn(a.op, a.backup, a.password, a.key, a.out)
    print(f"{a.tool} {a.op}: {what} {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
