//! One keychain item as reported: where it came from, its class, restore fate, attributes, secret.

use super::blob::{self, BlobBody, BlobHeader, DecryptError, Payload};
use super::der::{DerDict, DerInt, DerValue};
use super::export::{PersistentRef, RawItem};
use super::restore::{restore_for, Restore};
use super::routes::{routes_for, Routes};
use crate::crypto::{ClassKeyState, ClassKeys, Key32, ProtectionClass};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A decrypted secret (`v_Data`): zeroized on drop, never shown by `Debug`, never serialized.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wrap the secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }
    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The secret as text when it is valid UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// Length of the secret in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// Domain-separation prefix of [`fingerprint`].
pub const FINGERPRINT_PREFIX: &[u8] = b"auditor/keychain-secret-fingerprint/v1\0";

/// First 8 bytes (16 hex digits) of SHA-256(`FINGERPRINT_PREFIX` ‖ secret).
///
/// Lets reports show that two items hold the same secret (reuse) without showing it.
/// Caution: the fingerprint is deterministic and unsalted, so a low-entropy secret (PIN,
/// short or dictionary password) can be recovered by hashing guesses; treat fingerprints of
/// a report as sensitive as the backup's metadata.
pub fn fingerprint(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(FINGERPRINT_PREFIX);
    h.update(secret);
    hex::encode(&h.finalize()[..8])
}

/// Machine-readable cause of `decryptable == false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Encrypted backup opened without the password: no class keys.
    NoPassword,
    /// Unencrypted backup: every keychain class key is wrapped with the device key.
    UnencryptedBackup,
    /// The class key needs the device's UID-derived key (WRAP has the device bit).
    DeviceBoundClassKey,
    /// The keybag record's WRAP has neither the password nor the device bit.
    NotPasswordWrapped,
    /// The keybag has no key for this class.
    ClassKeyMissing,
    /// The blob's class is unknown (header unreadable or access control without `prot`).
    UnknownClass,
    /// v4–6 access-control item: its key is an AKS ref-key, device-bound.
    AccessControlBlob,
    /// v7/v8 (on-device formats) or an unknown version.
    UnsupportedVersion,
    /// No `v_Data` (or not of type data).
    MissingData,
    /// The blob's layout is malformed (the reason names the field).
    MalformedBlob,
    /// RFC 3394 integrity failed: wrong class key.
    KeyUnwrapFailed,
    /// GCM tag mismatch: corrupt blob.
    AuthenticationFailed,
    /// CBC padding invalid: corrupt blob.
    BadPadding,
    /// Decrypted, but the payload is not a valid dictionary.
    MalformedPayload,
}

/// One keychain item. Every raw item of the export gives exactly one of these.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeychainItem {
    /// Array it came from: `genp`, `inet`, `cert`, `keys`, or an unknown table name.
    pub table: String,
    /// Position in that array.
    pub index: usize,
    pub persistent_ref: Option<PersistentRef>,
    /// Blob version (bit 31 masked), `None` when `v_Data` is missing or < 4 bytes.
    /// JSON: `version` (contract).
    #[serde(rename = "version")]
    pub blob_version: Option<u32>,
    /// Bit 31 of the version word (GCM default IV + AAD).
    pub blob_default_iv: bool,
    /// Length of `v_Data`.
    pub v_data_len: usize,
    /// SHA-256 of `v_Data` (the ciphertext; not secret), lower-case hex.
    pub v_data_sha256: Option<String>,
    /// Protection class (class word & 0x1F, or from a v4–6 access control).
    pub protection_class: Option<u32>,
    /// Class word as stored (may carry generation bits).
    pub protection_class_raw: Option<u32>,
    /// `ak` … `akpu`: from the class, or from the decrypted `pdmn` when the class is unknown.
    /// JSON: `accessibility` (contract).
    #[serde(rename = "accessibility")]
    pub pdmn: Option<String>,
    /// The decrypted `pdmn` attribute, when present.
    pub pdmn_attribute: Option<String>,
    /// `kSecAttrAccessible…` constant of `pdmn`.
    pub accessibility_constant: Option<&'static str>,
    pub this_device_only: Option<bool>,
    /// What a restore of this backup brings back.
    pub restore: Restore,
    /// Every restore route (docs/restore.md): from the class and the `sync` attribute.
    pub routes: Routes,
    pub decryptable: bool,
    /// The item's key needs the device's UID-derived key. From the keybag when class keys
    /// were given; inferred otherwise: unencrypted backup → every item; encrypted backup →
    /// ThisDeviceOnly classes (WRAP=3 in every real backup keybag seen).
    pub device_bound: bool,
    /// Why the item was not decrypted.
    pub reason: Option<String>,
    pub reason_code: Option<ReasonCode>,

    // Attributes (decrypted payload, or clear attributes of very old exports).
    pub access_group: Option<String>,
    pub service: Option<String>,
    pub account: Option<String>,
    pub server: Option<String>,
    pub port: Option<i64>,
    /// `ptcl` as its four-character code (`htps`) when it is one, else the number.
    pub protocol: Option<String>,
    pub path: Option<String>,
    pub security_domain: Option<String>,
    pub authentication_type: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    pub comment: Option<String>,
    pub synchronizable: Option<bool>,
    pub tombstone: Option<bool>,
    /// `cdat`, RFC 3339 when valid, else as stored.
    pub created: Option<String>,
    /// `mdat`, RFC 3339 when valid, else as stored.
    pub modified: Option<String>,
    /// keys: `kcls` (0 public, 1 private, 2 symmetric).
    pub key_class: Option<i64>,
    /// keys: `atag` hex.
    pub application_tag_hex: Option<String>,
    /// keys: `klbl` hex.
    pub application_label_hex: Option<String>,
    /// cert: `ctyp`.
    pub cert_type: Option<i64>,
    /// cert: `subj` present.
    pub has_subject: Option<bool>,
    /// cert: `issr` present.
    pub has_issuer: Option<bool>,
    /// cert: `slnr` hex.
    pub serial_number_hex: Option<String>,
    /// Names of all attributes of the decrypted payload (sorted), values not included.
    pub attribute_names: Vec<String>,
    /// Names of clear attributes beside `v_Data` in the export (very old exports only).
    pub clear_attribute_names: Vec<String>,
    /// Owning app, filled by `KeychainReport::attribute_apps`.
    pub app: Option<String>,

    /// The secret (`v_Data` of the payload, or the v0/v1 plaintext). Never serialized.
    #[serde(skip)]
    pub secret: Option<Secret>,
    pub secret_len: Option<usize>,
    /// See [`fingerprint`]. JSON: `fingerprint` (contract).
    #[serde(rename = "fingerprint")]
    pub secret_fingerprint: Option<String>,
    /// Non-fatal oddities of this item (pdmn mismatch, persistent ref in another table, …).
    pub problems: Vec<String>,
}

impl KeychainItem {
    /// The item of `raw` before its blob is read: undecryptable, no class, no attributes.
    fn empty(raw: &RawItem, backup_encrypted: bool) -> KeychainItem {
        KeychainItem {
            table: raw.table.clone(),
            index: raw.index,
            persistent_ref: raw.persistent_ref.clone(),
            blob_version: None,
            blob_default_iv: false,
            v_data_len: raw.v_data.as_ref().map_or(0, Vec::len),
            v_data_sha256: raw.v_data.as_ref().map(|d| hex::encode(Sha256::digest(d))),
            protection_class: None,
            protection_class_raw: None,
            pdmn: None,
            pdmn_attribute: None,
            accessibility_constant: None,
            this_device_only: None,
            restore: restore_for(None, backup_encrypted),
            routes: Routes::UNKNOWN,
            decryptable: false,
            device_bound: false,
            reason: None,
            reason_code: None,
            access_group: None,
            service: None,
            account: None,
            server: None,
            port: None,
            protocol: None,
            path: None,
            security_domain: None,
            authentication_type: None,
            label: None,
            description: None,
            comment: None,
            synchronizable: None,
            tombstone: None,
            created: None,
            modified: None,
            key_class: None,
            application_tag_hex: None,
            application_label_hex: None,
            cert_type: None,
            has_subject: None,
            has_issuer: None,
            serial_number_hex: None,
            attribute_names: Vec::new(),
            clear_attribute_names: raw.clear_attributes.keys().map(str::to_owned).collect(),
            app: None,
            secret: None,
            secret_len: None,
            secret_fingerprint: None,
            problems: raw.problems.clone(),
        }
    }

    /// Mark the item undecryptable with `code` and `reason`.
    fn fail(&mut self, code: ReasonCode, reason: impl Into<String>) {
        self.decryptable = false;
        self.reason_code = Some(code);
        self.reason = Some(reason.into());
    }

    /// Set the protection class and what follows from it (pdmn, accessibility, restore).
    fn set_class(&mut self, class: Option<u32>, backup_encrypted: bool) {
        self.protection_class = class;
        if let Some(c) = class.map(ProtectionClass::new) {
            self.pdmn = c.pdmn().map(str::to_owned);
            self.accessibility_constant = c.accessibility();
            self.this_device_only = c.this_device_only();
        }
        self.restore = restore_for(class, backup_encrypted);
    }

    /// Build the report item of `raw`: read the clear header, decrypt with `keys` when given.
    pub fn from_raw(
        raw: &RawItem,
        keys: Option<&ClassKeys>,
        backup_encrypted: bool,
    ) -> KeychainItem {
        let mut item = KeychainItem::read(raw, keys, backup_encrypted);
        item.routes = routes_for(item.protection_class, item.synchronizable);
        item
    }

    /// [`KeychainItem::from_raw`] before its routes are set.
    fn read(raw: &RawItem, keys: Option<&ClassKeys>, backup_encrypted: bool) -> KeychainItem {
        let mut item = KeychainItem::empty(raw, backup_encrypted);
        item.read_clear_parts(raw);
        let Some(bytes) = raw.v_data.as_deref() else {
            item.fail(ReasonCode::MissingData, "item has no v_Data blob");
            return item;
        };
        let parsed = blob::parse(bytes);
        let h = &parsed.header;
        item.read_header(h, backup_encrypted);
        let body = match &parsed.body {
            Ok(b) => b,
            Err(e) => {
                item.fail(ReasonCode::MalformedBlob, format!("malformed blob: {e}"));
                return item;
            }
        };
        if !item.body_is_decryptable(body) {
            return item;
        }
        let Some(keys) = keys else {
            item.fail_without_keys(backup_encrypted);
            return item;
        };
        let Some(class) = h.class else {
            item.fail(ReasonCode::UnknownClass, "blob class is unknown");
            return item;
        };
        let Some(key) = item.class_key(keys, class) else {
            return item;
        };
        item.decrypt_body(h, body, key);
        item
    }

    /// Clear attributes of very old exports, and a persistent ref that names another table.
    fn read_clear_parts(&mut self, raw: &RawItem) {
        if !raw.clear_attributes.is_empty() {
            self.fill_attributes(&raw.clear_attributes);
        }
        if let Some(pr) = raw.persistent_ref.as_ref().and_then(|p| p.table.as_deref()) {
            if pr != raw.table {
                self.problems.push(format!(
                    "persistent ref names table {pr:?} but the item is in {:?}",
                    raw.table
                ));
            }
        }
    }

    /// Version, IV flag and class from the blob's clear header; an unknown class is a problem.
    fn read_header(&mut self, h: &BlobHeader, backup_encrypted: bool) {
        self.blob_version = h.version;
        self.blob_default_iv = h.default_iv;
        self.protection_class_raw = h.class_raw;
        self.set_class(h.class, backup_encrypted);
        if let Some(c) = h.class {
            if ProtectionClass::new(c).pdmn().is_none() {
                self.problems.push(format!(
                    "protection class {c} is not a known keychain class (6..12)"
                ));
            }
        }
    }

    /// False (and the item failed) for unsupported versions and access-control blobs.
    fn body_is_decryptable(&mut self, body: &BlobBody<'_>) -> bool {
        match body {
            BlobBody::Unsupported { version } => {
                let what = match version {
                    7 | 8 => "an on-device format (protobuf, keychain database only)",
                    _ => "unknown",
                };
                self.fail(
                    ReasonCode::UnsupportedVersion,
                    format!("blob version {version} is {what}; not supported"),
                );
                false
            }
            BlobBody::AccessControl {
                protection_problem, ..
            } => {
                self.device_bound = true;
                let mut r = "access-control item (blob v4-6): its key is an AKS reference key, bound to the device".to_owned();
                if let Some(p) = protection_problem {
                    r.push_str(&format!("; class unknown: {p}"));
                }
                self.fail(ReasonCode::AccessControlBlob, r);
                false
            }
            BlobBody::Cbc { .. } | BlobBody::Gcm { .. } => true,
        }
    }

    /// Fail an item read without class keys: no password, or an unencrypted backup.
    fn fail_without_keys(&mut self, backup_encrypted: bool) {
        if backup_encrypted {
            self.device_bound = self.this_device_only.unwrap_or(false);
            self.fail(
                ReasonCode::NoPassword,
                "no password given: class keys are not available",
            );
        } else {
            self.device_bound = true;
            self.fail(
                ReasonCode::UnencryptedBackup,
                "unencrypted backup: keychain class keys are wrapped with the device key (key 0x835)",
            );
        }
    }

    /// The available key of `class`, or `None` with the item failed for why it is not.
    fn class_key<'k>(&mut self, keys: &'k ClassKeys, class: u32) -> Option<&'k Key32> {
        match keys.keys.get(&class) {
            Some(ClassKeyState::Available(k)) => Some(k),
            Some(ClassKeyState::DeviceBound) => {
                self.device_bound = true;
                self.fail(
                    ReasonCode::DeviceBoundClassKey,
                    format!(
                        "class {class} key needs the device key (keybag WRAP has the device bit)"
                    ),
                );
                None
            }
            Some(ClassKeyState::NotPasswordWrapped) => {
                self.fail(
                    ReasonCode::NotPasswordWrapped,
                    format!("class {class} key has neither the password nor the device WRAP bit: no known way to open it"),
                );
                None
            }
            None => {
                self.fail(
                    ReasonCode::ClassKeyMissing,
                    format!("keybag has no class {class} key"),
                );
                None
            }
        }
    }

    /// Decrypt the body with the class key: the secret and attributes, or the failure reason.
    fn decrypt_body(&mut self, h: &BlobHeader, body: &BlobBody<'_>, key: &Key32) {
        match blob::decrypt(h, body, key) {
            Ok(Payload::RawSecret(s)) => {
                self.decryptable = true;
                self.set_secret(&s);
            }
            Ok(Payload::Attributes(d)) => {
                self.decryptable = true;
                self.fill_attributes(&d);
                self.attribute_names = {
                    let mut n: Vec<String> = d.keys().map(str::to_owned).collect();
                    n.sort();
                    n
                };
                if let Some(s) = d.get_data("v_Data") {
                    self.set_secret(s);
                }
            }
            Err(e) => {
                let code = match e {
                    DecryptError::KeyUnwrap => ReasonCode::KeyUnwrapFailed,
                    DecryptError::AuthenticationFailed => ReasonCode::AuthenticationFailed,
                    DecryptError::BadPadding => ReasonCode::BadPadding,
                    DecryptError::Payload(_) => ReasonCode::MalformedPayload,
                    DecryptError::Crypto(_) | DecryptError::NotDecryptable => {
                        ReasonCode::MalformedBlob
                    }
                };
                self.fail(code, e.to_string());
            }
        }
    }

    /// Keep the secret with its length and fingerprint.
    fn set_secret(&mut self, s: &[u8]) {
        self.secret_len = Some(s.len());
        self.secret_fingerprint = Some(fingerprint(s));
        self.secret = Some(Secret::new(s.to_vec()));
    }

    /// Copy the known attributes of `d` onto the item (present ones only).
    fn fill_attributes(&mut self, d: &DerDict) {
        /// Overwrite `slot` only when `v` is present.
        fn set<T>(slot: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *slot = v;
            }
        }
        set(&mut self.access_group, d.get_str("agrp"));
        set(&mut self.service, d.get_str("svce"));
        set(&mut self.account, d.get_str("acct"));
        set(&mut self.server, d.get_str("srvr"));
        set(&mut self.port, d.get_int("port"));
        set(&mut self.protocol, d.get("ptcl").and_then(text_or_fourcc));
        set(&mut self.path, d.get_str("path"));
        set(&mut self.security_domain, d.get_str("sdmn"));
        set(
            &mut self.authentication_type,
            d.get("atyp").and_then(text_or_fourcc),
        );
        set(&mut self.label, d.get_str("labl"));
        set(&mut self.description, d.get_str("desc"));
        set(&mut self.comment, d.get_str("icmt"));
        set(&mut self.synchronizable, d.get_bool("sync"));
        set(&mut self.tombstone, d.get_bool("tomb"));
        set(&mut self.created, d.get_date("cdat").map(|x| x.display()));
        set(&mut self.modified, d.get_date("mdat").map(|x| x.display()));
        set(&mut self.key_class, d.get_int("kcls"));
        set(
            &mut self.application_tag_hex,
            d.get_data("atag").map(hex::encode),
        );
        set(
            &mut self.application_label_hex,
            d.get_data("klbl").map(hex::encode),
        );
        set(&mut self.cert_type, d.get_int("ctyp"));
        set(
            &mut self.serial_number_hex,
            d.get_data("slnr").map(hex::encode),
        );
        if self.table == "cert" || d.get("subj").is_some() {
            self.has_subject = Some(d.get("subj").is_some());
            self.has_issuer = Some(d.get("issr").is_some());
        }
        if let Some(p) = d.get_str("pdmn") {
            let from_pdmn = ProtectionClass::from_pdmn(&p);
            match (
                from_pdmn.map(ProtectionClass::number),
                self.protection_class,
            ) {
                (Some(pc), Some(hc)) if pc != hc => self.problems.push(format!(
                    "pdmn attribute {p:?} (class {pc}) disagrees with the blob's class {hc}"
                )),
                (None, _) => self.problems.push(format!(
                    "pdmn attribute {p:?} is not a known keychain class"
                )),
                _ => {}
            }
            if self.protection_class.is_none() {
                if let Some(pc) = from_pdmn {
                    self.pdmn = Some(p.clone());
                    self.accessibility_constant = pc.accessibility();
                    self.this_device_only = pc.this_device_only();
                }
            }
            self.pdmn_attribute = Some(p);
        }
        if let Some(c) = d.get_str("class") {
            if c != self.table {
                self.problems.push(format!(
                    "class attribute {c:?} disagrees with the table {:?}",
                    self.table
                ));
            }
        }
    }
}

/// A string as is; data as UTF-8 (or hex); a number as its four-character code when all four
/// bytes are printable ASCII, else in decimal.
fn text_or_fourcc(v: &DerValue) -> Option<String> {
    match v {
        DerValue::String(s) => Some(s.clone()),
        DerValue::Data(d) => Some(
            std::str::from_utf8(d)
                .map(str::to_owned)
                .unwrap_or_else(|_| hex::encode(d)),
        ),
        DerValue::Integer(DerInt::Int(i)) => {
            let b = u32::try_from(*i).ok().map(u32::to_be_bytes);
            match b {
                Some(b) if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') && b[0] != b' ' => {
                    Some(String::from_utf8_lossy(&b).into_owned())
                }
                _ => Some(i.to_string()),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_value() {
        // python3: hashlib.sha256(b"auditor/keychain-secret-fingerprint/v1\0" + b"hunter2").hexdigest()[:16]
        assert_eq!(fingerprint(b"hunter2"), "6a21c922ce016dc7");
        assert_eq!(fingerprint(b""), "e3ecb6d81e945062");
    }

    #[test]
    fn fourcc() {
        assert_eq!(
            text_or_fourcc(&DerValue::Integer(DerInt::Int(0x6874_7073))).as_deref(),
            Some("htps")
        );
        assert_eq!(
            text_or_fourcc(&DerValue::Integer(DerInt::Int(443))).as_deref(),
            Some("443")
        );
        assert_eq!(
            text_or_fourcc(&DerValue::Integer(DerInt::Int(-1))).as_deref(),
            Some("-1")
        );
        assert_eq!(
            text_or_fourcc(&DerValue::String("dflt".into())).as_deref(),
            Some("dflt")
        );
        assert_eq!(text_or_fourcc(&DerValue::Null), None);
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "Secret(<7 bytes redacted>)");
        assert_eq!(s.as_utf8(), Some("hunter2"));
    }
}
