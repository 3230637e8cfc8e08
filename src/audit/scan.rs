//! The scan: classify the backup, its keybag, every index row, every app and orphan payload.

use super::finding::rules as R;
use super::model::*;
use super::protection::class_name;
use super::{Finding, Severity};
use crate::backup::{Backup, DbState, FileId, IndexKind, Layout};
use crate::crypto::keybag::{WRAP_DEVICE, WRAP_PASSCODE};
use crate::crypto::{self, ClassKeyState, Key32};
use crate::index::{FileKind, FileRecord};
use crate::session::Session;
use crate::Error;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do beyond the default scan.
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Decrypt (or read) every payload in full, verify padding and length, hash it.
    pub deep: bool,
    /// Only the backup and keybag part (`auditor info`).
    pub info_only: bool,
    /// Called with (bytes done, bytes total) during `deep`.
    pub deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

/// The lowest DPIC / ITER we do not flag as weak.
pub const STRONG_DPIC: u32 = 10_000_000;
pub const STRONG_ITER: u32 = 10_000;

fn uuid_string(b: &[u8]) -> String {
    if b.len() == 16 {
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    } else {
        hex::encode(b)
    }
}

fn needs(wrap: u32) -> &'static str {
    match (wrap & WRAP_PASSCODE != 0, wrap & WRAP_DEVICE != 0) {
        (true, true) => "password+device",
        (true, false) => "password",
        (false, true) => "device",
        (false, false) => "none",
    }
}

/// Build the backup summary and top-level findings (no secrets needed).
fn backup_part(s: &Session, findings: &mut Vec<Finding>) -> BackupSummary {
    let b: &Backup = &s.backup;
    let m = b.manifest.as_ref();
    let info = b.info.as_ref();
    let status = b.status.as_ref();
    let lock = m.map(|m| &m.lockdown);
    let pick = |a: Option<&Option<String>>, c: Option<&Option<String>>| -> Option<String> {
        a.and_then(|x| x.clone())
            .or_else(|| c.and_then(|x| x.clone()))
    };
    let mut sum = BackupSummary {
        path: b.root.display().to_string(),
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
        index: match &b.index {
            IndexKind::ManifestDb { .. } => "manifest_db",
            IndexKind::ManifestMbdb { .. } => "manifest_mbdb",
            IndexKind::None => "none",
        }
        .into(),
        layout: match b.layout {
            Layout::Hashed => "hashed",
            Layout::Flat => "flat",
            Layout::Mixed => "mixed",
            Layout::Unknown => "unknown",
        }
        .into(),
        manifest_version: m.and_then(|m| m.version.clone()),
        encryption: Encryption {
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
        },
        kdf: None,
        unlocked: s.class_keys.is_some(),
    };

    // Required files.
    if b.manifest.is_none() {
        findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "Manifest.plist is missing: no keybag, no app list, encryption unknown",
            )
            .at("Manifest.plist"),
        );
    }
    if b.info.is_none() {
        findings
            .push(Finding::new(&R::BACKUP_MISSING_FILE, "Info.plist is missing").at("Info.plist"));
    }
    match status {
        None => findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "Status.plist is missing: completion unknown",
            )
            .at("Status.plist"),
        ),
        Some(st) => {
            if st.snapshot_state.as_deref() != Some("finished") {
                findings.push(
                    Finding::new(
                        &R::BACKUP_INCOMPLETE,
                        format!(
                            "SnapshotState is {:?}, not \"finished\": the backup did not complete",
                            st.snapshot_state.as_deref().unwrap_or("absent")
                        ),
                    )
                    .at("Status.plist"),
                );
            }
            if st.is_full_backup == Some(false) {
                findings.push(
                    Finding::new(&R::BACKUP_NOT_FULL, "IsFullBackup is false").at("Status.plist"),
                );
            }
        }
    }
    if matches!(b.index, IndexKind::None) {
        findings.push(
            Finding::new(
                &R::BACKUP_MISSING_FILE,
                "neither Manifest.db nor Manifest.mbdb is present: no file index",
            )
            .at("Manifest.db"),
        );
    }
    // Plist problems recorded by the tolerant readers.
    for (name, problems) in [
        ("Manifest.plist", m.map(|x| &x.problems)),
        ("Info.plist", info.map(|x| &x.problems)),
        ("Status.plist", status.map(|x| &x.problems)),
    ] {
        for p in problems.into_iter().flatten() {
            findings.push(Finding::new(&R::BACKUP_PLIST_PROBLEM, p.clone()).at(name));
        }
    }
    // Identity consistency: Manifest Lockdown vs Info.plist vs folder name.
    if let (Some(l), Some(i)) = (lock, info) {
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
    if let (Some(udid), Some(folder)) = (&sum.udid, b.root.file_name().and_then(|f| f.to_str())) {
        let looks_like_udid =
            folder.len() >= 24 && folder.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if looks_like_udid && !folder.eq_ignore_ascii_case(udid) {
            findings.push(Finding::new(
                &R::BACKUP_IDENTITY_MISMATCH,
                format!("the folder is named {folder:?} but the device UDID is {udid:?}"),
            ));
        }
    }
    // Absent plists are already findings of their own (backup.missing-file).
    for n in b.notes.iter().filter(|n| !n.ends_with(" is absent")) {
        findings.push(Finding::new(&R::BACKUP_NOTE, n.clone()));
    }

    // Encryption: declared vs the index.
    let declared = sum.encryption.declared;
    let has_mk = m.and_then(|m| m.manifest_key.as_ref()).is_some();
    match (declared, sum.encryption.index_encrypted) {
        (Some(false) | None, Some(true)) => findings.push(
            Finding::new(&R::BACKUP_ENCRYPTION_MISMATCH, "Manifest.db is ciphertext but IsEncrypted is not true").at("Manifest.db"),
        ),
        (Some(true), Some(false)) if has_mk => findings.push(
            Finding::new(&R::BACKUP_ENCRYPTION_MISMATCH, "IsEncrypted is true and a ManifestKey is present, but Manifest.db is plaintext SQLite").at("Manifest.db"),
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
                .at("Manifest.plist"),
            );
        }
    }
    if declared == Some(false) {
        findings.push(Finding::new(
            &R::BACKUP_NOT_ENCRYPTED,
            "the backup is not encrypted: every payload is plaintext on disk, and its keychain restores only to the same device",
        ));
    }

    // Key derivation.
    if let Some(kb) = &s.keybag {
        if let Ok(p) = kb.kdf_params() {
            let scheme = p.scheme();
            sum.kdf = Some(KdfSummary {
                scheme,
                sha256_rounds: p.dpic,
                sha1_rounds: p.iter,
            });
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
        }
    }
    sum
}

fn keybag_part(s: &Session, findings: &mut Vec<Finding>) -> Option<KeybagSummary> {
    if let Some(e) = &s.keybag_error {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("the keybag does not parse: {e}"),
            )
            .at("Manifest.plist"),
        );
    }
    let kb = s.keybag.as_ref()?;
    if kb.kind.map(|t| t & 0x3FFF_FFFF) != Some(1) {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("keybag TYPE is {:?}, expected 1 (backup)", kb.kind),
            )
            .at("Manifest.plist"),
        );
    }
    for (tag, len) in &kb.unknown_tags {
        findings.push(
            Finding::new(
                &R::KEYBAG_PROBLEM,
                format!("unknown keybag tag {tag:?} ({len} bytes)"),
            )
            .at("Manifest.plist"),
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
                .at("Manifest.plist"),
            );
        }
    }
    let classes = kb
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
                name: class_name(class),
                wrap: c.wrap,
                needs: needs(c.wrap),
                device_bound: c.device_bound(),
                state,
            }
        })
        .collect();
    Some(KeybagSummary {
        version: kb.version,
        kind: kb.kind,
        uuid: kb.uuid.as_deref().map(uuid_string),
        wrap: kb.wrap,
        classes,
        unlocked: if s.class_keys.is_some() {
            Some(true)
        } else {
            None
        },
    })
}

/// The bundle-id-like part of an app-group or extension id: without a 10-character team ID
/// prefix (`243LU875E5.groups.com.apple.podcasts`) and without `group.`/`groups.`.
fn group_stem(id: &str) -> &str {
    let id = match id.split_once('.') {
        Some((team, rest))
            if team.len() == 10
                && team
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            rest
        }
        _ => id,
    };
    id.strip_prefix("group.")
        .or_else(|| id.strip_prefix("groups."))
        .unwrap_or(id)
}

/// Map index domains to the owning app: AppDomain-, AppDomainGroup- and AppDomainPlugin- domains.
struct AppMap {
    apps: BTreeMap<String, AppReport>,
}

impl AppMap {
    fn new(s: &Session) -> Self {
        let mut map = AppMap {
            apps: BTreeMap::new(),
        };
        let Some(m) = &s.backup.manifest else {
            return map;
        };
        // Manifest.plist lists plugins and app groups beside apps (real backups:
        // ContainerContentClass Data/PluginKitPlugin, Shared/AppGroup): they belong to
        // the app whose id prefixes theirs, and are apps of their own only when none does.
        let (apps, extensions): (Vec<_>, Vec<_>) = m.applications.iter().partition(|a| {
            matches!(
                a.container_content_class.as_deref(),
                None | Some("Data/Application")
            )
        });
        for a in apps.into_iter().chain(extensions) {
            let stem = a.bundle_id.as_str();
            if a.container_content_class
                .as_deref()
                .is_some_and(|c| c != "Data/Application")
                && map.owner_of(stem).is_some()
            {
                continue;
            }
            map.apps.insert(
                a.bundle_id.clone(),
                AppReport {
                    bundle_id: a.bundle_id.clone(),
                    version: a.version.clone(),
                    in_manifest: true,
                    ..Default::default()
                },
            );
        }
        map
    }

    /// The longest known bundle id that is `stem` or a dotted prefix of it.
    fn owner_of(&self, stem: &str) -> Option<String> {
        let stem = group_stem(stem);
        self.apps
            .keys()
            .filter(|b| {
                stem == b.as_str()
                    || (stem.starts_with(b.as_str()) && stem.as_bytes().get(b.len()) == Some(&b'.'))
            })
            .max_by_key(|b| b.len())
            .cloned()
    }

    /// The bundle id owning `domain`, if it is an app domain (adds unknown apps).
    fn owner(&mut self, domain: &str, group_hints: &HashMap<String, String>) -> Option<String> {
        let (kind, id) = if let Some(id) = domain.strip_prefix("AppDomain-") {
            (0, id)
        } else if let Some(id) = domain.strip_prefix("AppDomainGroup-") {
            (1, id)
        } else if let Some(id) = domain.strip_prefix("AppDomainPlugin-") {
            (2, id)
        } else {
            return None;
        };
        let owner = match kind {
            0 => id.to_string(),
            _ => {
                if let Some(h) = group_hints.get(id) {
                    h.clone()
                } else {
                    self.owner_of(id).unwrap_or_else(|| id.to_string())
                }
            }
        };
        let entry = self.apps.entry(owner.clone()).or_insert_with(|| AppReport {
            bundle_id: owner.clone(),
            ..Default::default()
        });
        if !entry.domains.iter().any(|d| d == domain) {
            entry.domains.push(domain.to_string());
        }
        Some(owner)
    }
}

/// Per-file context shared by the parallel workers.
struct FileCtx<'a> {
    backup: &'a Backup,
    keys: Option<&'a crypto::ClassKeys>,
    /// class → WRAP of the keybag class record.
    class_wrap: HashMap<u32, u32>,
    check_fileid: bool,
    deep: bool,
    deep_done: AtomicU64,
    deep_total: u64,
    deep_progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

fn kind_str(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "file",
        FileKind::Directory => "directory",
        FileKind::Symlink => "symlink",
        FileKind::Other => "other",
    }
}

/// Outcome of verifying a payload in full.
struct Deep {
    plaintext_len: u64,
    sha256: String,
    problem: Option<String>,
}

/// A writer that only hashes and counts.
struct HashSink {
    hasher: sha2::Sha256,
}

impl std::io::Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.hasher, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn deep_verify(path: &std::path::Path, key: Option<&Key32>) -> std::io::Result<Deep> {
    let mut f = std::fs::File::open(path)?;
    let mut sink = HashSink {
        hasher: <sha2::Sha256 as sha2::Digest>::new(),
    };
    let (plaintext_len, problem) = match key {
        Some(k) => {
            let o = crypto::cbc::decrypt_stream(k, &mut f, &mut sink)?;
            let problem = o.problem.map(|p| match p {
                crypto::cbc::StreamProblem::NotBlockAligned => format!(
                    "ciphertext length {} is not a non-zero multiple of 16",
                    o.ciphertext_len
                ),
                crypto::cbc::StreamProblem::BadPadding => {
                    "PKCS#7 padding is invalid (wrong key or corrupt content)".to_string()
                }
            });
            (o.plaintext_len, problem)
        }
        None => {
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0u64;
            loop {
                let r = f.read(&mut buf)?;
                if r == 0 {
                    break;
                }
                sha2::Digest::update(&mut sink.hasher, &buf[..r]);
                n += r as u64;
            }
            (n, None)
        }
    };
    Ok(Deep {
        plaintext_len,
        sha256: hex::encode(sha2::Digest::finalize(sink.hasher)),
        problem,
    })
}

/// Is a payload whose row has a key evidently not AES-CBC ciphertext? (length not a
/// multiple of 16, or a well-known plaintext header: SQLite, binary or XML plist.)
fn looks_plaintext(path: &std::path::Path, stored: u64) -> bool {
    if stored % 16 != 0 {
        return true;
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    head.starts_with(b"SQLite format 3\0")
        || head.starts_with(b"bplist00")
        || head.starts_with(b"<?xml")
}

/// Plaintext length of an encrypted payload from its last two blocks (PKCS#7 pad byte).
fn padded_len(path: &std::path::Path, stored: u64, key: &Key32) -> Result<u64, String> {
    use std::io::{Seek, SeekFrom};
    if stored == 0 || stored % 16 != 0 {
        return Err(format!(
            "ciphertext length {stored} is not a non-zero multiple of 16"
        ));
    }
    let take = stored.min(32);
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    f.seek(SeekFrom::Start(stored - take))
        .map_err(|e| e.to_string())?;
    let mut tail = [0u8; 32];
    f.read_exact(&mut tail[..take as usize])
        .map_err(|e| e.to_string())?;
    // CBC: P_last = D(C_last) xor C_prev (C_prev = zero IV for a one-block file).
    let mut prev = [0u8; 16];
    let mut last = [0u8; 16];
    if take == 32 {
        prev.copy_from_slice(&tail[..16]);
        last.copy_from_slice(&tail[16..32]);
    } else {
        last.copy_from_slice(&tail[..16]);
    }
    match crypto::cbc::pad_len_from_tail(key, &prev, &last) {
        Some(pad) => Ok(stored - pad as u64),
        None => Err("PKCS#7 padding is invalid (wrong key or corrupt content)".into()),
    }
}

fn file_report(
    ctx: &FileCtx<'_>,
    rec: &FileRecord,
    app: Option<String>,
    encrypted_backup: bool,
) -> FileReport {
    let mut findings = Vec::new();
    let loc = format!("{}/{}", rec.domain, rec.relative_path);
    let fid = FileId::parse(&rec.file_id);
    if fid.is_none() {
        findings.push(
            Finding::new(
                &R::FILE_BAD_FILEID,
                format!("fileID {:?} is not 40 lowercase hex digits", rec.file_id),
            )
            .at(loc.clone()),
        );
    }
    if ctx.check_fileid {
        let expect = FileId::compute(&rec.domain, &rec.relative_path);
        if fid.as_ref().map(|f| f.as_str()) != Some(expect.as_str()) {
            findings.push(
                Finding::new(
                    &R::FILE_ID_MISMATCH,
                    format!(
                        "fileID is {} but SHA-1(domain-relativePath) is {}",
                        rec.file_id,
                        expect.as_str()
                    ),
                )
                .at(loc.clone()),
            );
        }
    }
    for p in &rec.problems {
        findings.push(Finding::new(&R::FILE_RECORD_PROBLEM, p.clone()).at(loc.clone()));
    }
    let key_class = rec
        .encryption_key
        .as_ref()
        .filter(|k| k.len() >= 4)
        .map(|k| u32::from_le_bytes([k[0], k[1], k[2], k[3]]));
    let protection_class = rec.protection_class.or(key_class);
    if let (Some(a), Some(b)) = (rec.protection_class, key_class) {
        if a != b {
            findings.push(
                Finding::new(
                    &R::FILE_CLASS_MISMATCH,
                    format!(
                        "ProtectionClass is {a} but the EncryptionKey is wrapped with class {b}"
                    ),
                )
                .at(loc.clone()),
            );
        }
    }
    let encrypted = rec.encryption_key.is_some();
    let wrap_class = key_class.or(protection_class);
    let device_bound = encrypted
        && wrap_class
            .and_then(|c| ctx.class_wrap.get(&c))
            .is_some_and(|w| w & WRAP_DEVICE != 0);
    let mut status = "n/a";
    let mut stored_size = None;
    let mut content_size = None;
    let mut sha256 = None;
    if rec.kind == FileKind::File {
        // One stat at the expected place; the other layout only when that fails.
        let path = fid.as_ref().and_then(|f| {
            let p = ctx.backup.expected_content_path(f);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_file() => Some((p, m.len())),
                _ => ctx
                    .backup
                    .content_path(f)
                    .and_then(|p| std::fs::symlink_metadata(&p).ok().map(|m| (p, m.len()))),
            }
        });
        let path = match path {
            Some((p, len)) => {
                status = "present";
                stored_size = Some(len);
                Some(p)
            }
            None => {
                status = "missing";
                findings.push(
                    Finding::new(
                        &R::FILE_MISSING,
                        "the index lists this file but its payload is not on disk",
                    )
                    .at(loc.clone()),
                );
                None
            }
        };
        if let Some(k) = &rec.encryption_key {
            if k.len() != 44 {
                findings.push(
                    Finding::new(
                        &R::FILE_BAD_KEY,
                        format!("EncryptionKey is {} bytes, expected 44", k.len()),
                    )
                    .at(loc.clone()),
                );
            }
        } else if encrypted_backup && rec.size.unwrap_or(0) > 0 {
            findings.push(
                Finding::new(
                    &R::FILE_NOT_ENCRYPTED,
                    "a non-empty file of an encrypted backup has no EncryptionKey",
                )
                .at(loc.clone()),
            );
        }
        if device_bound {
            findings.push(
                Finding::new(
                    &R::FILE_DEVICE_BOUND,
                    format!(
                        "class {} is bound to the device: this file cannot be decrypted off it",
                        wrap_class.unwrap_or(0)
                    ),
                )
                .at(loc.clone()),
            );
        }
        // The file key, when the class key is available.
        let mut file_key = None;
        if let (Some(keys), Some(k)) = (
            ctx.keys,
            rec.encryption_key.as_ref().filter(|k| k.len() == 44),
        ) {
            let class = key_class.unwrap_or(0);
            match keys.get(class) {
                Some(ck) => match crypto::wrap::unwrap32(ck, &k[4..]) {
                    Ok(fk) => file_key = Some(fk),
                    Err(e) => findings.push(
                        Finding::new(
                            &R::FILE_KEY_UNWRAP_FAILED,
                            format!("the file key does not unwrap with class key {class}: {e}"),
                        )
                        .at(loc.clone()),
                    ),
                },
                None if !device_bound => findings.push(
                    Finding::new(
                        &R::FILE_KEY_UNWRAP_FAILED,
                        format!("class {class} has no class key in the keybag"),
                    )
                    .at(loc.clone()),
                ),
                None => {}
            }
        }
        if let (Some(stored), Some(p)) = (stored_size, path.as_ref()) {
            let plaintext_magic = encrypted && stored > 0 && looks_plaintext(p, stored);
            if plaintext_magic {
                // The row has a key but the payload is not ciphertext: a decrypted copy.
                findings.push(
                    Finding::new(
                        &R::FILE_NOT_CIPHERTEXT,
                        "the row carries an EncryptionKey but the payload is plaintext (stored decrypted)",
                    )
                    .at(loc.clone()),
                );
                content_size = Some(stored);
            } else if !encrypted || stored == 0 {
                // An empty payload is an empty file, with or without a key (iOS writes
                // zero-byte payloads for empty files and keeps their EncryptionKey).
                content_size = Some(stored);
            } else if let Some(fk) = &file_key {
                match padded_len(p, stored, fk) {
                    Ok(n) => content_size = Some(n),
                    Err(e) => {
                        findings.push(Finding::new(&R::FILE_DECRYPT_FAILED, e).at(loc.clone()))
                    }
                }
            }
            if ctx.deep && (!encrypted || stored == 0 || plaintext_magic || file_key.is_some()) {
                match deep_verify(
                    p,
                    file_key.as_ref().filter(|_| stored > 0 && !plaintext_magic),
                ) {
                    Ok(d) => {
                        if let Some(problem) = d.problem {
                            findings.push(
                                Finding::new(&R::FILE_DECRYPT_FAILED, problem).at(loc.clone()),
                            );
                        } else {
                            content_size = Some(d.plaintext_len);
                        }
                        sha256 = Some(d.sha256);
                    }
                    Err(e) => findings.push(
                        Finding::new(&R::FILE_UNREADABLE, format!("cannot read the payload: {e}"))
                            .at(loc.clone()),
                    ),
                }
                let done = ctx.deep_done.fetch_add(stored, Ordering::Relaxed) + stored;
                if let Some(cb) = ctx.deep_progress {
                    cb(done, ctx.deep_total);
                }
            }
            // Size versus what is stored.
            if let Some(size) = rec.size {
                match content_size {
                    Some(n) if n != size => findings.push(
                        Finding::new(&R::FILE_SIZE_MISMATCH, format!("recorded Size is {size} but the content is {n} bytes")).at(loc.clone()),
                    ),
                    None if encrypted && stored != 16 * (size / 16 + 1) => findings.push(
                        Finding::new(&R::FILE_SIZE_MISMATCH, format!("recorded Size {size} cannot produce {stored} bytes of AES-CBC/PKCS#7 ciphertext")).at(loc.clone()),
                    ),
                    _ => {}
                }
            }
        }
    }
    FileReport {
        domain: rec.domain.clone(),
        relative_path: rec.relative_path.clone(),
        file_id: rec.file_id.clone(),
        kind: kind_str(rec.kind),
        status,
        encrypted,
        protection_class,
        protection_class_name: protection_class.map(class_name),
        device_bound,
        size: rec.size,
        stored_size,
        content_size,
        sha256,
        target: rec.target.clone(),
        mode: rec.mode.map(|m| format!("0o{m:o}")),
        app,
        findings,
    }
}

/// Scan an opened (and possibly unlocked) backup.
pub fn scan(s: &Session, opts: &ScanOptions<'_>) -> Result<ScanReport, Error> {
    let mut findings = Vec::new();
    let mut backup = backup_part(s, &mut findings);
    let keybag = keybag_part(s, &mut findings);
    let mut report = ScanReport {
        schema: SCAN_SCHEMA,
        tool: ToolInfo::default(),
        backup: BackupSummary::default(),
        keybag,
        index_read: false,
        apps: Vec::new(),
        files: Vec::new(),
        orphans: Vec::new(),
        findings: Vec::new(),
        summary: Summary::default(),
        keychain: None,
    };
    let mut apps = AppMap::new(s);
    if opts.info_only {
        report.apps = apps.apps.into_values().collect();
        report.summary.apps = report.apps.len() as u64;
        report.backup = backup;
        report.findings = findings;
        finish_summary(&mut report);
        return Ok(report);
    }

    let records = s.records()?;
    let scan_disk = s.backup.content_files().map_err(Error::from)?;
    for o in &scan_disk.other {
        let rel = o
            .path
            .strip_prefix(&s.backup.root)
            .unwrap_or(&o.path)
            .display()
            .to_string();
        findings.push(
            Finding::new(
                &R::BACKUP_UNEXPECTED_FILE,
                format!("{} ({:?}, {} bytes)", o.reason, o.kind, o.len),
            )
            .at(rel),
        );
    }
    let on_disk = scan_disk.files;
    for n in s.notes.borrow().iter() {
        findings.push(Finding::new(&R::BACKUP_NOTE, n.clone()).at("Manifest.db"));
    }
    match records {
        None => {
            findings.push(Finding::new(
                &R::BACKUP_INDEX_LOCKED,
                format!(
                    "Manifest.db is encrypted and no password was given: files and apps' contents cannot be listed ({} payload files on disk)",
                    on_disk.len()
                ),
            ).at("Manifest.db"));
            report.summary.orphans = 0;
        }
        Some(records) => {
            report.index_read = true;
            let encrypted_backup = backup.encryption.declared == Some(true);
            let class_wrap: HashMap<u32, u32> = s
                .keybag
                .as_ref()
                .map(|k| k.classes.iter().map(|c| (c.class(), c.wrap)).collect())
                .unwrap_or_default();
            let group_hints: HashMap<String, String> = s
                .backup
                .manifest
                .iter()
                .flat_map(|m| m.applications.iter())
                .flat_map(|a| {
                    a.group_containers
                        .iter()
                        .map(move |g| (g.clone(), a.bundle_id.clone()))
                })
                .collect();
            let owners: Vec<Option<String>> = records
                .iter()
                .map(|r| apps.owner(&r.domain, &group_hints))
                .collect();
            let deep_total = if opts.deep {
                let ids: HashMap<&str, u64> = on_disk
                    .iter()
                    .map(|c| (c.file_id.as_str(), c.len))
                    .collect();
                records
                    .iter()
                    .filter_map(|r| ids.get(r.file_id.as_str()))
                    .sum()
            } else {
                0
            };
            let ctx = FileCtx {
                backup: &s.backup,
                keys: s.class_keys.as_ref(),
                class_wrap,
                check_fileid: true,
                deep: opts.deep,
                deep_done: AtomicU64::new(0),
                deep_total,
                deep_progress: opts.deep_progress,
            };
            let files: Vec<FileReport> = records
                .par_iter()
                .zip(owners.into_par_iter())
                .map(|(r, app)| file_report(&ctx, r, app, encrypted_backup))
                .collect();
            // Duplicated (domain, relativePath) pairs.
            let mut seen = HashSet::new();
            for f in &files {
                if !seen.insert((f.domain.as_str(), f.relative_path.as_str())) {
                    findings.push(
                        Finding::new(
                            &R::FILE_DUPLICATE_PATH,
                            "two index rows name this domain and path",
                        )
                        .at(format!("{}/{}", f.domain, f.relative_path)),
                    );
                }
            }
            let listed: HashSet<&str> = records.iter().map(|r| r.file_id.as_str()).collect();
            report.orphans = on_disk
                .iter()
                .filter(|c| !listed.contains(c.file_id.as_str()))
                .map(|c| Orphan {
                    file_id: c.file_id.as_str().to_string(),
                    path: c.path.display().to_string(),
                    bytes: c.len,
                })
                .collect();
            for o in &report.orphans {
                findings.push(
                    Finding::new(
                        &R::FILE_ORPHAN,
                        format!(
                            "payload {} ({} bytes) is not in the index",
                            o.file_id, o.bytes
                        ),
                    )
                    .at(o.path.clone()),
                );
            }
            let any_file = files
                .iter()
                .any(|f| f.kind == "file" && f.size.unwrap_or(0) > 0);
            let stored_plain = files
                .iter()
                .filter(|f| {
                    f.findings
                        .iter()
                        .any(|x| x.rule == R::FILE_NOT_CIPHERTEXT.id)
                })
                .count();
            backup.encryption.payloads_encrypted = if any_file {
                Some(files.iter().any(|f| f.encrypted) && stored_plain == 0)
            } else {
                None
            };
            if stored_plain > 0 {
                findings.push(Finding::new(
                    &R::BACKUP_ENCRYPTION_MISMATCH,
                    format!("{stored_plain} payloads are plaintext although their rows carry EncryptionKeys: a decrypted copy of an encrypted backup"),
                ));
            }
            if backup.encryption.declared == Some(false)
                && backup.encryption.payloads_encrypted == Some(true)
            {
                findings.push(Finding::new(
                    &R::BACKUP_ENCRYPTION_MISMATCH,
                    "IsEncrypted is false but index rows carry EncryptionKeys",
                ));
            }
            if opts.deep {
                let failed = files
                    .iter()
                    .filter(|f| {
                        f.findings.iter().any(|x| {
                            x.rule == R::FILE_DECRYPT_FAILED.id || x.rule == R::FILE_UNREADABLE.id
                        })
                    })
                    .count() as u64;
                let verified = files.iter().filter(|f| f.sha256.is_some()).count() as u64;
                report.summary.deep = Some(DeepSummary {
                    verified,
                    failed,
                    bytes: ctx.deep_done.load(Ordering::Relaxed),
                });
            }
            for f in &files {
                if let Some(app) = f.app.as_ref().and_then(|a| apps.apps.get_mut(a)) {
                    if f.kind == "file" {
                        app.files += 1;
                        match f.status {
                            "present" => app.present += 1,
                            _ => app.missing += 1,
                        }
                        app.bytes += f.content_size.or(f.size).unwrap_or(0);
                        let c = f
                            .protection_class
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "none".into());
                        *app.by_protection_class.entry(c).or_default() += 1;
                    }
                }
            }
            report.files = files;
            if !s.is_encrypted() || s.class_keys.is_some() {
                let kc = super::keychain::audit(s, &records);
                report.apps = std::mem::take(&mut apps.apps).into_values().collect();
                super::keychain::attach(&mut report, kc);
                findings.append(&mut report.findings);
            }
        }
    }
    if report.apps.is_empty() {
        report.apps = apps.apps.into_values().collect();
    }
    report.backup = backup;
    report.findings = findings;
    finish_summary(&mut report);
    Ok(report)
}

fn finish_summary(r: &mut ScanReport) {
    let s = &mut r.summary;
    s.apps = r.apps.len() as u64;
    s.orphans = r.orphans.len() as u64;
    s.entries = r.files.len() as u64;
    for f in &r.files {
        match f.kind {
            "file" => {
                s.files += 1;
                if f.status == "present" {
                    s.files_present += 1;
                    s.stored_bytes_present += f.stored_size.unwrap_or(0);
                } else {
                    s.files_missing += 1;
                }
                let bytes = f.content_size.or(f.size).unwrap_or(0);
                if f.size == Some(0) {
                    s.empty_files += 1;
                }
                s.content_bytes += bytes;
                if let Some(c) = f.protection_class {
                    let e = s.by_protection_class.entry(c.to_string()).or_default();
                    e.files += 1;
                    e.bytes += bytes;
                }
            }
            "directory" => s.directories += 1,
            "symlink" => s.symlinks += 1,
            _ => {}
        }
        if f.findings
            .iter()
            .any(|x| x.rule == R::FILE_SIZE_MISMATCH.id)
        {
            s.size_mismatch_files += 1;
        }
    }
    let mut counts = BTreeMap::new();
    for f in r
        .findings
        .iter()
        .chain(r.files.iter().flat_map(|f| f.findings.iter()))
    {
        *counts.entry(f.rule).or_insert(0u64) += 1;
    }
    s.findings = counts;
}

/// Does the report have a finding at or above `threshold`?
pub fn fails(r: &ScanReport, threshold: Severity) -> bool {
    r.max_severity().is_some_and(|s| s >= threshold)
}
