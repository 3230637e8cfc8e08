//! Backup-level and keybag checks: identity, completeness, declared vs effective encryption, KDF cost.

use super::finding::rules as R;
use super::model::*;
use super::{Finding, Location};
use crate::backup::{Backup, DbState, IndexKind, Input, Layout, ManifestPlist, StatusPlist};
use crate::crypto::keybag::{WRAP_DEVICE, WRAP_PASSCODE};
use crate::crypto::ClassKeyState;
use crate::session::Session;

/// The lowest DPIC / ITER we do not flag as weak.
pub const STRONG_DPIC: u32 = 10_000_000;
pub const STRONG_ITER: u32 = 10_000;

/// What unwrapping a class key needs, from its WRAP bits.
fn needs(wrap: u32) -> &'static str {
    match (wrap & WRAP_PASSCODE != 0, wrap & WRAP_DEVICE != 0) {
        (true, true) => "password+device",
        (true, false) => "password",
        (false, true) => "device",
        (false, false) => "none",
    }
}

/// Build the backup summary and top-level findings (no secrets needed).
pub(super) fn backup_part(s: &Session, findings: &mut Vec<Finding>) -> BackupSummary {
    let b: &Backup = &s.backup;
    let mut sum = backup_summary(s);
    // A Manifest.plist given alone: the files beside it were not asked for, so their
    // absence says nothing of the backup.
    if b.input == Input::BackupFolder {
        required_files(b, findings);
    }
    plist_problems(b, findings);
    identity_consistency(b, sum.udid.as_deref(), findings);
    // Absent plists are already findings of their own (backup.missing-file).
    for n in b.notes.iter().filter(|n| !n.ends_with(" is absent")) {
        findings.push(Finding::new(&R::BACKUP_NOTE, n.clone()));
    }
    encryption_findings(b.manifest.as_ref(), &sum.encryption, findings);
    sum.kdf = kdf_part(s, sum.encryption.declared, findings);
    sum
}

/// The first of two optional plist strings that is present (Manifest Lockdown before Info.plist).
fn first_present(a: Option<&Option<String>>, c: Option<&Option<String>>) -> Option<String> {
    a.and_then(|x| x.clone())
        .or_else(|| c.and_then(|x| x.clone()))
}

/// The summary fields read straight from the plists and the index, without findings (`kdf` left empty).
fn backup_summary(s: &Session) -> BackupSummary {
    let b: &Backup = &s.backup;
    let m = b.manifest.as_ref();
    let info = b.info.as_ref();
    let status = b.status.as_ref();
    let lock = m.map(|m| &m.lockdown);
    let pick = first_present;
    BackupSummary {
        path: b.root.display().to_string(),
        input: b.input,
        udid: pick(
            lock.map(|l| &l.unique_device_id),
            info.map(|i| &i.unique_identifier),
        ),
        device_name: pick(lock.map(|l| &l.device_name), info.map(|i| &i.device_name)),
        product_type: pick(lock.map(|l| &l.product_type), info.map(|i| &i.product_type)),
        ios_version: pick(
            lock.map(|l| &l.product_version),
            info.map(|i| &i.product_version),
        ),
        build: pick(
            lock.map(|l| &l.build_version),
            info.map(|i| &i.build_version),
        ),
        serial: pick(
            lock.map(|l| &l.serial_number),
            info.map(|i| &i.serial_number),
        ),
        date: m
            .and_then(|m| m.date.clone())
            .or_else(|| info.and_then(|i| i.last_backup_date.clone())),
        complete: status.map(|st| st.snapshot_state.as_deref() == Some("finished")),
        snapshot_state: status.and_then(|st| st.snapshot_state.clone()),
        is_full_backup: status.and_then(|st| st.is_full_backup),
        passcode_set: m.and_then(|m| m.was_passcode_set),
        index: index_name(&b.index).into(),
        layout: layout_name(b.layout).into(),
        manifest_version: m.and_then(|m| m.version.clone()),
        encryption: declared_encryption(b),
        kdf: None,
        unlocked: s.class_keys.is_some(),
    }
}

/// The report name of the file index kind.
fn index_name(index: &IndexKind) -> &'static str {
    match index {
        IndexKind::ManifestDb { .. } => "manifest_db",
        IndexKind::ManifestMbdb { .. } => "manifest_mbdb",
        IndexKind::None => "none",
    }
}

/// The report name of the payload folder layout.
fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Hashed => "hashed",
        Layout::Flat => "flat",
        Layout::Mixed => "mixed",
        Layout::Unknown => "unknown",
    }
}

/// Encryption as declared by Manifest.plist and as seen in Manifest.db (payloads not yet looked at).
fn declared_encryption(b: &Backup) -> Encryption {
    let m = b.manifest.as_ref();
    Encryption {
        declared: m.and_then(|m| m.is_encrypted),
        index_encrypted: match &b.index {
            IndexKind::ManifestDb {
                state: DbState::Ciphertext,
                ..
            } => Some(true),
            IndexKind::ManifestDb {
                state: DbState::Plaintext,
                ..
            } => Some(false),
            _ => None,
        },
        payloads_encrypted: None,
        manifest_key_class: m
            .and_then(|m| m.manifest_key.as_ref())
            .filter(|k| k.len() >= 4)
            .map(|k| u32::from_le_bytes([k[0], k[1], k[2], k[3]])),
    }
}

/// Findings for missing Manifest/Info/Status plists, an unfinished or partial backup, and no index.
fn required_files(b: &Backup, findings: &mut Vec<Finding>) {
    if b.manifest.is_none() {
        findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "Manifest.plist is missing: no keybag, no app list, encryption unknown",
            )
            .at(Location::backup("Manifest.plist")),
        );
    }
    // A damaged plist is read as absent, and said as damaged.
    for (name, problem) in &b.damaged {
        findings.push(
            Finding::new(
                &R::BACKUP_PLIST_DAMAGED,
                format!("{name} cannot be read, so what it says is unknown: {problem}"),
            )
            .at(Location::backup(*name)),
        );
    }
    let damaged = |name: &str| b.damaged.iter().any(|(n, _)| *n == name);
    if b.info.is_none() && !damaged("Info.plist") {
        findings.push(
            Finding::new(&R::BACKUP_MISSING_FILE, "Info.plist is missing")
                .at(Location::backup("Info.plist")),
        );
    }
    match b.status.as_ref() {
        None if damaged("Status.plist") => {}
        None => findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "Status.plist is missing: completion unknown",
            )
            .at(Location::backup("Status.plist")),
        ),
        Some(st) => status_findings(st, findings),
    }
    if matches!(b.index, IndexKind::None) {
        findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "neither Manifest.db nor Manifest.mbdb is present: no file index",
            )
            .at(Location::backup("Manifest.db")),
        );
    }
}

/// Findings for a Status.plist whose snapshot did not finish or that is not a full backup.
fn status_findings(st: &StatusPlist, findings: &mut Vec<Finding>) {
    if st.snapshot_state.as_deref() != Some("finished") {
        findings.push(
            Finding::new(
                &R::BACKUP_INCOMPLETE,
                format!(
                    "SnapshotState is {:?}, not \"finished\": the backup did not complete",
                    st.snapshot_state.as_deref().unwrap_or("absent")
                ),
            )
            .at(Location::backup("Status.plist")),
        );
    }
    if st.is_full_backup == Some(false) {
        findings.push(
            Finding::new(&R::BACKUP_NOT_FULL, "IsFullBackup is false")
                .at(Location::backup("Status.plist")),
        );
    }
}

/// Plist problems recorded by the tolerant readers, one finding each.
fn plist_problems(b: &Backup, findings: &mut Vec<Finding>) {
    for (name, problems) in [
        ("Manifest.plist", b.manifest.as_ref().map(|x| &x.problems)),
        ("Info.plist", b.info.as_ref().map(|x| &x.problems)),
        ("Status.plist", b.status.as_ref().map(|x| &x.problems)),
    ] {
        for p in problems.into_iter().flatten() {
            findings
                .push(Finding::new(&R::BACKUP_PLIST_PROBLEM, p.clone()).at(Location::backup(name)));
        }
    }
}

/// Identity consistency: Manifest Lockdown vs Info.plist vs folder name.
fn identity_consistency(b: &Backup, udid: Option<&str>, findings: &mut Vec<Finding>) {
    if let (Some(l), Some(i)) = (b.manifest.as_ref().map(|m| &m.lockdown), b.info.as_ref()) {
        let pairs = [
            ("UDID", &l.unique_device_id, &i.unique_identifier),
            ("serial number", &l.serial_number, &i.serial_number),
            ("iOS version", &l.product_version, &i.product_version),
            ("product type", &l.product_type, &i.product_type),
        ];
        for (what, a, c) in pairs {
            if let (Some(a), Some(c)) = (a, c) {
                if !a.eq_ignore_ascii_case(c) {
                    findings.push(Finding::new(
                        &R::BACKUP_IDENTITY_MISMATCH,
                        format!(
                            "{what}: Manifest.plist Lockdown says {a:?}, Info.plist says {c:?}"
                        ),
                    ));
                }
            }
        }
    }
    let folder = match b.input {
        Input::BackupFolder => b.root.file_name().and_then(|f| f.to_str()),
        Input::ManifestPlist => None,
    };
    if let (Some(udid), Some(folder)) = (udid, folder) {
        let looks_like_udid =
            folder.len() >= 24 && folder.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if looks_like_udid && !folder.eq_ignore_ascii_case(udid) {
            findings.push(Finding::new(
                &R::BACKUP_IDENTITY_MISMATCH,
                format!("the folder is named {folder:?} but the device UDID is {udid:?}"),
            ));
        }
    }
}

/// Encryption findings: declared vs the index, the ManifestKey length, and no encryption at all.
fn encryption_findings(m: Option<&ManifestPlist>, enc: &Encryption, findings: &mut Vec<Finding>) {
    let declared = enc.declared;
    let has_mk = m.and_then(|m| m.manifest_key.as_ref()).is_some();
    match (declared, enc.index_encrypted) {
        (Some(false) | None, Some(true)) => findings.push(
            Finding::new(&R::BACKUP_ENCRYPTION_MISMATCH, "Manifest.db is ciphertext but IsEncrypted is not true").at(Location::backup("Manifest.db")),
        ),
        (Some(true), Some(false)) if has_mk => findings.push(
            Finding::new(&R::BACKUP_ENCRYPTION_MISMATCH, "IsEncrypted is true and a ManifestKey is present, but Manifest.db is plaintext SQLite").at(Location::backup("Manifest.db")),
        ),
        _ => {}
    }
    if let Some(mk) = m.and_then(|m| m.manifest_key.as_ref()) {
        if mk.len() != 44 {
            findings.push(
                Finding::new(
                    &R::KEYBAG_PROBLEM,
                    format!("ManifestKey is {} bytes, expected 44", mk.len()),
                )
                .at(Location::backup("Manifest.plist")),
            );
        }
    }
    if declared == Some(false) {
        findings.push(Finding::new(
            &R::BACKUP_NOT_ENCRYPTED,
            "the backup is not encrypted: every payload is plaintext on disk, and its keychain restores only to the same device",
        ));
    }
}

/// The keybag's key-derivation summary, with a weak-KDF finding unless the backup is declared unencrypted.
fn kdf_part(
    s: &Session,
    declared: Option<bool>,
    findings: &mut Vec<Finding>,
) -> Option<KdfSummary> {
    let p = s.keybag.as_ref()?.kdf_params().ok()?;
    let summary = KdfSummary {
        scheme: p.scheme(),
        sha256_rounds: p.dpic,
        sha1_rounds: p.iter,
    };
    if declared != Some(false) {
        match p.dpic {
            None => findings.push(Finding::new(
                &R::BACKUP_WEAK_KDF,
                format!("legacy key derivation: a single PBKDF2-SHA1 with {} rounds (iOS < 10.2); passwords are cheap to guess", p.iter),
            )),
            Some(d) if d < STRONG_DPIC || p.iter < STRONG_ITER => findings.push(Finding::new(
                &R::BACKUP_WEAK_KDF,
                format!("low key-derivation cost: PBKDF2-SHA256 x {d} then PBKDF2-SHA1 x {} (iOS uses 10,000,000 and 10,000)", p.iter),
            )),
            _ => {}
        }
    }
    Some(summary)
}

/// Build the keybag summary and keybag findings; `None` when there is no keybag.
pub(super) fn keybag_part(s: &Session, findings: &mut Vec<Finding>) -> Option<KeybagSummary> {
    if let Some(e) = &s.keybag_error {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("the keybag does not parse: {e}"),
            )
            .at(Location::backup("Manifest.plist")),
        );
    }
    let kb = s.keybag.as_ref()?;
    if kb.kind.map(|t| t & 0x3FFF_FFFF) != Some(1) {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("keybag TYPE is {:?}, expected 1 (backup)", kb.kind),
            )
            .at(Location::backup("Manifest.plist")),
        );
    }
    for (tag, len) in &kb.unknown_tags {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("unknown keybag tag {tag:?} ({len} bytes)"),
            )
            .at(Location::backup("Manifest.plist")),
        );
    }
    for c in &kb.classes {
        if c.wpky.len() != 40 && c.wrap & WRAP_PASSCODE != 0 {
            findings.push(
                Finding::new(
                    &R::KEYBAG_PROBLEM,
                    format!(
                        "class {} WPKY is {} bytes, expected 40",
                        c.class(),
                        c.wpky.len()
                    ),
                )
                .at(Location::backup("Manifest.plist")),
            );
        }
    }
    let mut classes: Vec<KeybagClass> = kb
        .classes
        .iter()
        .map(|c| {
            let class = c.class();
            let state = match s.class_keys.as_ref().and_then(|k| k.keys.get(&class)) {
                None => "locked",
                Some(ClassKeyState::Available(_)) => "unlocked",
                Some(ClassKeyState::DeviceBound) | Some(ClassKeyState::NotPasswordWrapped) => {
                    "device_bound"
                }
            };
            KeybagClass {
                class,
                name: crate::crypto::ProtectionClass::new(class).name(),
                wrap: c.wrap,
                needs: needs(c.wrap),
                device_bound: c.device_bound(),
                state,
            }
        })
        .collect();
    // Ascending, whatever order the keybag stores them in (11→1 on some iOS 9 backups).
    classes.sort_by_key(|c| c.class);
    Some(KeybagSummary {
        version: kb.version,
        kind: kb.kind,
        uuid: kb.uuid.as_deref().map(crate::crypto::keybag::format_uuid),
        wrap: kb.wrap,
        classes,
        unlocked: if s.class_keys.is_some() {
            Some(true)
        } else {
            None
        },
    })
}
