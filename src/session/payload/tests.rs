use super::*;
use crate::backup::Backup;
use crate::crypto::wrap::wrap32;
use crate::crypto::{ClassKeyState, WrappedKey};
use crate::index::FileKind;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const CK: [u8; 32] = [5; 32];
const FK: [u8; 32] = [9; 32];

/// A stored key: `class` ‖ the file key wrapped with `kek`.
fn stored_key(class: u32, kek: [u8; 32]) -> Vec<u8> {
    let mut v = class.to_le_bytes().to_vec();
    v.extend_from_slice(&wrap32(&Key32::new(kek), &Key32::new(FK)));
    v
}

/// A row of `name` whose payload holds `content` (none when `None`), with `key` bytes.
fn row(root: &Path, name: &str, content: Option<&[u8]>, key: Option<Vec<u8>>) -> FileRecord {
    let id = FileId::compute("HomeDomain", name);
    if let Some(c) = content {
        let dir = root.join(&id.as_str()[..2]);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(id.as_str()), c).unwrap();
    }
    let mut r = FileRecord::new(id.as_str().into(), "HomeDomain".into(), name.into());
    r.kind = FileKind::File;
    r.encryption_key = key.as_deref().map(WrappedKey::parse);
    r
}

fn class_keys() -> ClassKeys {
    let mut keys = BTreeMap::new();
    keys.insert(3, ClassKeyState::Available(Key32::new(CK)));
    keys.insert(9, ClassKeyState::DeviceBound);
    keys.insert(5, ClassKeyState::NotPasswordWrapped);
    ClassKeys { keys }
}

struct Setup {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    rows: BTreeMap<&'static str, FileRecord>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    // Enough of a backup to be opened: a plaintext index.
    fs::write(root.join("Manifest.db"), b"SQLite format 3\0rest").unwrap();
    let secret = b"the content of a file, longer than one block";
    let ct = cbc::encrypt(&Key32::new(FK), secret);
    let mut bad_pad = ct.clone();
    let n = bad_pad.len();
    bad_pad[n - 1] ^= 0x55;
    let mut rows = BTreeMap::new();
    let mut add = |n: &'static str, c: Option<&[u8]>, k: Option<Vec<u8>>| {
        rows.insert(n, row(&root, n, c, k));
    };
    add("plain", Some(b"plain text"), None);
    add("encrypted", Some(&ct), Some(stored_key(3, CK)));
    add("empty", Some(b""), Some(stored_key(3, CK)));
    add("missing", None, None);
    add("gone", Some(b"replaced after listing"), None);
    add(
        "short-key",
        Some(&ct),
        Some(stored_key(3, CK)[..43].to_vec()),
    );
    add("device-bound", Some(&ct), Some(stored_key(9, CK)));
    add("not-password", Some(&ct), Some(stored_key(5, CK)));
    add("no-class-key", Some(&ct), Some(stored_key(7, CK)));
    add("wrong-key", Some(&ct), Some(stored_key(3, [6; 32])));
    add("bad-padding", Some(&bad_pad), Some(stored_key(3, CK)));
    let mut bad_id = row(&root, "bad-id", None, None);
    bad_id.file_id = "../x".into();
    rows.insert("bad-id", bad_id);
    Setup {
        _dir: dir,
        root,
        rows,
    }
}

fn listing(s: &Setup) -> ContentScan {
    let l = Backup::open(&s.root)
        .unwrap()
        .content_listing(false)
        .unwrap();
    // Replaced by a folder once listed: no longer a regular file.
    let gone = FileId::parse(&s.rows["gone"].file_id).unwrap();
    let p = s.root.join(&gone.as_str()[..2]).join(gone.as_str());
    fs::remove_file(&p).unwrap();
    fs::create_dir(&p).unwrap();
    l
}

fn why(p: &Payloads<'_>, rec: &FileRecord) -> (&'static str, String) {
    let e = p.open(rec).err().expect("unavailable");
    (e.code(), e.to_string())
}

#[test]
fn opens_and_decrypts() {
    let s = setup();
    let l = listing(&s);
    let keys = class_keys();
    let p = Payloads::new(&l, Some(&keys));
    let mut out = Vec::new();
    let got = p.open(&s.rows["encrypted"]).unwrap();
    assert!(got.key().is_some());
    let st = got.stream(&mut out).unwrap();
    assert_eq!(out, b"the content of a file, longer than one block");
    assert_eq!((st.content_len, st.stored_len, st.problem), (44, 48, None));
    assert_eq!(
        &got.read_whole(1 << 20).unwrap()[..],
        b"the content of a file, longer than one block"
    );
    let plain = p.open(&s.rows["plain"]).unwrap();
    assert!(plain.key().is_none());
    assert_eq!(&plain.read_whole(1 << 20).unwrap()[..], b"plain text");
    assert!(plain.path().ends_with(&s.rows["plain"].file_id));
}

#[test]
fn each_reason_fires_where_it_applies() {
    let s = setup();
    let l = listing(&s);
    let keys = class_keys();
    let p = Payloads::new(&l, Some(&keys));
    assert_eq!(
        why(&p, &s.rows["bad-id"]),
        (
            "bad_file_id",
            "the fileID is not 40 lowercase hex digits".into()
        )
    );
    assert_eq!(why(&p, &s.rows["missing"]).0, "missing");
    let (code, m) = why(&p, &s.rows["gone"]);
    assert_eq!((code, m.as_str()), ("unreadable", "not a regular file"));
    assert_eq!(
        why(&p, &s.rows["short-key"]),
        ("bad_key", "EncryptionKey is 43 bytes, expected 44".into())
    );
    assert_eq!(
        why(&p, &s.rows["device-bound"]),
        (
            "device_bound",
            "class 9 is bound to the device: its key cannot be had off it".into()
        )
    );
    assert_eq!(
        why(&p, &s.rows["not-password"]),
        (
            "device_bound",
            "class 5 is not wrapped with the password".into()
        )
    );
    assert_eq!(
        why(&p, &s.rows["no-class-key"]),
        ("no_class_key", "class 7 has no key in the keybag".into())
    );
    let (code, m) = why(&p, &s.rows["wrong-key"]);
    assert_eq!(code, "key_unwrap_failed");
    assert!(m.starts_with("the file key does not unwrap with class key 3: key unwrap failed"));
    let locked = Payloads::new(&l, None);
    assert!(locked.is_locked() && !p.is_locked());
    assert_eq!(
        why(&locked, &s.rows["encrypted"]),
        ("locked", "the backup is not unlocked: no class keys".into())
    );
    // A bad key is the row's own fault: said before the backup being locked.
    assert_eq!(why(&locked, &s.rows["short-key"]).0, "bad_key");
}

#[test]
fn reasons_that_must_not_fire() {
    let s = setup();
    let l = listing(&s);
    let keys = class_keys();
    let locked = Payloads::new(&l, None);
    // Locked: a plaintext row and an empty payload need no key.
    assert!(locked.open(&s.rows["plain"]).is_ok());
    let empty = locked.open(&s.rows["empty"]).unwrap();
    assert_eq!((empty.stored_len(), empty.key().is_none()), (0, true));
    // The key step alone still says why the row's key cannot be had.
    assert!(matches!(
        locked.key(&s.rows["empty"]),
        Err(Unavailable::Locked)
    ));
    let p = Payloads::new(&l, Some(&keys));
    assert!(matches!(p.key(&s.rows["plain"]), Ok(None)));
    assert!(matches!(p.key(&s.rows["encrypted"]), Ok(Some(_))));
    // The payload of a row with a bad key, or whose class key is device-bound, is found
    // and opens: only its key is unavailable.
    for name in ["short-key", "device-bound", "missing"] {
        let found = p.find(&s.rows[name]);
        assert_eq!(found.is_ok(), name != "missing", "{name}");
    }
    let c = p.find(&s.rows["device-bound"]).unwrap();
    assert_eq!(p.open_listed(&c).unwrap().stored_len(), 48);
}

#[test]
fn bad_padding_is_reported_not_hidden() {
    let s = setup();
    let l = listing(&s);
    let keys = class_keys();
    let p = Payloads::new(&l, Some(&keys));
    let got = p.open(&s.rows["bad-padding"]).unwrap();
    let mut out = Vec::new();
    let st = got.stream(&mut out).unwrap();
    assert_eq!(st.problem, Some(StreamProblem::BadPadding));
    assert_eq!(out.len(), 48, "every decrypted byte is still written");
    assert!(matches!(
        got.read_whole(1 << 20),
        Err(ReadError::Decrypt(CryptoError::BadPadding))
    ));
    // Over the limit: refused before reading.
    assert!(matches!(got.read_whole(16), Err(ReadError::Io(_))));
}
