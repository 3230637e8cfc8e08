//! Mutation corpus: fixture backups damaged in many ways (truncation, bit flips, deleted and
//! replaced files, plist values of the wrong type, zeroed keybag lengths, Manifest.db swapped
//! for garbage or for SQLite of another schema, hostile index rows, hostile file types), each
//! run through every subcommand. Every run must: not panic or die by a signal or hang, exit
//! with a documented code (0–4), name a file of the backup when it exits 4, and leave the
//! backup tree byte-identical.
//!
//! The default run takes every third case of each fixture; `--ignored mutation_full` runs all
//! of them. Both print how many cases and runs they made.

mod common;
mod harden;
use common::{deep_xml_plist, expanding_bplist};

use harden::{copy_tree, digest_diff, run_auditor, tree_digest, Run};
use plist::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A hung subcommand is a failure, not a wait.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A mutation applied to a copy of the backup folder.
type Apply = Box<dyn Fn(&Path) + Send + Sync>;
/// An edit of an MBFile root dictionary.
type DictEdit = Box<dyn Fn(&mut plist::Dictionary)>;

/// One named mutation.
struct Case {
    name: String,
    apply: Apply,
}

/// A case named `name` applying `f`.
fn case(name: impl Into<String>, f: impl Fn(&Path) + Send + Sync + 'static) -> Case {
    Case {
        name: name.into(),
        apply: Box::new(f),
    }
}

/// A fixture written once, and what the mutations need to know about it.
struct Base {
    dir: tempfile::TempDir,
    root: PathBuf,
    encrypted: bool,
    password_file: PathBuf,
    manifest_key: Option<auditor::crypto::Key32>,
    keychain_rel: PathBuf,
}

/// Write fixture `spec` once, with its password file.
fn base(spec: &str) -> Base {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = harden::spec_json(spec, Some(6000));
    let (root, summary) = harden::write_fixture(&spec, &dir.path().join("base"));
    let password_file = dir.path().join("password.txt");
    std::fs::write(
        &password_file,
        spec["password"].as_str().unwrap_or("unused"),
    )
    .expect("password file");
    let id = auditor::fixture::file_id("KeychainDomain", "keychain-backup.plist");
    Base {
        root,
        encrypted: summary.encrypted,
        password_file,
        manifest_key: summary.keys.manifest_key.clone(),
        keychain_rel: PathBuf::from(&id[..2]).join(&id),
        dir,
    }
}

/// A copy of a backup of ../shared/external (at test time only; never committed).
fn base_external(rel: &str, password: &str) -> Option<Base> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/external")
        .join(rel);
    if !src.exists() {
        eprintln!("skipped: {} not found", src.display());
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("base").join(src.file_name().unwrap());
    copy_tree(&src, &root);
    harden::make_writable(&root);
    let password_file = dir.path().join("password.txt");
    std::fs::write(&password_file, password).expect("password file");
    Some(Base {
        root,
        encrypted: true,
        password_file,
        manifest_key: None,
        keychain_rel: PathBuf::from("no-keychain-payload"),
        dir,
    })
}

// ------------------------------------------------------------------------------------------
// Mutation helpers

/// A xorshift64* generator seeded with `seed`.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Read `path`, apply `f` to its bytes, write it back.
fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(path).expect("read for mutation");
    f(&mut b);
    std::fs::write(path, b).expect("write mutation");
}

/// Remove a file, link or folder at `p`, if any.
fn remove_any(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).expect("rm dir"),
        Ok(_) => std::fs::remove_file(p).expect("rm"),
        Err(_) => {}
    }
}

/// Replace `p` with a symbolic link to `target` (unix).
fn replace_with_symlink(p: &Path, target: &str) {
    remove_any(p);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, p).expect("symlink");
}

/// Replace `p` with a FIFO (an empty file without mkfifo).
fn replace_with_fifo(p: &Path) {
    remove_any(p);
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        // No mkfifo: an empty file stands in (the case still runs).
        std::fs::write(p, b"").expect("write");
    }
}

/// Payload files of the backup, hashed or flat, sorted.
fn payload_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).expect("read_dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() && name.len() == 2 {
            for f in std::fs::read_dir(&p).expect("read_dir") {
                out.push(f.expect("entry").path());
            }
        } else if p.is_file() && name.len() == 40 && name.bytes().all(|c| c.is_ascii_hexdigit()) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Read a plist file.
fn read_plist(p: &Path) -> Value {
    Value::from_file(p).expect("plist")
}

/// Write a binary plist file.
fn write_plist(p: &Path, v: &Value) {
    v.to_file_binary(p).expect("write plist");
}

/// A value of another type than `v` (string ↔ integer, data → string, …).
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) => Value::Integer(7.into()),
        Value::Integer(_) => Value::Data(vec![0xDE, 0xAD]),
        Value::Data(_) => Value::String("not data".into()),
        Value::Boolean(_) => Value::String("YES".into()),
        Value::Dictionary(_) => Value::Array(vec![Value::Boolean(true)]),
        Value::Array(_) => Value::Dictionary(Default::default()),
        Value::Date(_) => Value::Boolean(false),
        _ => Value::String("?".into()),
    }
}

/// Rewrite the keybag TLV inside Manifest.plist.
fn edit_keybag(root: &Path, f: impl Fn(&mut Vec<u8>)) {
    let p = root.join("Manifest.plist");
    let mut v = read_plist(&p);
    let d = v.as_dictionary_mut().expect("dict");
    let mut kb = d
        .get("BackupKeyBag")
        .and_then(Value::as_data)
        .expect("keybag")
        .to_vec();
    f(&mut kb);
    d.insert("BackupKeyBag".into(), Value::Data(kb));
    write_plist(&p, &v);
}

/// Offsets of the length fields of the keybag TLV records.
fn tlv_length_offsets(kb: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= kb.len() {
        out.push(at + 4);
        let len = u32::from_be_bytes(kb[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    out
}

/// Run `sql` on the index (decrypting and re-encrypting it when the backup is encrypted).
fn edit_index(root: &Path, key: Option<&auditor::crypto::Key32>, sql: &str) {
    edit_index_with(root, key, sql, |_| {});
}

/// [`edit_index`], then `with` on the open (plain) index.
fn edit_index_with(
    root: &Path,
    key: Option<&auditor::crypto::Key32>,
    sql: &str,
    with: impl FnOnce(&rusqlite::Connection),
) {
    let p = root.join("Manifest.db");
    let tmp = tempfile::tempdir().expect("tempdir");
    let plain = tmp.path().join("plain.db");
    let bytes = std::fs::read(&p).expect("read index");
    match key {
        Some(k) => std::fs::write(
            &plain,
            auditor::crypto::cbc::decrypt(k, &bytes).expect("decrypt index"),
        )
        .expect("write"),
        None => std::fs::write(&plain, &bytes).expect("write"),
    }
    let conn = rusqlite::Connection::open(&plain).expect("open");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    with(&conn);
    drop(conn);
    let out = std::fs::read(&plain).expect("read");
    match key {
        Some(k) => std::fs::write(&p, auditor::crypto::cbc::encrypt(k, &out)).expect("write"),
        None => std::fs::write(&p, out).expect("write"),
    }
}

/// Replace the index with a fresh SQLite database built by `sql` (encrypted if needed).
fn swap_index(root: &Path, key: Option<&auditor::crypto::Key32>, sql: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plain = tmp.path().join("other.db");
    let conn = rusqlite::Connection::open(&plain).expect("create");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(conn);
    let out = std::fs::read(&plain).expect("read");
    let out = match key {
        Some(k) => auditor::crypto::cbc::encrypt(k, &out),
        None => out,
    };
    std::fs::write(root.join("Manifest.db"), out).expect("write");
}

/// SQL literal of a blob.
fn blob_sql(b: &[u8]) -> String {
    format!("X'{}'", hex::encode(b))
}

/// An MBFile archive of the index, with `edit` applied to its root object's dictionary.
fn hostile_mbfile(edit: impl Fn(&mut plist::Dictionary)) -> Vec<u8> {
    let mut d = plist::Dictionary::new();
    d.insert("$class".into(), Value::Uid(plist::Uid::new(2)));
    d.insert("RelativePath".into(), Value::Uid(plist::Uid::new(3)));
    d.insert("Mode".into(), Value::Integer(0o100644.into()));
    d.insert("Size".into(), Value::Integer(100.into()));
    d.insert("ProtectionClass".into(), Value::Integer(3.into()));
    d.insert("Flags".into(), Value::Integer(0.into()));
    edit(&mut d);
    let mut class = plist::Dictionary::new();
    class.insert("$classname".into(), Value::String("MBFile".into()));
    let mut top = plist::Dictionary::new();
    top.insert("root".into(), Value::Uid(plist::Uid::new(1)));
    let mut ar = plist::Dictionary::new();
    ar.insert("$archiver".into(), Value::String("NSKeyedArchiver".into()));
    ar.insert("$version".into(), Value::Integer(100_000.into()));
    ar.insert("$top".into(), Value::Dictionary(top));
    ar.insert(
        "$objects".into(),
        Value::Array(vec![
            Value::String("$null".into()),
            Value::Dictionary(d),
            Value::Dictionary(class),
            Value::String("x".into()),
        ]),
    );
    let mut out = Vec::new();
    Value::Dictionary(ar)
        .to_writer_binary(&mut out)
        .expect("archive");
    out
}

// ------------------------------------------------------------------------------------------
// The cases

/// Every mutation case of `b`, in a fixed order (the subset run takes every n-th).
fn cases(b: &Base) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for rel in &top_level_files(b) {
        let len = std::fs::metadata(b.root.join(rel)).expect("len").len() as usize;
        truncation_cases(rel, len, &mut out);
        bit_flip_cases(rel, &mut out);
        replaced_file_cases(rel, &mut out);
    }
    payload_cases(b, &mut out);
    plist_type_cases(b, &mut out);
    keybag_cases(b, &mut out);
    manifest_key_cases(&mut out);
    if b.root.join("Manifest.db").is_file() {
        index_db_cases(b, &mut out);
    }
    out
}

/// The top-level files (and the keychain payload) of the backup that exist.
fn top_level_files(b: &Base) -> Vec<PathBuf> {
    let mut top: Vec<PathBuf> = [
        "Manifest.plist",
        "Info.plist",
        "Status.plist",
        "Manifest.db",
        "Manifest.mbdb",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    top.push(b.keychain_rel.clone());
    top.retain(|rel| b.root.join(rel).is_file());
    top
}

/// Truncation of `rel` (of `len` bytes) at the start, a third, half and near the end.
fn truncation_cases(rel: &Path, len: usize, out: &mut Vec<Case>) {
    let mut points = vec![
        0,
        1,
        7,
        8,
        16,
        len / 3,
        len / 2,
        len.saturating_sub(33),
        len - 1,
    ];
    points.sort();
    points.dedup();
    for at in points.into_iter().filter(|&a| a < len) {
        let rel = rel.to_path_buf();
        out.push(case(
            format!("truncate {} at {at}", rel.display()),
            move |r| edit(&r.join(&rel), |b| b.truncate(at)),
        ));
    }
}

/// Eight seeded bit flips of `rel`: seeds 0–5 one bit, 6–7 a burst of 32 random bytes.
fn bit_flip_cases(rel: &Path, out: &mut Vec<Case>) {
    for k in 0..8u64 {
        let rel = rel.to_path_buf();
        out.push(case(
            format!("flip bits in {} (seed {k})", rel.display()),
            move |r| {
                edit(&r.join(&rel), |b| {
                    let mut next = rng(0x9E37_79B9 ^ (k << 32) ^ b.len() as u64);
                    // Seeds 0–5: one bit; 6–7: a burst of 32 random bytes.
                    let n = if k < 6 { 1 } else { 32 };
                    for _ in 0..n {
                        let i = (next() % b.len() as u64) as usize;
                        if k < 6 {
                            b[i] ^= 1 << (next() % 8);
                        } else {
                            b[i] = next() as u8;
                        }
                    }
                })
            },
        ));
    }
}

/// `rel` deleted, or replaced by a directory, a FIFO, a link to /dev/zero or to nothing.
fn replaced_file_cases(rel: &Path, out: &mut Vec<Case>) {
    let r2 = rel.to_path_buf();
    out.push(case(format!("delete {}", rel.display()), move |r| {
        remove_any(&r.join(&r2))
    }));
    let r2 = rel.to_path_buf();
    out.push(case(
        format!("{} is a directory", rel.display()),
        move |r| {
            remove_any(&r.join(&r2));
            std::fs::create_dir(r.join(&r2)).expect("mkdir");
        },
    ));
    let r2 = rel.to_path_buf();
    out.push(case(format!("{} is a FIFO", rel.display()), move |r| {
        replace_with_fifo(&r.join(&r2))
    }));
    let r2 = rel.to_path_buf();
    out.push(case(
        format!("{} links to /dev/zero", rel.display()),
        move |r| replace_with_symlink(&r.join(&r2), "/dev/zero"),
    ));
    let r2 = rel.to_path_buf();
    out.push(case(
        format!("{} links to a missing file", rel.display()),
        move |r| replace_with_symlink(&r.join(&r2), "/nonexistent/auditor-test"),
    ));
}

/// Payload files: deleted, emptied, hostile file types, all gone; strays at the top level.
fn payload_cases(b: &Base, out: &mut Vec<Case>) {
    let payloads = payload_files(&b.root);
    for (i, p) in payloads.iter().enumerate().step_by(7).take(4) {
        let rel = p.strip_prefix(&b.root).unwrap().to_path_buf();
        let r2 = rel.clone();
        out.push(case(format!("delete payload #{i}"), move |r| {
            remove_any(&r.join(&r2))
        }));
        let r2 = rel.clone();
        out.push(case(format!("empty payload #{i}"), move |r| {
            std::fs::write(r.join(&r2), b"").expect("write")
        }));
        let r2 = rel.clone();
        out.push(case(
            format!("payload #{i} links outside the backup"),
            move |r| replace_with_symlink(&r.join(&r2), "/etc/hostname"),
        ));
        let r2 = rel.clone();
        out.push(case(format!("payload #{i} links to /dev/zero"), move |r| {
            replace_with_symlink(&r.join(&r2), "/dev/zero")
        }));
        let r2 = rel.clone();
        out.push(case(format!("payload #{i} is a FIFO"), move |r| {
            replace_with_fifo(&r.join(&r2))
        }));
        out.push(case(format!("payload #{i} grows by 5 bytes"), move |r| {
            edit(&r.join(&rel), |b| b.extend_from_slice(b"12345"))
        }));
    }
    out.push(case("delete every payload", |r| {
        for p in payload_files(r) {
            remove_any(&p);
        }
    }));
    out.push(case(
        "a stray file and a hostile name at the top level",
        |r| {
            std::fs::write(r.join("..strange\nname"), b"x").expect("write");
            std::fs::create_dir(r.join("zz")).expect("mkdir");
            std::fs::write(r.join("zz/not-a-file-id"), b"x").expect("write");
        },
    ));
}

/// Plist values of the wrong type, key by key; wrong top-level types; limits.
fn plist_type_cases(b: &Base, out: &mut Vec<Case>) {
    for f in ["Manifest.plist", "Info.plist", "Status.plist"] {
        let v = read_plist(&b.root.join(f));
        let keys: Vec<String> = v.as_dictionary().expect("dict").keys().cloned().collect();
        for k in keys {
            out.push(case(format!("{f}: {k} has the wrong type"), move |r| {
                let p = r.join(f);
                let mut v = read_plist(&p);
                let d = v.as_dictionary_mut().expect("dict");
                let w = wrong_type(d.get(&k).expect("key"));
                d.insert(k.clone(), w);
                write_plist(&p, &v);
            }));
        }
        out.push(case(format!("{f}: top level is an array"), move |r| {
            write_plist(&r.join(f), &Value::Array(vec![Value::Integer(1.into())]))
        }));
        out.push(case(
            format!("{f}: XML form of the same values"),
            move |r| {
                let p = r.join(f);
                read_plist(&p).to_file_xml(&p).expect("xml")
            },
        ));
        out.push(case(format!("{f}: nested 100 000 deep (XML)"), move |r| {
            std::fs::write(r.join(f), deep_xml_plist(100_000)).expect("write")
        }));
        out.push(case(
            format!("{f}: shared references expand 16^12 times"),
            move |r| std::fs::write(r.join(f), expanding_bplist(12)).expect("write"),
        ));
    }
    for k in ["Lockdown", "Applications"] {
        out.push(case(
            format!("Manifest.plist: {k} entries have wrong types"),
            move |r| {
                let p = r.join("Manifest.plist");
                let mut v = read_plist(&p);
                if let Some(Value::Dictionary(d)) = v.as_dictionary_mut().and_then(|d| d.get_mut(k))
                {
                    for (_, x) in d.iter_mut() {
                        *x = wrong_type(x);
                    }
                }
                write_plist(&p, &v);
            },
        ));
    }
}

/// The keybag: zeroed or absurd lengths, truncation, no class records.
fn keybag_cases(b: &Base, out: &mut Vec<Case>) {
    let kb = read_plist(&b.root.join("Manifest.plist"))
        .as_dictionary()
        .and_then(|d| d.get("BackupKeyBag"))
        .and_then(Value::as_data)
        .expect("keybag")
        .to_vec();
    let offsets = tlv_length_offsets(&kb);
    for (i, &o) in offsets.iter().enumerate().step_by(3) {
        out.push(case(
            format!("keybag: record {i} length zeroed"),
            move |r| edit_keybag(r, |kb| kb[o..o + 4].copy_from_slice(&[0; 4])),
        ));
        out.push(case(
            format!("keybag: record {i} length 0xFFFFFFFF"),
            move |r| edit_keybag(r, |kb| kb[o..o + 4].copy_from_slice(&[0xFF; 4])),
        ));
    }
    let all = offsets.clone();
    out.push(case("keybag: every length zeroed", move |r| {
        edit_keybag(r, |kb| {
            for &o in &all {
                kb[o..o + 4].copy_from_slice(&[0; 4]);
            }
        })
    }));
    out.push(case("keybag: 64 KiB + 1 of zeros", |r| {
        edit_keybag(r, |kb| *kb = vec![0; 64 * 1024 + 1])
    }));
    out.push(case("keybag: header only (no class records)", |r| {
        edit_keybag(r, |kb| {
            let second_uuid = kb
                .windows(4)
                .enumerate()
                .filter(|(_, w)| w == b"UUID")
                .nth(1)
                .map(|(i, _)| i)
                .unwrap_or(kb.len());
            kb.truncate(second_uuid);
        })
    }));
}

/// A ManifestKey too short, and one naming class 99.
fn manifest_key_cases(out: &mut Vec<Case>) {
    out.push(case("Manifest.plist: ManifestKey of 3 bytes", |r| {
        let p = r.join("Manifest.plist");
        let mut v = read_plist(&p);
        v.as_dictionary_mut()
            .unwrap()
            .insert("ManifestKey".into(), Value::Data(vec![4, 0, 0]));
        write_plist(&p, &v);
    }));
    out.push(case("Manifest.plist: ManifestKey names class 99", |r| {
        let p = r.join("Manifest.plist");
        let mut v = read_plist(&p);
        let mut mk = vec![99, 0, 0, 0];
        mk.extend_from_slice(&[0xAA; 40]);
        v.as_dictionary_mut()
            .unwrap()
            .insert("ManifestKey".into(), Value::Data(mk));
        write_plist(&p, &v);
    }));
}

/// Cases of a backup with a Manifest.db: swapped for garbage or other SQLite, hostile rows.
fn index_db_cases(b: &Base, out: &mut Vec<Case>) {
    let key = b.manifest_key.clone();
    swapped_index_cases(key.as_ref(), out);
    let rows = hostile_rows();
    for (i, sql) in rows.iter().enumerate() {
        let k = key.clone();
        let sql = sql.clone();
        out.push(case(format!("hostile row #{i}"), move |r| {
            edit_index(r, k.as_ref(), &sql)
        }));
    }
    out.push(hostile_names_case(key.clone()));
    let all_rows = rows.join("\n");
    let k = key.clone();
    out.push(case("every hostile row at once", move |r| {
        edit_index(r, k.as_ref(), &all_rows)
    }));
}

/// SQLite databases that are not an index: (what, SQL that builds them).
fn other_index_sql() -> [(&'static str, &'static str); 5] {
    [
        ("another schema", "CREATE TABLE foo(a, b); INSERT INTO foo VALUES (1, 2);"),
        (
            "Files lacks columns",
            "CREATE TABLE Files(fileID TEXT, domain TEXT); INSERT INTO Files VALUES ('a', 'b');",
        ),
        (
            "Files is an endless recursive view",
            "CREATE VIEW Files AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) \
             SELECT printf('%040x', n) AS fileID, 'HomeDomain' AS domain, 'p' || n AS relativePath, \
             1 AS flags, NULL AS file FROM c;",
        ),
        (
            "Files has a generated column of 900 MB",
            "CREATE TABLE Files(fileID TEXT, domain TEXT, relativePath TEXT, flags INTEGER, \
             file BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL); \
             INSERT INTO Files(fileID, domain, relativePath, flags) VALUES \
             ('0000000000000000000000000000000000000000', 'HomeDomain', 'x', 1);",
        ),
        (
            "Files is empty",
            "CREATE TABLE Files(fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);",
        ),
    ]
}

/// Manifest.db swapped for garbage, a WAL header, other SQLite, or (encrypted) its plaintext.
fn swapped_index_cases(key: Option<&auditor::crypto::Key32>, out: &mut Vec<Case>) {
    out.push(case("Manifest.db is random bytes", |r| {
        edit(&r.join("Manifest.db"), |b| {
            let mut next = rng(77);
            b.iter_mut().for_each(|x| *x = next() as u8);
        })
    }));
    out.push(case("Manifest.db is an SQLite header and garbage", |r| {
        edit(&r.join("Manifest.db"), |b| {
            b[..16].copy_from_slice(b"SQLite format 3\0");
            let mut next = rng(78);
            b[100..].iter_mut().for_each(|x| *x = next() as u8);
        })
    }));
    out.push(case("Manifest.db header claims WAL mode", |r| {
        edit(&r.join("Manifest.db"), |b| {
            if b.starts_with(b"SQLite format 3\0") {
                b[18] = 2;
                b[19] = 2;
            }
        })
    }));
    for (name, sql) in other_index_sql() {
        let k = key.cloned();
        out.push(case(format!("Manifest.db swapped: {name}"), move |r| {
            swap_index(r, k.as_ref(), sql)
        }));
    }
    if let Some(k) = key.cloned() {
        out.push(case(
            "encrypted backup with a plaintext Manifest.db",
            move |r| {
                let p = r.join("Manifest.db");
                let plain = auditor::crypto::cbc::decrypt(&k, &std::fs::read(&p).unwrap()).unwrap();
                std::fs::write(&p, plain).unwrap();
            },
        ));
    }
}

/// SQL of each hostile row: hostile paths, file IDs and MBFiles, odd flags and column types.
fn hostile_rows() -> Vec<String> {
    let mut rows = hostile_path_rows();
    rows.extend(hostile_fileid_rows());
    // These rows point at real payloads (the first file rows), so --deep reads them.
    for (i, (name, f)) in weird_mbfiles().iter().enumerate() {
        rows.push(format!(
            "UPDATE Files SET file = {} WHERE fileID = (SELECT fileID FROM Files WHERE flags = 1 \
             ORDER BY fileID LIMIT 1 OFFSET {i}); -- {name}",
            blob_sql(&hostile_mbfile(f))
        ));
    }
    rows.push(
        "INSERT INTO Files VALUES ('1111111111111111111111111111111111111111', 'HomeDomain', 'f99', 99, NULL);"
            .into(),
    );
    rows.push(
        "INSERT INTO Files VALUES ('2222222222222222222222222222222222222222', NULL, NULL, NULL, X'00');"
            .into(),
    );
    rows.push("INSERT INTO Files VALUES (42, 7, 3.5, 'text', 'not a blob');".into());
    rows
}

/// Rows whose relative path is hostile (traversal, absolute, NUL, newline, …, 6000 bytes).
fn hostile_path_rows() -> Vec<String> {
    let hostile_paths = [
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "a/../../../b",
        "nul\u{0}byte",
        "new\nline",
        "CON",
        "trailing.",
        "x/",
    ];
    let long = "d/".repeat(3000);
    let mut rows = Vec::new();
    for (i, p) in hostile_paths.iter().enumerate() {
        rows.push(format!(
            "INSERT INTO Files VALUES ('{:040x}', 'HomeDomain', '{}', 1, {});",
            0xbad0 + i,
            p.replace('\'', "''").replace('\u{0}', "' || char(0) || '"),
            blob_sql(&hostile_mbfile(|_| {}))
        ));
    }
    rows.push(format!(
        "INSERT INTO Files VALUES ('{:040x}', 'HomeDomain', '{long}', 1, NULL);",
        0xbad1_0000u64
    ));
    rows
}

/// Rows whose file ID (or domain) is hostile: traversal, absolute, not hex, empty.
fn hostile_fileid_rows() -> Vec<String> {
    let fileid_rows = [
        ("../../../../etc/passwd", "HomeDomain", "fid-traversal"),
        ("/etc/passwd", "HomeDomain", "fid-absolute"),
        (
            "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "HomeDomain",
            "fid-not-hex",
        ),
        ("", "HomeDomain", "fid-empty"),
        ("00", "../../..", "domain-traversal"),
    ];
    fileid_rows
        .into_iter()
        .map(|(fid, dom, p)| {
            format!(
                "INSERT INTO Files VALUES ('{fid}', '{dom}', '{p}', 1, {});",
                blob_sql(&hostile_mbfile(|_| {}))
            )
        })
        .collect()
}

/// MBFile edits with out-of-range, malformed or looping values: (what, edit).
fn weird_mbfiles() -> [(&'static str, DictEdit); 5] {
    [
        (
            "Size i64::MAX, class 99",
            Box::new(|d| {
                d.insert("Size".into(), Value::Integer(i64::MAX.into()));
                d.insert("ProtectionClass".into(), Value::Integer(99.into()));
            }),
        ),
        (
            "EncryptionKey of 7 bytes",
            Box::new(|d| {
                d.insert(
                    "EncryptionKey".into(),
                    Value::Data(vec![3, 0, 0, 0, 1, 2, 3]),
                );
            }),
        ),
        (
            "EncryptionKey garbage of 44 bytes",
            Box::new(|d| {
                let mut k = vec![3, 0, 0, 0];
                k.extend_from_slice(&[0x41; 40]);
                d.insert("EncryptionKey".into(), Value::Data(k));
            }),
        ),
        (
            "negative Size and Mode",
            Box::new(|d| {
                d.insert("Size".into(), Value::Integer((-1i64).into()));
                d.insert("Mode".into(), Value::Integer((-1i64).into()));
            }),
        ),
        (
            "UID loop",
            Box::new(|d| {
                d.insert("RelativePath".into(), Value::Uid(plist::Uid::new(1)));
                d.insert("Size".into(), Value::Uid(plist::Uid::new(1)));
            }),
        ),
    ]
}

/// Relative paths the host cannot hold or that are not names (long, deep, traversal, not
/// UTF-8, `.`/`//`, empty, case twins).
fn hostile_names() -> Vec<Vec<u8>> {
    vec![
        format!("Documents/{}.txt", "n".repeat(300)).into_bytes(),
        format!("{}x", "p/".repeat(2100)).into_bytes(),
        b"Documents/../../../escape-with-payload".to_vec(),
        b"/abs/with-payload".to_vec(),
        b"bad\xffutf8/name".to_vec(),
        b"a/./b".to_vec(),
        b"a//b".to_vec(),
        b"".to_vec(),
        b"Twin.TXT".to_vec(),
        b"twin.txt".to_vec(),
        b"TWIN.txt".to_vec(),
    ]
}

/// Rows with a real payload (copied under their own valid fileID) whose names the host
/// cannot hold or which are not names: extract must refuse or map them, and report.
fn hostile_names_case(key: Option<auditor::crypto::Key32>) -> Case {
    let names = hostile_names();
    case("hostile names with payloads", move |r| {
        let root = r.to_path_buf();
        edit_index_with(r, key.as_ref(), "", |conn| {
            let (tid, blob): (String, Vec<u8>) = conn
                .query_row(
                    "SELECT fileID, file FROM Files WHERE flags = 1 ORDER BY fileID LIMIT 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .expect("template row");
            let payload = std::fs::read(root.join(&tid[..2]).join(&tid)).ok();
            for n in &names {
                use sha1::Digest;
                let mut h = sha1::Sha1::new();
                h.update(b"HomeDomain-");
                h.update(n);
                let id = hex::encode(h.finalize());
                conn.execute(
                    "INSERT OR REPLACE INTO Files VALUES (?1, 'HomeDomain', CAST(?2 AS TEXT), 1, ?3)",
                    rusqlite::params![id, n, blob],
                )
                .expect("insert");
                if let Some(p) = &payload {
                    let d = root.join(&id[..2]);
                    std::fs::create_dir_all(&d).expect("mkdir");
                    std::fs::write(d.join(&id), p).expect("payload");
                }
            }
        });
    })
}

// ------------------------------------------------------------------------------------------
// Running

/// Does stderr name a file of the backup (its folder, a top-level file or a file ID)?
fn names_backup_file(stderr: &str, root: &Path) -> bool {
    if stderr.contains(&root.display().to_string()) {
        return true;
    }
    const NAMES: [&str; 6] = [
        "Manifest.plist",
        "Manifest.db",
        "Manifest.mbdb",
        "Info.plist",
        "Status.plist",
        "keychain-backup.plist",
    ];
    NAMES.iter().any(|n| stderr.contains(n))
}

/// The subcommand lines run on each mutated copy at `root`.
fn commands(b: &Base, root: &Path) -> Vec<Vec<String>> {
    let r = root.display().to_string();
    let mut pw = Vec::new();
    if b.encrypted {
        pw = vec![
            "--password-file".to_owned(),
            b.password_file.display().to_string(),
        ];
    }
    let with = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.push(r.clone());
        v.extend(pw.iter().cloned());
        v
    };
    vec![
        vec!["info".into(), r.clone()],
        with(&["scan"]),
        with(&["scan", "--deep", "--format", "json"]),
        with(&["keychain", "--format", "json"]),
        with(&["key"]),
        {
            let export = root.parent().unwrap().join("export");
            let mut v: Vec<String> = ["extract", "--symlinks", "--format", "json", "--out"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            v.push(export.display().to_string());
            v.push(r.clone());
            v.extend(pw.iter().cloned());
            v
        },
    ]
}

/// Everything under the export folder stays inside it: files and folders by their real
/// path, links by resolving their (relative) target lexically from where they are.
fn export_contained(out: &Path) -> Result<usize, String> {
    if !out.exists() {
        return Ok(0);
    }
    let canon = out.canonicalize().map_err(|e| e.to_string())?;
    let mut n = 0;
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| e.to_string())? {
            let p = e.map_err(|e| e.to_string())?.path();
            n += 1;
            let m = std::fs::symlink_metadata(&p).map_err(|e| e.to_string())?;
            if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).map_err(|e| e.to_string())?;
                if !t.is_relative() {
                    return Err(format!("absolute link {} -> {}", p.display(), t.display()));
                }
                let mut r = p.parent().unwrap().to_path_buf();
                for c in t.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            r.pop();
                        }
                        std::path::Component::Normal(x) => r.push(x),
                        _ => {}
                    }
                }
                if !r.starts_with(out) {
                    return Err(format!("link escapes: {} -> {}", p.display(), t.display()));
                }
            } else if m.is_dir() {
                stack.push(p);
            } else if !m.is_file() {
                return Err(format!("special file exported: {}", p.display()));
            } else if !p
                .canonicalize()
                .map_err(|e| e.to_string())?
                .starts_with(&canon)
            {
                return Err(format!("file outside the export: {}", p.display()));
            }
        }
    }
    Ok(n)
}

/// Whether a run ended as the corpus requires: no hang, signal or defect, a code 0–4, exit 4 naming a file.
fn check_run(run: &Run, root: &Path) -> Result<(), String> {
    if run.timed_out {
        return Err(format!("hung (killed after {RUN_LIMIT:?})"));
    }
    if let Some(sig) = run.signal {
        return Err(format!("killed by signal {sig}; stderr: {}", run.stderr()));
    }
    let code = run.code.unwrap_or(-1);
    if !(0..=4).contains(&code) {
        return Err(format!("exit {code}; stderr: {}", run.stderr()));
    }
    let err = run.stderr();
    if err.contains("internal error") || err.contains("panicked") {
        return Err(format!("exit {code} but stderr reports a defect: {err}"));
    }
    if code == 4 && !names_backup_file(&err, root) {
        return Err(format!("exit 4 without naming a file: {err}"));
    }
    Ok(())
}

/// Counts and failures of the runs of one base.
struct Tally {
    cases: usize,
    runs: usize,
    by_exit: std::collections::BTreeMap<i32, usize>,
    failures: Vec<String>,
}

/// Run every `every`-th case of fixture `spec`.
fn run_cases(spec: &str, every: usize) -> Tally {
    run_base(spec, &base(spec), every)
}

/// Run every `every`-th case of `b` on two threads, each case on its own copy.
fn run_base(spec: &str, b: &Base, every: usize) -> Tally {
    let all = cases(b);
    let chosen: Vec<&Case> = all.iter().step_by(every).collect();
    let next = AtomicUsize::new(0);
    let tally = Mutex::new(Tally {
        cases: 0,
        runs: 0,
        by_exit: Default::default(),
        failures: Vec::new(),
    });
    let work = b.dir.path().join("cases");
    // AUDITOR_MUTATION_LOG=FILE: one line per run (case, command, exit, last stderr line).
    let log_path = std::env::var_os("AUDITOR_MUTATION_LOG");
    let log = log_path.as_ref().map(|_| Mutex::new(Vec::<String>::new()));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = chosen.get(i) else { break };
                let dir = work.join(format!("case{i}"));
                let root = dir.join(b.root.file_name().unwrap());
                copy_tree(&b.root, &root);
                (c.apply)(&root);
                let before = tree_digest(&dir);
                let cwd = dir.join("cwd");
                std::fs::create_dir_all(&cwd).expect("cwd");
                let mut local = Vec::new();
                let mut codes = Vec::new();
                for cmd in commands(b, &root) {
                    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                    let run = run_auditor(&args, &cwd, None, RUN_LIMIT);
                    codes.push(run.code.unwrap_or(-1));
                    if let Some(log) = &log {
                        let first = run.stderr().lines().last().unwrap_or("").to_owned();
                        log.lock().unwrap().push(format!(
                            "{spec} | {} | {} | {:?} | {first}",
                            c.name, args[0], run.code
                        ));
                    }
                    if let Err(e) = check_run(&run, &root) {
                        local.push(format!("[{spec}] {} / {}: {e}", c.name, args[0]));
                    }
                }
                let after = tree_digest(&dir);
                let mut after_no_cwd = after.clone();
                after_no_cwd.retain(|k, _| k != Path::new("cwd") && !k.starts_with("export"));
                if let Err(e) = export_contained(&dir.join("export")) {
                    local.push(format!("[{spec}] {}: extract: {e}", c.name));
                }
                let diff = digest_diff(&before, &after_no_cwd);
                if !diff.is_empty() {
                    local.push(format!("[{spec}] {}: tree changed: {diff:?}", c.name));
                }
                if std::fs::read_dir(&cwd)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
                {
                    local.push(format!(
                        "[{spec}] {}: wrote into the working directory",
                        c.name
                    ));
                }
                harden::make_writable(&dir);
                let _ = std::fs::remove_dir_all(&dir);
                let mut t = tally.lock().unwrap();
                t.cases += 1;
                t.runs += codes.len();
                for code in codes {
                    *t.by_exit.entry(code).or_default() += 1;
                }
                t.failures.extend(local);
            });
        }
    });
    if let (Some(p), Some(log)) = (log_path, log) {
        let mut lines = log.into_inner().unwrap();
        lines.sort();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .expect("log");
        use std::io::Write;
        for l in lines {
            writeln!(f, "{l}").expect("log");
        }
    }
    let t = tally.into_inner().unwrap();
    eprintln!(
        "{spec}: {} of {} mutated cases, {} runs, exit codes {:?}",
        t.cases,
        all.len(),
        t.runs,
        t.by_exit
    );
    t
}

/// Print the totals; fail with every failure listed.
fn report(tallies: Vec<Tally>) {
    let cases: usize = tallies.iter().map(|t| t.cases).sum();
    let runs: usize = tallies.iter().map(|t| t.runs).sum();
    eprintln!("mutation corpus: {cases} cases, {runs} subcommand runs");
    let failures: Vec<String> = tallies.into_iter().flat_map(|t| t.failures).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The fixtures, and the tiny iOS 9 Manifest.mbdb backup of ../shared/external when present.
fn all(every: usize) -> Vec<Tally> {
    let mut t = vec![
        run_cases("small.json", every),
        run_cases("small-unencrypted.json", every),
    ];
    if let Some(b) = base_external("pyiosbackup/backup_ios9_mbdb", "0000") {
        t.push(run_base("pyiosbackup ios9 mbdb", &b, every));
    }
    t
}

#[test]
fn mutation_subset() {
    report(all(3));
}

#[test]
#[ignore = "full mutation corpus: cargo test --test mutation -- --ignored"]
fn mutation_full() {
    report(all(1));
}

/// Export safety on names the host cannot hold or that are not names (with real payloads):
/// each is refused with a reason or exported inside `--out`; the report lists every one.
#[test]
fn extract_reports_every_hostile_name() {
    let b = base("small-unencrypted.json");
    let all = cases(&b);
    let c = all
        .iter()
        .find(|c| c.name == "hostile names with payloads")
        .expect("case");
    let dir = b.dir.path().join("names");
    let root = dir.join(b.root.file_name().unwrap());
    copy_tree(&b.root, &root);
    (c.apply)(&root);
    let out = dir.join("export");
    let args = [
        "extract",
        "--format",
        "json",
        "--domain",
        "HomeDomain",
        "--out",
        out.to_str().unwrap(),
        root.to_str().unwrap(),
    ];
    let run = run_auditor(&args, &dir, None, RUN_LIMIT);
    assert_eq!(run.code, Some(1), "{}", run.stderr());
    let rep: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON report");
    let refused: Vec<(String, String)> = rep["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| {
            (
                r["relative_path"].as_str().unwrap_or("?").to_owned(),
                r["reason"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let reason = |p: &str| {
        refused
            .iter()
            .find(|(rp, _)| rp == p)
            .map(|(_, r)| r.clone())
    };
    let long = format!("Documents/{}.txt", "n".repeat(300));
    for (name, want) in [
        (long.as_str(), "component_too_long"),
        (
            "Documents/../../../escape-with-payload",
            "dot_dot_component",
        ),
        ("/abs/with-payload", "absolute_path"),
        ("a/./b", "dot_component"),
        ("a//b", "empty_component"),
        ("", "empty_path"),
    ] {
        assert_eq!(reason(name).as_deref(), Some(want), "{name:?}: {refused:?}");
    }
    // Over PATH_MAX (4,200 bytes): refused (today as "obstructed", when the OS refuses).
    let deep = format!("{}x", "p/".repeat(2100));
    assert!(reason(&deep).is_some(), "{refused:?}");
    // Case-only twins: one exported, the others refused as collisions.
    let twins = ["Twin.TXT", "twin.txt", "TWIN.txt"]
        .iter()
        .filter(|t| reason(t).as_deref() == Some("case_collision"))
        .count();
    assert_eq!(twins, 2, "{refused:?}");
    export_contained(&out).expect("export stays inside --out");
    let exported: Vec<String> = std::fs::read_dir(out.join("HomeDomain"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    // Invalid UTF-8 is mapped (U+FFFD), never written as raw bytes.
    assert!(
        exported.iter().any(|n| n == "bad\u{FFFD}utf8") || reason("bad\u{FFFD}utf8/name").is_some(),
        "{exported:?} {refused:?}"
    );
}
