//! Tests of the backup folder layer against synthetic folders, the conformance backups and real data.

use super::*;
use std::collections::BTreeSet;

use crate::test_support::shared;

/// EXPECTED.json of a shared conformance backup.
fn expected(dir: &str) -> serde_json::Value {
    let p = shared(dir).unwrap().join("EXPECTED.json");
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

const MINIMAL_PLIST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>IsEncrypted</key><false/></dict></plist>"#;

#[test]
fn conformance_unencrypted_folder() {
    let Some(dir) = shared("conformance/small-unencrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let b = Backup::open(&dir).unwrap();
    assert!(
        matches!(&b.index, IndexKind::ManifestDb { state: DbState::Plaintext, path, len: 110592 } if path == &dir.join("Manifest.db")),
        "{:?}",
        b.index
    );
    assert_eq!(b.layout, Layout::Hashed);
    assert!(b.notes.is_empty(), "{:?}", b.notes);
    assert_eq!(b.manifest.as_ref().unwrap().is_encrypted, Some(false));
    assert_eq!(
        b.info.as_ref().unwrap().product_version.as_deref(),
        Some("17.5.1")
    );
    assert_eq!(
        b.status.as_ref().unwrap().snapshot_state.as_deref(),
        Some("finished")
    );

    let exp = expected("conformance/small-unencrypted");
    let scan = b.content_files().unwrap();
    assert!(scan.other.is_empty(), "{:?}", scan.other);
    assert_eq!(scan.files.len(), 43);
    let on_disk: BTreeSet<String> = scan.files.iter().map(|f| f.file_id().to_string()).collect();
    for f in exp["files"].as_array().unwrap() {
        let id = FileId::parse(f["fileID"].as_str().unwrap()).unwrap();
        let present = f["type"] == "file" && f["present"] == true;
        assert_eq!(on_disk.contains(id.as_str()), present, "{id}");
        let cp = b.content_path(&id);
        assert_eq!(cp.is_some(), present, "{id}");
        assert_eq!(
            b.expected_content_path(&id),
            dir.join(id.prefix()).join(id.as_str())
        );
        if present {
            let cf = &scan.files[scan.find(&id.to_bytes()).unwrap()];
            assert_eq!(cf.listed_len(), f["stored_size"].as_u64(), "{id}");
            assert_eq!(cp.unwrap(), scan.path(cf));
        }
    }
    assert!(b
        .read_index_bytes(1 << 30)
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    assert!(matches!(
        b.read_index_bytes(1000),
        Err(BackupError::TooLarge {
            size: 110592,
            limit: 1000,
            ..
        })
    ));
}

#[test]
fn conformance_encrypted_db_is_ciphertext() {
    let Some(dir) = shared("conformance/small-encrypted/00008120-001A2B3C4D5E801E") else {
        return;
    };
    let b = Backup::open(&dir).unwrap();
    assert!(
        matches!(
            b.index,
            IndexKind::ManifestDb {
                state: DbState::Ciphertext,
                len: 118800,
                ..
            }
        ),
        "{:?}",
        b.index
    );
    let m = b.manifest.as_ref().unwrap();
    assert_eq!(m.is_encrypted, Some(true));
    assert_eq!(
        m.manifest_key.as_ref().map(|k| (k.len(), k[0])),
        Some((44, 4))
    );
    assert_eq!(b.content_files().unwrap().files.len(), 43);
}

#[test]
fn locate_single_and_collections() {
    let Some(conf) = shared("conformance/small-unencrypted") else {
        return;
    };
    let udid_dir = conf.join("00008120-001A2B3C4D5E801E");
    assert_eq!(
        locate(&udid_dir).unwrap(),
        Located::Single(udid_dir.clone())
    );
    match locate(&conf).unwrap() {
        Located::Collection(v) => {
            assert_eq!(v.len(), 1);
            let e = &v[0];
            assert_eq!(e.path, udid_dir);
            assert_eq!(e.udid.as_deref(), Some("00008120-001A2B3C4D5E801E"));
            assert_eq!(e.device_name.as_deref(), Some("Oracle Test iPhone"));
            assert_eq!(e.date.as_deref(), Some("2024-06-01T12:00:00Z"));
            assert_eq!(e.encrypted, Some(false));
            assert!(e.problems.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let Some(pyb) = shared("external/pyiosbackup") else {
        return;
    };
    match locate(&pyb).unwrap() {
        Located::Collection(v) => {
            let names: Vec<_> = v.iter().map(|e| e.udid.clone().unwrap()).collect();
            // Info.plist is an empty dict there: the folder name stands in for the UDID.
            assert_eq!(names, ["backup_ios10_sqlite", "backup_ios9_mbdb"]);
            assert!(v
                .iter()
                .all(|e| e.encrypted == Some(true) && e.device_name.is_none()));
        }
        other => panic!("{other:?}"),
    }
    let Some(john) = shared("external/john-samples") else {
        return;
    };
    let e = locate(&john).unwrap_err();
    assert!(matches!(e, BackupError::NotABackup { .. }), "{e}");
    assert!(e.to_string().contains("john-samples"));
}

/// MVT's real iOS 14.3 backup: Info.plist + plaintext Manifest.db, no Manifest.plist.
/// Cross-checked with python3 (os.walk + sqlite3).
#[test]
fn mvt_real_backup_folder() {
    let Some(dir) = shared("external/mvt/ios_backup") else {
        return;
    };
    let b = Backup::open(&dir).unwrap();
    assert!(b.manifest.is_none());
    assert!(b.status.is_none());
    assert_eq!(
        b.notes,
        ["Manifest.plist is absent", "Status.plist is absent"]
    );
    assert!(matches!(
        b.index,
        IndexKind::ManifestDb {
            state: DbState::Plaintext,
            len: 3285008,
            ..
        }
    ));
    assert_eq!(b.layout, Layout::Hashed);
    let info = b.info.as_ref().unwrap();
    assert_eq!(info.product_type.as_deref(), Some("iPhone9,3"));
    assert_eq!(info.product_version.as_deref(), Some("14.3"));
    assert_eq!(info.build_version.as_deref(), Some("18C66"));
    // Upper-case UDID in Unique Identifier, lower-case in Target Identifier.
    assert_eq!(
        info.unique_identifier.as_deref(),
        Some("1CB128EAFA77C5BE74283E9A3A2130AF36A3C059")
    );
    assert_eq!(
        info.target_identifier.as_deref(),
        Some("1cb128eafa77c5be74283e9a3a2130af36a3c059")
    );
    assert_eq!(
        info.last_backup_date.as_deref(),
        Some("2021-12-03T19:33:13Z")
    );
    assert_eq!(
        info.installed_applications,
        [
            "ph.telegra.Telegraph",
            "com.google.Gmail",
            "ch.icoaching.typewise",
            "com.google.chrome.ios",
            "net.whatsapp.WhatsApp",
            "org.mozilla.ios.Firefox"
        ]
    );
    let scan = b.content_files().unwrap();
    assert!(scan.other.is_empty(), "{:?}", scan.other); // -wal/-shm are known names
    assert_eq!(scan.files.len(), 11);
    let sms = FileId::parse("3d0d7e5fb2ce288813306e4d4636395e047a3d28").unwrap();
    let f = scan.files.iter().find(|f| f.file_id() == sms).unwrap();
    assert_eq!(f.listed_len(), Some(28672));
    assert_eq!(
        b.content_path(&sms),
        Some(dir.join("3d").join(sms.as_str()))
    );
}

/// hv20: real iPhone 4S / iOS 9.3.6, Manifest.mbdb, flat layout, iMazing's DDNABackup.plist.
#[test]
fn hv20_real_flat_backup_folder() {
    let Some(dir) = shared("external/hv20/Backup") else {
        return;
    };
    let b = Backup::open(&dir).unwrap();
    assert!(
        matches!(&b.index, IndexKind::ManifestMbdb { len: 101_463, .. }),
        "{:?}",
        b.index
    );
    assert_eq!(b.layout, Layout::Flat);
    assert!(b.notes.is_empty(), "{:?}", b.notes);
    let m = b.manifest.as_ref().unwrap();
    assert_eq!(m.version.as_deref(), Some("9.1"));
    assert_eq!(m.lockdown.product_type.as_deref(), Some("iPhone4,1"));
    assert_eq!(m.lockdown.device_name.as_deref(), Some("Santas Phone"));
    assert_eq!(m.applications.len(), 65);
    assert_eq!(m.date.as_deref(), Some("2020-12-16T20:47:24Z"));
    let s = b.status.as_ref().unwrap();
    assert_eq!(s.version.as_deref(), Some("2.4"));
    assert_eq!(s.snapshot_state.as_deref(), Some("finished"));
    let i = b.info.as_ref().unwrap();
    assert!(i.installed_applications.is_empty());
    assert_eq!(i.itunes_version.as_deref(), Some("12.11.0.26"));
    let scan = b.content_files().unwrap();
    assert_eq!(scan.files.len(), 320);
    assert_eq!(scan.other.len(), 1);
    assert_eq!(scan.other[0].path, dir.join("DDNABackup.plist"));
    assert_eq!(scan.other[0].kind, EntryKind::File);
    let id = &scan.files[0].file_id();
    assert!(scan.files[0].is_flat());
    assert_eq!(b.content_path(id), Some(dir.join(id.as_str())));
    assert_eq!(b.expected_content_path(id), dir.join(id.as_str()));
}

#[test]
fn pyiosbackup_folders() {
    let Some(d10) = shared("external/pyiosbackup/backup_ios10_sqlite") else {
        return;
    };
    let b = Backup::open(&d10).unwrap();
    assert!(matches!(
        b.index,
        IndexKind::ManifestDb {
            state: DbState::Ciphertext,
            len: 8192,
            ..
        }
    ));
    assert_eq!(b.layout, Layout::Hashed);
    let m = b.manifest.as_ref().unwrap();
    assert_eq!(m.lockdown.product_version.as_deref(), Some("10.3"));
    assert_eq!(
        m.manifest_key.as_ref().map(|k| (k.len(), k[0])),
        Some((44, 2))
    ); // class 2!
    assert_eq!(b.info.as_ref().unwrap(), &InfoPlist::default());
    let d9 = d10.with_file_name("backup_ios9_mbdb");
    let b9 = Backup::open(&d9).unwrap();
    assert!(
        matches!(b9.index, IndexKind::ManifestMbdb { len: 126, .. }),
        "{:?}",
        b9.index
    );
    assert_eq!(b9.layout, Layout::Flat);
    let scan = b9.content_files().unwrap();
    assert_eq!(scan.files.len(), 1);
    assert_eq!(
        scan.files[0].file_id().as_str(),
        "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc"
    );
}

#[test]
fn synthetic_folders_errors_and_oddities() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    check_not_a_backup_yet(root);
    check_garbage_manifest_plist(root);
    check_manifest_db_states(root);
    let (id, other_id) = add_payloads_and_strays(root);
    check_hashed_layout_and_strays(root, &id, &other_id);
    check_mixed_layout(root, &id, &other_id);
}

/// An empty folder, then one with only Info.plist (an interrupted backup): not openable.
fn check_not_a_backup_yet(root: &Path) {
    // Empty folder: not a backup.
    let e = Backup::open(root).unwrap_err();
    assert!(matches!(e, BackupError::NotABackup { .. }));
    assert!(
        e.to_string()
            .contains("neither Manifest.plist nor a file index"),
        "{e}"
    );
    assert!(matches!(locate(root), Err(BackupError::NotABackup { .. })));
    assert!(matches!(
        Backup::open(&root.join("nope")),
        Err(BackupError::Io { .. })
    ));

    // Only Info.plist + Status.plist (an interrupted backup): still not openable.
    fs::write(root.join("Info.plist"), MINIMAL_PLIST).unwrap();
    assert!(matches!(
        Backup::open(root),
        Err(BackupError::NotABackup { .. })
    ));
    assert_eq!(locate(root).unwrap(), Located::Single(root.to_path_buf()));
}

/// Garbage Manifest.plist: an error naming the file, exit code BadBackup.
fn check_garbage_manifest_plist(root: &Path) {
    fs::write(root.join("Manifest.plist"), b"bplist00\x00\x01garbage").unwrap();
    let e = Backup::open(root).unwrap_err();
    assert_eq!(e.path(), root.join("Manifest.plist"));
    assert!(matches!(e, BackupError::Malformed { .. }));
    let top: crate::Error = e.into();
    assert_eq!(top.exit_code(), crate::ExitCode::BadBackup);
}

/// Valid Manifest.plist, stray WAL, and a Manifest.db that is empty, ciphertext, unknown, SQLite.
fn check_manifest_db_states(root: &Path) {
    fs::write(root.join("Manifest.plist"), MINIMAL_PLIST).unwrap();
    fs::write(root.join("Manifest.db"), b"").unwrap();
    fs::write(root.join("Manifest.db-wal"), b"0123").unwrap();
    let b = Backup::open(root).unwrap();
    assert!(matches!(
        b.index,
        IndexKind::ManifestDb {
            state: DbState::Empty,
            len: 0,
            ..
        }
    ));
    assert_eq!(b.layout, Layout::Unknown);
    assert_eq!(b.notes.len(), 2, "{:?}", b.notes);
    assert!(b.notes[0].contains("Status.plist is absent"));
    assert!(b.notes[1].contains("Manifest.db-wal holds 4 bytes"));
    fs::write(root.join("Manifest.db"), [7u8; 32]).unwrap();
    assert!(matches!(
        Backup::open(root).unwrap().index,
        IndexKind::ManifestDb {
            state: DbState::Ciphertext,
            ..
        }
    ));
    fs::write(root.join("Manifest.db"), [7u8; 33]).unwrap();
    assert!(matches!(
        Backup::open(root).unwrap().index,
        IndexKind::ManifestDb {
            state: DbState::Unknown,
            ..
        }
    ));
    fs::write(root.join("Manifest.db"), b"SQLite format 3\0rest").unwrap();
    assert!(matches!(
        Backup::open(root).unwrap().index,
        IndexKind::ManifestDb {
            state: DbState::Plaintext,
            ..
        }
    ));
}

/// One hashed payload plus stray entries (wrong subfolder, README, folders, links); the ids of
/// the payload and of the misplaced one.
fn add_payloads_and_strays(root: &Path) -> (FileId, FileId) {
    let id = FileId::compute("HomeDomain", "Library/SMS/sms.db");
    let other_id = FileId::compute("HomeDomain", "x");
    fs::create_dir(root.join("3d")).unwrap();
    fs::write(root.join("3d").join(id.as_str()), b"abc").unwrap();
    fs::write(root.join("3d").join(other_id.as_str()), b"").unwrap(); // wrong subfolder
    fs::write(root.join("3d").join("README"), b"").unwrap();
    fs::create_dir(root.join("3d").join("sub")).unwrap();
    fs::write(root.join(id.as_str().to_uppercase()), b"").unwrap();
    fs::create_dir(root.join("Snapshot")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        // A top-level file auditor reads is read through a link; one it never reads is not.
        std::os::unix::fs::symlink("absent", root.join("Manifest.mbdb")).unwrap();
        std::os::unix::fs::symlink("absent", root.join("Manifest.db-shm")).unwrap();
    }
    (id, other_id)
}

/// Hashed layout: the payload is found, every stray entry is listed with its reason.
fn check_hashed_layout_and_strays(root: &Path, id: &FileId, other_id: &FileId) {
    let b = Backup::open(root).unwrap();
    assert_eq!(b.layout, Layout::Hashed);
    assert!(b.notes.iter().any(|n| n.contains("Snapshot")));
    assert_eq!(b.content_path(id), Some(root.join("3d").join(id.as_str())));
    assert_eq!(b.content_path(other_id), None);
    let scan = b.content_files().unwrap();
    assert_eq!(scan.files.len(), 1);
    assert_eq!(scan.files[0].file_id(), *id);
    assert_eq!(scan.files[0].listed_len(), Some(3));
    assert_eq!(scan.path(&scan.files[0]), root.join("3d").join(id.as_str()));
    let reasons: Vec<(&str, EntryKind)> = scan.other.iter().map(|o| (o.reason, o.kind)).collect();
    let mut expect = vec![
        ("unexpected file at the top level", EntryKind::File),
        ("unexpected folder at the top level", EntryKind::Folder),
        ("unexpected file in a payload folder", EntryKind::File),
        ("payload in the wrong subfolder", EntryKind::File),
        ("unexpected entry in a payload folder", EntryKind::Folder),
    ];
    if cfg!(unix) {
        expect.push(("symbolic link (not followed)", EntryKind::Symlink));
        expect.push(("symbolic link (not followed)", EntryKind::Symlink));
        expect.push((
            "symbolic link to a top-level file of the backup (followed, to a regular file only)",
            EntryKind::Symlink,
        ));
    }
    let mut got = reasons.clone();
    got.sort();
    expect.sort();
    assert_eq!(got, expect);
}

/// A flat payload too: mixed layout; the listing holds both, `find` gives the expected place.
fn check_mixed_layout(root: &Path, id: &FileId, other_id: &FileId) {
    fs::write(root.join(id.as_str()), b"flat").unwrap();
    let b = Backup::open(root).unwrap();
    assert_eq!(b.layout, Layout::Mixed);
    assert_eq!(b.content_path(id), Some(root.join("3d").join(id.as_str())));
    // The listing holds both; `find` gives the layout's expected place, as `content_path`.
    let scan = b.content_listing(false).unwrap();
    assert_eq!(scan.files.len(), 2);
    let c = &scan.files[scan.find(&id.to_bytes()).unwrap()];
    assert!(!c.is_flat());
    assert_eq!(scan.path(c), root.join("3d").join(id.as_str()));
    assert_eq!(scan.find(&other_id.to_bytes()), None);
}

/// Without sizes the listing makes no `stat` per payload; `len` and `open` read them, open
/// by name in the payload's folder, and never follow a link put in a payload's place.
#[test]
fn listing_opens_payloads_in_their_folder() {
    use std::io::Read;
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::write(root.join("Manifest.plist"), MINIMAL_PLIST).unwrap();
    let a = FileId::compute("HomeDomain", "a");
    let b_id = FileId::compute("HomeDomain", "b");
    for id in [&a, &b_id] {
        fs::create_dir_all(root.join(id.prefix())).unwrap();
    }
    fs::write(root.join(a.prefix()).join(a.as_str()), b"0123456789").unwrap();
    fs::write(root.join(b_id.prefix()).join(b_id.as_str()), b"xy").unwrap();
    let b = Backup::open(root).unwrap();
    let scan = b.content_listing(false).unwrap();
    assert_eq!(scan.files.len(), 2);
    assert!(
        scan.files.windows(2).all(|w| w[0].id < w[1].id),
        "sorted by id"
    );
    let ca = &scan.files[scan.find(&a.to_bytes()).unwrap()];
    assert_eq!(ca.listed_len(), None);
    assert_eq!(scan.len(ca).unwrap(), 10);
    let (mut f, n) = scan.open(ca).unwrap();
    assert_eq!(n, 10);
    let mut got = String::new();
    f.read_to_string(&mut got).unwrap();
    assert_eq!(got, "0123456789");
    // Reading a payload leaves its access time as it was (O_NOATIME on Linux; under
    // relatime an access time older than the change time would otherwise be updated).
    #[cfg(target_os = "linux")]
    {
        let p = root.join(a.prefix()).join(a.as_str());
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_times(fs::FileTimes::new().set_accessed(old))
            .unwrap();
        let (mut f, _) = scan.open(ca).unwrap();
        f.read_to_string(&mut String::new()).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().accessed().unwrap(), old);
    }
    // The same payload with sizes listed.
    let sized = b.content_listing(true).unwrap();
    assert_eq!(
        sized.files[sized.find(&a.to_bytes()).unwrap()].listed_len(),
        Some(10)
    );

    // Replaced after the listing: gone, a link, a folder.
    let cb = &scan.files[scan.find(&b_id.to_bytes()).unwrap()];
    let pb = root.join(b_id.prefix()).join(b_id.as_str());
    fs::remove_file(&pb).unwrap();
    assert_eq!(
        scan.open(cb).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(scan.len(cb).is_err());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join(a.prefix()).join(a.as_str()), &pb).unwrap();
        assert!(scan.open(cb).is_err(), "a link is not followed");
        assert!(scan.len(cb).is_err(), "a link is not a payload");
        fs::remove_file(&pb).unwrap();
    }
    fs::create_dir(&pb).unwrap();
    assert!(scan.open(cb).is_err());
    assert!(scan.len(cb).is_err());
}

/// A scan by name (the folders opened, not listed) finds and opens what the listing finds,
/// for every kind of entry that can sit in a payload's place: in its folder, only at the
/// top, in both (the folder wins), a link or a folder or a FIFO in the folder with a file
/// at the top, in the wrong folder, an upper-case name, nothing at all.
#[test]
fn a_scan_by_name_finds_what_the_listing_finds() {
    use std::io::Read;
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::write(root.join("Manifest.plist"), MINIMAL_PLIST).unwrap();
    let ids: Vec<FileId> = (0..12)
        .map(|i| FileId::compute("HomeDomain", &format!("f{i}")))
        .collect();
    let put = |dir: &Path, id: &FileId, body: &[u8]| {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(id.as_str()), body).unwrap();
    };
    let folder = |id: &FileId| root.join(id.prefix());
    put(&folder(&ids[0]), &ids[0], b"in its folder");
    put(root, &ids[1], b"at the top only");
    put(&folder(&ids[2]), &ids[2], b"folder wins");
    put(root, &ids[2], b"top loses");
    fs::create_dir_all(folder(&ids[3]).join(ids[3].as_str())).unwrap();
    put(root, &ids[3], b"a folder in the folder's place");
    #[cfg(unix)]
    {
        fs::create_dir_all(folder(&ids[4])).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", folder(&ids[4]).join(ids[4].as_str())).unwrap();
        put(root, &ids[4], b"a link in the folder's place");
        fs::create_dir_all(folder(&ids[5])).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            folder(&ids[5]).join(ids[5].as_str()),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }
    // The wrong folder (listed as a stray by the listing, not as a payload).
    let wrong = if ids[6].prefix() == "00" { "01" } else { "00" };
    put(&root.join(wrong), &ids[6], b"wrong folder");
    // An upper-case name.
    fs::create_dir_all(folder(&ids[7])).unwrap();
    fs::write(folder(&ids[7]).join(ids[7].as_str().to_uppercase()), b"X").unwrap();
    // A folder named like a payload folder that is a link: not a payload folder.
    #[cfg(unix)]
    {
        let target = root.join("elsewhere");
        put(&target, &ids[8], b"behind a linked folder");
        if !folder(&ids[8]).exists() {
            std::os::unix::fs::symlink(&target, folder(&ids[8])).unwrap();
        }
    }
    // ids[9..]: nowhere.
    let b = Backup::open(root).unwrap();
    let listed = b.content_listing(false).unwrap();
    let named = b.content_folders().unwrap();
    assert!(named.is_by_name() && !listed.is_by_name());
    assert!(named.files.is_empty());
    let read = |scan: &ContentScan, id: &FileId| -> Option<(PathBuf, String, u64)> {
        let (c, mut f, n) = scan.open_id(&id.to_bytes()).unwrap()?;
        let mut body = String::new();
        f.read_to_string(&mut body).unwrap();
        Some((scan.path(&c), body, n))
    };
    let mut found = 0;
    for (i, id) in ids.iter().enumerate() {
        let want = read(&listed, id);
        assert_eq!(read(&named, id), want, "entry {i}");
        let c = named.lookup(&id.to_bytes()).unwrap();
        assert_eq!(
            c.map(|c| named.path(&c)),
            want.as_ref().map(|w| w.0.clone()),
            "entry {i}"
        );
        assert_eq!(
            c.and_then(|c| c.listed_len()),
            want.as_ref().map(|w| w.2),
            "entry {i}"
        );
        found += usize::from(want.is_some());
    }
    assert_eq!(read(&named, &ids[2]).unwrap().1, "folder wins");
    assert_eq!(found, if cfg!(unix) { 5 } else { 4 });
}

#[test]
fn read_capped_refuses_large_files() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("big");
    fs::write(&p, vec![0u8; 100]).unwrap();
    assert_eq!(read_capped(&p, 100).unwrap().len(), 100);
    let e = read_capped(&p, 99).unwrap_err();
    assert!(matches!(
        e,
        BackupError::TooLarge {
            size: 100,
            limit: 99,
            ..
        }
    ));
    assert!(
        e.to_string()
            .contains("big: 100 bytes is larger than the limit of 99 bytes"),
        "{e}"
    );
    assert!(matches!(
        read_capped(t.path(), 10),
        Err(BackupError::Malformed { .. }) | Err(BackupError::Io { .. })
    ));
}

/// A file is located as a file; `Backup::open` refuses it with what to pass instead, and
/// `Backup::open_manifest` reads it alone (issue 13 item 9).
#[test]
fn a_manifest_plist_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("Manifest-x.plist");
    fs::write(&f, MINIMAL_PLIST).unwrap();
    assert_eq!(locate(&f).unwrap(), Located::File(f.clone()));
    let e = Backup::open(&f).unwrap_err();
    assert!(e.to_string().contains("a file, not a backup folder"), "{e}");
    let b = Backup::open_manifest(&f).unwrap();
    assert_eq!(b.input, Input::ManifestPlist);
    assert_eq!(b.manifest_path(), f);
    assert_eq!(b.manifest.unwrap().is_encrypted, Some(false));
    assert!(b.notes.is_empty() && b.damaged.is_empty());
    assert_eq!((b.index, b.layout), (IndexKind::None, Layout::Unknown));
    // A plist with none of Manifest.plist's keys, and one that does not parse: named.
    fs::write(
        &f,
        br#"<plist version="1.0"><dict><key>x</key><true/></dict></plist>"#,
    )
    .unwrap();
    let e = Backup::open_manifest(&f).unwrap_err();
    assert!(
        matches!(&e, BackupError::Malformed { path, .. } if path == &f),
        "{e}"
    );
    assert!(e.to_string().contains("not a Manifest.plist"), "{e}");
    fs::write(&f, b"bplist00").unwrap();
    assert!(matches!(
        Backup::open_manifest(&f),
        Err(BackupError::Malformed { .. })
    ));
    // A folder is not a Manifest.plist.
    assert!(Backup::open_manifest(tmp.path()).is_err());
}

/// Backups two levels down are found only when there are none one level down, and not
/// through a link there.
#[test]
fn backups_two_levels_down() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let deep = root.join("Backup/A");
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("Manifest.plist"), MINIMAL_PLIST).unwrap();
    fs::create_dir_all(root.join("Other/empty")).unwrap();
    match locate(root).unwrap() {
        Located::Collection(v) => {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].path, deep);
        }
        other => panic!("{other:?}"),
    }
    // One level down wins: the deeper one is not looked for.
    let near = root.join("B");
    fs::create_dir(&near).unwrap();
    fs::write(near.join("Info.plist"), MINIMAL_PLIST).unwrap();
    match locate(root).unwrap() {
        Located::Collection(v) => {
            assert_eq!(v.iter().map(|e| &e.path).collect::<Vec<_>>(), [&near])
        }
        other => panic!("{other:?}"),
    }
    #[cfg(unix)]
    {
        let other = tempfile::tempdir().unwrap();
        fs::create_dir(other.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(&deep, other.path().join("sub/link")).unwrap();
        assert!(matches!(
            locate(other.path()),
            Err(BackupError::NotABackup { .. })
        ));
    }
}
