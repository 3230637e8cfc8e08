//! The `BackupKeyBag` TLV: parsing (no secrets needed) and unlocking class keys with a KEK.

use super::kdf::KdfParams;
use super::{wrap, CryptoError, Key32};
use aes::cipher::consts::U16;
use aes::cipher::{Array, BlockModeDecrypt, KeyIvInit};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// WRAP bit: key is wrapped with the device's UID-derived key (0x835).
pub const WRAP_DEVICE: u32 = 1;
/// WRAP bit: key is wrapped with the password-derived KEK.
pub const WRAP_PASSCODE: u32 = 2;

/// One class record of the keybag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRecord {
    pub uuid: Option<Vec<u8>>,
    /// CLAS as stored (may carry high "generation" bits; see `class()`).
    pub clas_raw: u32,
    pub wrap: u32,
    pub ktyp: Option<u32>,
    pub wpky: Vec<u8>,
    pub pbky: Option<Vec<u8>>,
}

impl ClassRecord {
    /// Protection class number with generation bits masked off.
    pub fn class(&self) -> u32 {
        self.clas_raw & 0x1F
    }
    /// Needs the device key (WRAP bit 1) in addition to / instead of the password.
    pub fn device_bound(&self) -> bool {
        self.wrap & WRAP_DEVICE != 0
    }
}

/// A parsed keybag (public part only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keybag {
    pub version: Option<u32>,
    pub kind: Option<u32>,
    pub uuid: Option<Vec<u8>>,
    pub hmck: Option<Vec<u8>>,
    pub wrap: Option<u32>,
    pub salt: Option<Vec<u8>>,
    pub iter: Option<u32>,
    pub dpwt: Option<u32>,
    pub dpic: Option<u32>,
    pub dpsl: Option<Vec<u8>>,
    pub classes: Vec<ClassRecord>,
    /// Tags the parser did not know, with their lengths (kept, not fatal). Class tags
    /// (`CLAS`, `KTYP`, `WPKY`, `PBKY`) met before the first class record land here too.
    pub unknown_tags: Vec<(String, usize)>,
    /// Bytes after the last complete record that are too few (< 8) to hold a tag and a
    /// length (0 in every real keybag seen).
    pub trailing_bytes: usize,
}

/// The state of one class key after unlocking.
pub enum ClassKeyState {
    /// The class key is available.
    Available(Key32),
    /// The class key needs the device's UID-derived key, which was not given.
    DeviceBound,
    /// The class record's WRAP has neither the passcode bit (2) nor the device bit (1),
    /// so there is nothing this tool knows how to open (never seen in real keybags).
    NotPasswordWrapped,
}

/// Class keys after a successful unlock, by class number.
pub struct ClassKeys {
    pub keys: BTreeMap<u32, ClassKeyState>,
}

impl ClassKeys {
    /// The key of `class` if it is available.
    pub fn get(&self, class: u32) -> Option<&Key32> {
        match self.keys.get(&class) {
            Some(ClassKeyState::Available(k)) => Some(k),
            _ => None,
        }
    }
}

/// Largest keybag accepted (real backup keybags are 1.2–1.8 KB).
pub const MAX_KEYBAG_LEN: usize = 64 * 1024;
/// Most class records accepted (real keybags have 11, modern ones 14).
pub const MAX_CLASSES: usize = 64;
/// Most unknown tags recorded before the keybag is refused.
pub const MAX_UNKNOWN_TAGS: usize = 256;

/// Printable form of a tag for messages (non-ASCII bytes escaped).
fn tag_name(tag: &[u8]) -> String {
    tag.escape_ascii().to_string()
}

fn be_u32(tag: &[u8], value: &[u8], offset: usize) -> Result<u32, CryptoError> {
    let arr: [u8; 4] = value.try_into().map_err(|_| {
        CryptoError::Keybag(format!(
            "tag {} at offset {offset} is an integer tag but has length {} (expected 4)",
            tag_name(tag),
            value.len()
        ))
    })?;
    Ok(u32::from_be_bytes(arr))
}

/// A class record while it is being read (fields optional until the record ends).
#[derive(Default)]
struct PartialClass {
    uuid: Option<Vec<u8>>,
    offset: usize,
    clas: Option<u32>,
    wrap: Option<u32>,
    ktyp: Option<u32>,
    wpky: Option<Vec<u8>>,
    pbky: Option<Vec<u8>>,
}

impl PartialClass {
    fn finish(self, index: usize) -> Result<ClassRecord, CryptoError> {
        let missing = |what: &str| {
            CryptoError::Keybag(format!(
                "class record #{index} (UUID at offset {}) has no {what}",
                self.offset
            ))
        };
        Ok(ClassRecord {
            clas_raw: self.clas.ok_or_else(|| missing("CLAS"))?,
            wrap: self.wrap.ok_or_else(|| missing("WRAP"))?,
            wpky: self.wpky.clone().ok_or_else(|| missing("WPKY"))?,
            uuid: self.uuid,
            ktyp: self.ktyp,
            pbky: self.pbky,
        })
    }
}

/// AES-128-CBC, zero IV, no padding: how WRAP bit 1 keys are encrypted with key 0x835.
fn device_decrypt(device_key: &[u8; 16], data: &[u8]) -> Option<Key32> {
    let mut buf = Zeroizing::new(<[u8; 32]>::try_from(data).ok()?);
    let mut dec =
        cbc::Decryptor::<aes::Aes128>::new(device_key.into(), &Array::<u8, U16>::default());
    let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(&mut buf[..]);
    dec.decrypt_blocks(blocks);
    Some(Key32::new(*buf))
}

impl Keybag {
    /// Parse the raw TLV. Refuses lengths beyond the buffer, non-4-byte integer tags,
    /// and absurd record counts; tolerates unknown tags.
    ///
    /// Stateful as §3 of FORMAT.md: the first `UUID` is the keybag's, every later `UUID`
    /// opens a class record; `WRAP` before the second `UUID` is the header's, after it the
    /// class's. Header tags are taken wherever they appear. A class record must carry
    /// `CLAS`, `WRAP` and `WPKY`.
    pub fn parse(bytes: &[u8]) -> Result<Keybag, CryptoError> {
        if bytes.len() > MAX_KEYBAG_LEN {
            return Err(CryptoError::Keybag(format!(
                "{} bytes is too large for a keybag (limit {MAX_KEYBAG_LEN})",
                bytes.len()
            )));
        }
        let mut kb = Keybag {
            version: None,
            kind: None,
            uuid: None,
            hmck: None,
            wrap: None,
            salt: None,
            iter: None,
            dpwt: None,
            dpic: None,
            dpsl: None,
            classes: Vec::new(),
            unknown_tags: Vec::new(),
            trailing_bytes: 0,
        };
        let mut seen_uuid = false;
        let mut current: Option<PartialClass> = None;
        let mut offset = 0usize;
        while let Some(head) = bytes.get(offset..offset.saturating_add(8)) {
            let (tag, len) = head.split_at(4);
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let start = offset + 8;
            let value = start
                .checked_add(len)
                .and_then(|end| bytes.get(start..end))
                .ok_or_else(|| {
                    CryptoError::Keybag(format!(
                        "tag {} at offset {offset} has length {len}, beyond the end of the {}-byte keybag",
                        tag_name(tag),
                        bytes.len()
                    ))
                })?;
            let int = || be_u32(tag, value, offset);
            match (tag, current.as_mut()) {
                (b"UUID", _) if !seen_uuid => {
                    seen_uuid = true;
                    kb.uuid = Some(value.to_vec());
                }
                (b"UUID", _) => {
                    if let Some(done) = current.take() {
                        kb.classes.push(done.finish(kb.classes.len())?);
                    }
                    if kb.classes.len() >= MAX_CLASSES {
                        return Err(CryptoError::Keybag(format!(
                            "more than {MAX_CLASSES} class records"
                        )));
                    }
                    current = Some(PartialClass {
                        uuid: Some(value.to_vec()),
                        offset,
                        ..Default::default()
                    });
                }
                (b"WRAP", Some(c)) => c.wrap = Some(int()?),
                (b"CLAS", Some(c)) => c.clas = Some(int()?),
                (b"KTYP", Some(c)) => c.ktyp = Some(int()?),
                (b"WPKY", Some(c)) => c.wpky = Some(value.to_vec()),
                (b"PBKY", Some(c)) => c.pbky = Some(value.to_vec()),
                (b"WRAP", None) => kb.wrap = Some(int()?),
                (b"VERS", _) => kb.version = Some(int()?),
                (b"TYPE", _) => kb.kind = Some(int()?),
                (b"ITER", _) => kb.iter = Some(int()?),
                (b"DPWT", _) => kb.dpwt = Some(int()?),
                (b"DPIC", _) => kb.dpic = Some(int()?),
                (b"HMCK", _) => kb.hmck = Some(value.to_vec()),
                (b"SALT", _) => kb.salt = Some(value.to_vec()),
                (b"DPSL", _) => kb.dpsl = Some(value.to_vec()),
                (b"CLAS" | b"KTYP", None) => {
                    // Still an integer tag: refuse a malformed one even out of place.
                    int()?;
                    push_unknown(&mut kb.unknown_tags, tag, len)?;
                }
                _ => push_unknown(&mut kb.unknown_tags, tag, len)?,
            }
            offset = start + len;
        }
        if let Some(done) = current.take() {
            kb.classes.push(done.finish(kb.classes.len())?);
        }
        kb.trailing_bytes = bytes.len() - offset.min(bytes.len());
        Ok(kb)
    }

    /// The derivation parameters (`SALT`/`ITER` and, on iOS ≥ 10.2, `DPSL`/`DPIC`).
    /// Errors when `SALT` or `ITER` is missing, or when only one of `DPSL`/`DPIC` is.
    pub fn kdf_params(&self) -> Result<KdfParams, CryptoError> {
        let salt = self
            .salt
            .clone()
            .ok_or_else(|| CryptoError::Keybag("no SALT tag (PBKDF2-SHA1 salt)".into()))?;
        let iter = self
            .iter
            .ok_or_else(|| CryptoError::Keybag("no ITER tag (PBKDF2-SHA1 rounds)".into()))?;
        match (&self.dpsl, self.dpic) {
            (Some(_), None) => Err(CryptoError::Keybag("DPSL present without DPIC".into())),
            (None, Some(_)) => Err(CryptoError::Keybag("DPIC present without DPSL".into())),
            _ => Ok(KdfParams {
                dpsl: self.dpsl.clone(),
                dpic: self.dpic,
                salt,
                iter,
            }),
        }
    }

    /// Unwrap every class key with the KEK. A WRAP&2 key that fails RFC 3394 integrity
    /// means the password is wrong (`CryptoError::WrongPassword`). With `device_key`
    /// (16-byte UID-derived key 0x835), WRAP&1 keys are then AES-128-CBC(zero IV)
    /// decrypted with it; without it they are `DeviceBound`.
    ///
    /// Every WRAP&2 key is checked: when none unwraps the password is wrong
    /// (`WrongPassword`); when some unwrap and others do not the keybag is corrupt
    /// (`PartialUnwrap`, naming the failing classes). A WPKY that is not 40 bytes (WRAP&2)
    /// or, when the device key is used, whose device-encrypted key is not 32 bytes, a
    /// device key that is not 16 bytes, and two records of the same class are `Keybag`
    /// / `BadLength` errors. Keys are indexed by `ClassRecord::class()`.
    pub fn unlock(&self, kek: &Key32, device_key: Option<&[u8]>) -> Result<ClassKeys, CryptoError> {
        let device_key: Option<[u8; 16]> = match device_key {
            None => None,
            Some(d) => Some(d.try_into().map_err(|_| CryptoError::BadLength {
                what: "device key (0x835)",
                got: d.len(),
                expected: "16",
            })?),
        };
        let device_key = device_key.map(Zeroizing::new);
        let mut keys = BTreeMap::new();
        let mut failed = Vec::new();
        let mut unwrapped = 0usize;
        for rec in &self.classes {
            let class = rec.class();
            if keys.contains_key(&class) || failed.contains(&class) {
                return Err(CryptoError::Keybag(format!(
                    "class {class} has more than one record"
                )));
            }
            // Stage 1: the password KEK (RFC 3394).
            let after_kek: Option<Key32> = if rec.wrap & WRAP_PASSCODE != 0 {
                match wrap::unwrap32(kek, &rec.wpky) {
                    Ok(k) => {
                        unwrapped += 1;
                        Some(k)
                    }
                    Err(CryptoError::UnwrapIntegrity) => {
                        failed.push(class);
                        continue;
                    }
                    Err(_) => {
                        return Err(CryptoError::Keybag(format!(
                            "class {class}: WPKY is {} bytes, a password-wrapped key must be 40",
                            rec.wpky.len()
                        )))
                    }
                }
            } else {
                None
            };
            // Stage 2: the device key (AES-128-CBC, zero IV, no padding).
            let state = if rec.wrap & WRAP_DEVICE != 0 {
                match &device_key {
                    None => ClassKeyState::DeviceBound,
                    Some(dk) => {
                        let input: &[u8] = match &after_kek {
                            Some(k) => k.as_bytes(),
                            None => &rec.wpky,
                        };
                        let k = device_decrypt(dk, input).ok_or_else(|| {
                            CryptoError::Keybag(format!(
                                "class {class}: device-wrapped key is {} bytes, expected 32",
                                input.len()
                            ))
                        })?;
                        ClassKeyState::Available(k)
                    }
                }
            } else {
                match after_kek {
                    Some(k) => ClassKeyState::Available(k),
                    None => ClassKeyState::NotPasswordWrapped,
                }
            };
            keys.insert(class, state);
        }
        if !failed.is_empty() {
            return Err(if unwrapped == 0 {
                CryptoError::WrongPassword
            } else {
                CryptoError::PartialUnwrap { failed, unwrapped }
            });
        }
        Ok(ClassKeys { keys })
    }
}

fn push_unknown(
    list: &mut Vec<(String, usize)>,
    tag: &[u8],
    len: usize,
) -> Result<(), CryptoError> {
    if list.len() >= MAX_UNKNOWN_TAGS {
        return Err(CryptoError::Keybag(format!(
            "more than {MAX_UNKNOWN_TAGS} unknown tags"
        )));
    }
    list.push((tag_name(tag), len));
    Ok(())
}

/// A keybag UUID as text: 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lower case); other lengths → plain hex.
pub fn format_uuid(b: &[u8]) -> String {
    let h = hex::encode(b);
    if b.len() != 16 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::kdf::{derive_kek, KdfScheme};
    use crate::crypto::Password;
    use std::path::Path;

    use crate::test_support::shared;

    /// `BackupKeyBag` of a Manifest.plist (or the file itself when it is a raw `.bin`).
    fn keybag_bytes(path: &Path) -> Vec<u8> {
        if path.extension().is_some_and(|e| e == "bin") {
            return std::fs::read(path).unwrap();
        }
        let v = plist::Value::from_file(path).unwrap();
        v.as_dictionary()
            .unwrap()
            .get("BackupKeyBag")
            .unwrap()
            .as_data()
            .unwrap()
            .to_vec()
    }

    fn expected(dir: &str) -> Option<(serde_json::Value, Vec<u8>)> {
        let d = shared(&format!("conformance/{dir}"))?;
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("EXPECTED.json")).unwrap())
                .unwrap();
        let udid = e["udid"].as_str().unwrap().to_string();
        Some((e, keybag_bytes(&d.join(udid).join("Manifest.plist"))))
    }

    fn kek_for(kb: &Keybag, pw: &str) -> Key32 {
        derive_kek(
            &Password::new(pw.as_bytes().to_vec()),
            &kb.kdf_params().unwrap(),
            &mut |_| {},
        )
    }

    fn hex_of(state: Option<&ClassKeyState>) -> String {
        match state {
            Some(ClassKeyState::Available(k)) => k.to_hex().to_string(),
            Some(ClassKeyState::DeviceBound) => "device-bound".into(),
            Some(ClassKeyState::NotPasswordWrapped) => "not-password-wrapped".into(),
            None => "absent".into(),
        }
    }

    fn wraps(kb: &Keybag) -> Vec<(u32, u32)> {
        kb.classes.iter().map(|c| (c.clas_raw, c.wrap)).collect()
    }

    #[test]
    fn conformance_small_encrypted() {
        let Some((e, bytes)) = expected("small-encrypted") else {
            return;
        };
        let kb = Keybag::parse(&bytes).unwrap();
        assert_eq!(kb.version, Some(4));
        assert_eq!(kb.kind, Some(1));
        assert_eq!(kb.wrap, Some(0));
        assert_eq!(kb.classes.len(), 11);
        assert!(kb.unknown_tags.is_empty());
        assert_eq!(kb.trailing_bytes, 0);
        let classes = e["keybag"]["classes"].as_object().unwrap();
        for c in &kb.classes {
            assert_eq!(
                u64::from(c.wrap),
                classes[&c.class().to_string()]["wrap"].as_u64().unwrap()
            );
            assert_eq!(c.wpky.len(), 40);
            assert_eq!(c.ktyp, Some(0));
        }
        let p = kb.kdf_params().unwrap();
        assert_eq!(p.scheme(), KdfScheme::TwoStage);
        assert_eq!(p.dpic, Some(1000));
        assert_eq!(p.iter, 10);
        assert_eq!(
            hex::encode(p.dpsl.as_ref().unwrap()),
            e["kdf"]["dpsl_hex"].as_str().unwrap()
        );
        assert_eq!(hex::encode(&p.salt), e["kdf"]["salt_hex"].as_str().unwrap());

        let kek = kek_for(&kb, e["password"].as_str().unwrap());
        assert_eq!(
            &*kek.to_hex(),
            e["kdf"]["passcode_key_hex"].as_str().unwrap()
        );

        // Password alone: WRAP=2 keys available, WRAP=3 device-bound.
        let keys = kb.unlock(&kek, None).unwrap();
        assert_eq!(keys.keys.len(), 11);
        for (n, c) in classes {
            let n: u32 = n.parse().unwrap();
            let want = if c["wrap"] == 3 {
                "device-bound".to_string()
            } else {
                c["key_hex"].as_str().unwrap().to_string()
            };
            assert_eq!(hex_of(keys.keys.get(&n)), want, "class {n}");
        }
        assert!(keys.get(9).is_none());
        assert!(keys.get(4).is_some());

        // With the device key every class opens.
        let dk = hex::decode(e["keybag"]["device_key_835_hex"].as_str().unwrap()).unwrap();
        let keys = kb.unlock(&kek, Some(&dk)).unwrap();
        for (n, c) in classes {
            let n: u32 = n.parse().unwrap();
            assert_eq!(
                hex_of(keys.keys.get(&n)),
                c["key_hex"].as_str().unwrap(),
                "class {n}"
            );
        }

        // Wrong password.
        let bad = kek_for(&kb, "oracle-small-pw!");
        assert!(matches!(
            kb.unlock(&bad, None),
            Err(CryptoError::WrongPassword)
        ));
        // Device key of the wrong length.
        assert!(matches!(
            kb.unlock(&kek, Some(&dk[..15])),
            Err(CryptoError::BadLength { got: 15, .. })
        ));
    }

    #[test]
    fn conformance_small_unencrypted() {
        let Some((e, bytes)) = expected("small-unencrypted") else {
            return;
        };
        let kb = Keybag::parse(&bytes).unwrap();
        assert_eq!(bytes.len(), 1248, "148-byte header + 11 × 100-byte records");
        assert_eq!(
            kb.wrap,
            Some(1),
            "header WRAP of an unencrypted backup keybag"
        );
        assert_eq!(kb.classes.len(), 11);
        assert!(kb.classes.iter().all(|c| c.wrap == 1 && c.wpky.len() == 32));
        let p = kb.kdf_params().unwrap();
        assert_eq!(p.scheme(), KdfScheme::LegacySha1);
        assert_eq!(p.iter, 10000);
        assert_eq!(e["kdf"]["iter"], 10000);
        // No password: any KEK; without the device key everything is device-bound.
        let kek = Key32::new([0; 32]);
        let keys = kb.unlock(&kek, None).unwrap();
        assert!(keys
            .keys
            .values()
            .all(|s| matches!(s, ClassKeyState::DeviceBound)));
        assert_eq!(keys.keys.len(), 11);
        // The device key decrypts the raw 32-byte WPKY (AES-128-CBC, zero IV).
        let dk = hex::decode(e["keybag"]["device_key_835_hex"].as_str().unwrap()).unwrap();
        let keys = kb.unlock(&kek, Some(&dk)).unwrap();
        for (n, c) in e["keybag"]["classes"].as_object().unwrap() {
            let n: u32 = n.parse().unwrap();
            assert_eq!(c["wrap"], 1);
            assert_eq!(
                hex_of(keys.keys.get(&n)),
                c["key_hex"].as_str().unwrap(),
                "class {n}"
            );
        }
    }

    /// The class table of real iOS 9.3 / 10.2 keybags (stored order 11 … 1).
    const REAL_TABLE: [(u32, u32); 11] = [
        (11, 3),
        (10, 3),
        (9, 3),
        (8, 2),
        (7, 2),
        (6, 2),
        (5, 3),
        (4, 2),
        (3, 2),
        (2, 2),
        (1, 2),
    ];

    fn assert_real_header(kb: &Keybag, version: u32, two_stage: bool) {
        assert_eq!(kb.version, Some(version));
        assert_eq!(kb.kind, Some(1));
        assert_eq!(kb.wrap, Some(0));
        assert_eq!(
            kb.hmck.as_deref(),
            Some(&[0u8; 40][..]),
            "HMCK is all zero in backup keybags"
        );
        assert_eq!(kb.salt.as_ref().map(Vec::len), Some(20));
        assert_eq!(kb.iter, Some(10_000));
        assert!(kb.unknown_tags.is_empty());
        assert_eq!(kb.trailing_bytes, 0);
        if two_stage {
            assert_eq!((kb.dpwt, kb.dpic), (Some(1), Some(10_000_000)));
            assert_eq!(kb.dpsl.as_ref().map(Vec::len), Some(20));
        } else {
            assert_eq!((kb.dpwt, kb.dpic, kb.dpsl.as_ref()), (None, None, None));
        }
        assert!(kb
            .classes
            .iter()
            .all(|c| c.ktyp == Some(0) && c.wpky.len() == 40 && c.pbky.is_none()));
        assert!(kb
            .classes
            .iter()
            .all(|c| c.uuid.as_ref().map(Vec::len) == Some(16)));
    }

    /// Unlock with the password; check the given class keys (computed independently with
    /// Python `cryptography` aes_key_unwrap + hashlib PBKDF2) and that a wrong password fails.
    fn unlock_real(kb: &Keybag, pw: &str, kek_hex: &str, want: &[(u32, &str)]) {
        let kek = kek_for(kb, pw);
        assert_eq!(&*kek.to_hex(), kek_hex);
        let keys = kb.unlock(&kek, None).unwrap();
        assert_eq!(keys.keys.len(), kb.classes.len());
        for &(n, h) in want {
            assert_eq!(hex_of(keys.keys.get(&n)), h, "class {n}");
        }
        for c in &kb.classes {
            let s = keys.keys.get(&c.class());
            match c.wrap {
                2 => assert!(matches!(s, Some(ClassKeyState::Available(_)))),
                3 => assert!(matches!(s, Some(ClassKeyState::DeviceBound))),
                w => panic!("unexpected WRAP {w}"),
            }
        }
        let bad = kek_for(kb, &format!("{pw}x"));
        assert!(matches!(
            kb.unlock(&bad, None),
            Err(CryptoError::WrongPassword)
        ));
    }

    #[test]
    fn real_john_samples_ios9_legacy() {
        let Some(d) = shared("external/john-samples") else {
            return;
        };
        let kb = Keybag::parse(&keybag_bytes(&d.join("Manifest-9-123456.plist"))).unwrap();
        assert_real_header(&kb, 3, false);
        assert_eq!(wraps(&kb), REAL_TABLE);
        assert_eq!(kb.kdf_params().unwrap().scheme(), KdfScheme::LegacySha1);
        assert_eq!(
            hex::encode(kb.uuid.as_ref().unwrap()),
            "6e95db9e6c1d488d99705bd2e7490bff"
        );
        unlock_real(
            &kb,
            "123456",
            "e3b46feb8370ba6caedc4925ef30b7d6c93c1462cfecc71901810ef92fb14405",
            &[
                (
                    1,
                    "425721ef2229e88f002fa7f3ea2404654e6be94dc7eef6e000213063bcf50d7c",
                ),
                (
                    4,
                    "90105f1c4e9a418138337108d74354ee8b6b6116afa7f46df8796b2519143cf9",
                ),
            ],
        );
        // WRAP=3: the outer (password) unwrap passes RFC 3394 — as crackers rely on — the
        // result still needs the device key, so it is reported device-bound.
        let kek = kek_for(&kb, "123456");
        let c11 = kb.classes.iter().find(|c| c.class() == 11).unwrap();
        assert_eq!(
            &*wrap::unwrap32(&kek, &c11.wpky).unwrap().to_hex(),
            "0003897185014cf89b30fb01979f5e675409edfce0cda6cba5f5467a969ebbae"
        );

        let kb = Keybag::parse(&keybag_bytes(&d.join("Manifest-9-test123.plist"))).unwrap();
        assert_real_header(&kb, 3, false);
        assert_eq!(wraps(&kb), REAL_TABLE);
        unlock_real(
            &kb,
            "test123",
            "0fa447b306577e8aeb2165a3d480c40fa70eaf99f83a74c5b334b687c488a2cd",
            &[(
                1,
                "8ab826b5a6055115021e340a3f34a2e97cf93ac96e376d69674d0d1778e36247",
            )],
        );
    }

    #[test]
    fn real_john_samples_ios10_structure() {
        let Some(d) = shared("external/john-samples") else {
            return;
        };
        let bytes = keybag_bytes(&d.join("Manifest-10-test123.plist"));
        assert_eq!(bytes.len(), 1388);
        let kb = Keybag::parse(&bytes).unwrap();
        assert_real_header(&kb, 3, true);
        assert_eq!(wraps(&kb), REAL_TABLE);
        assert_eq!(kb.kdf_params().unwrap().scheme(), KdfScheme::TwoStage);
        // Unlocking costs 10,000,000 SHA-256 rounds: see the ignored test and benches/kdf.rs.
    }

    #[test]
    #[ignore = "10,000,000-round PBKDF2 (a few seconds in release); run with --ignored"]
    fn real_john_samples_ios10_unlock() {
        let Some(d) = shared("external/john-samples") else {
            return;
        };
        let kb = Keybag::parse(&keybag_bytes(&d.join("Manifest-10-test123.plist"))).unwrap();
        let keys = kb.unlock(&kek_for(&kb, "test123"), None).unwrap();
        assert_eq!(
            keys.keys
                .values()
                .filter(|s| matches!(s, ClassKeyState::Available(_)))
                .count(),
            7
        );
    }

    #[test]
    #[ignore = "10,000,000-round PBKDF2 (a few seconds in release); run with --ignored"]
    fn real_pyiosbackup_ios10_unlock() {
        let Some(d) = shared("external/pyiosbackup") else {
            return;
        };
        let kb = Keybag::parse(&keybag_bytes(&d.join("keybag_zeros_ios10.bin"))).unwrap();
        let kek = kek_for(&kb, "0000");
        // KEK from Python hashlib (PBKDF2-SHA256 then PBKDF2-SHA1).
        assert_eq!(
            &*kek.to_hex(),
            "ec8edc160b5745ccae000bfb4787630f322821191fba7eea38feab2c6307cd9b"
        );
        let keys = kb.unlock(&kek, None).unwrap();
        assert_eq!(hex_of(keys.keys.get(&1)), "00".repeat(32));
    }

    #[test]
    fn real_hv20_and_cowabunga_legacy() {
        if let Some(p) = shared("external/hv20/Backup/Manifest.plist") {
            let kb = Keybag::parse(&keybag_bytes(&p)).unwrap();
            assert_real_header(&kb, 3, false);
            assert_eq!(wraps(&kb), REAL_TABLE);
            unlock_real(
                &kb,
                "20201225",
                "38b97d556cace5fd1cfcbe67ec6a81277dfef5c5bacdfccdd32bb25467f56b25",
                &[
                    (
                        1,
                        "73fdf94630fcab32083354090267081488c177e072585715aeb7caf9bd03ba5f",
                    ),
                    (
                        4,
                        "16ccdb23419474deb148504e0ff5b6c44e80d86fc0daaf03fdb3481b4f408c7e",
                    ),
                ],
            );
        }
        if let Some(p) = shared("external/cowabungalite/Manifest.plist") {
            // A restore-tool keybag: VERS 5 yet legacy KDF, classes stored 1 … 11 and
            // keychain classes 6–8 wrapped for the device too (WRAP=3), unlike device-made ones.
            let kb = Keybag::parse(&keybag_bytes(&p)).unwrap();
            assert_real_header(&kb, 5, false);
            let want: Vec<(u32, u32)> = (1..=11).map(|c| (c, if c <= 4 { 2 } else { 3 })).collect();
            assert_eq!(wraps(&kb), want);
            unlock_real(
                &kb,
                "",
                "64c537c49ea3734b592aa166aa36dd7a4b70f525fbf00f9ec842a316c3e4e295",
                &[(
                    1,
                    "df95d450b13062b8a108f434e19add4ce591360d72f2c798629cd275b5f1ae08",
                )],
            );
        }
    }

    #[test]
    fn real_pyiosbackup_keybags() {
        let Some(d) = shared("external/pyiosbackup") else {
            return;
        };
        // Pre-10.2 fixture: class 16 where class 10 belongs (as stored in that project's test).
        let kb = Keybag::parse(&keybag_bytes(&d.join("keybag_zeros_before_10_2.bin"))).unwrap();
        assert_real_header(&kb, 3, false);
        let mut table = REAL_TABLE;
        table[1] = (16, 3);
        assert_eq!(wraps(&kb), table);
        assert_eq!(kb.uuid.as_deref(), Some(&[0u8; 16][..]));
        assert_eq!(kb.salt.as_deref(), Some(&[0u8; 20][..]));
        let keys = kb.unlock(&kek_for(&kb, "0000"), None).unwrap();
        for n in [1u32, 2, 3, 4, 6, 7, 8] {
            assert_eq!(
                hex_of(keys.keys.get(&n)),
                "00".repeat(32),
                "class {n}: all-zero class keys"
            );
        }
        assert!(matches!(
            keys.keys.get(&16),
            Some(ClassKeyState::DeviceBound)
        ));
        assert!(matches!(
            kb.unlock(&kek_for(&kb, "0001"), None),
            Err(CryptoError::WrongPassword)
        ));

        let kb = Keybag::parse(&keybag_bytes(&d.join("keybag_zeros_ios10.bin"))).unwrap();
        assert_real_header(&kb, 5, true);
        assert_eq!(wraps(&kb), REAL_TABLE);
        assert_eq!(kb.dpsl.as_deref(), Some(&[0u8; 20][..]));
    }

    // ---- synthetic TLV ----

    fn rec(tag: &[u8; 4], value: &[u8]) -> Vec<u8> {
        let mut v = tag.to_vec();
        v.extend_from_slice(&(value.len() as u32).to_be_bytes());
        v.extend_from_slice(value);
        v
    }

    fn class_rec(clas: u32, wrap_: u32, wpky: &[u8]) -> Vec<u8> {
        [
            rec(b"UUID", &[clas as u8; 16]),
            rec(b"CLAS", &clas.to_be_bytes()),
            rec(b"WRAP", &wrap_.to_be_bytes()),
            rec(b"KTYP", &0u32.to_be_bytes()),
            rec(b"WPKY", wpky),
        ]
        .concat()
    }

    fn header() -> Vec<u8> {
        [
            rec(b"VERS", &3u32.to_be_bytes()),
            rec(b"TYPE", &1u32.to_be_bytes()),
            rec(b"UUID", &[0xAB; 16]),
            rec(b"HMCK", &[0; 40]),
            rec(b"WRAP", &0u32.to_be_bytes()),
            rec(b"SALT", &[1; 20]),
            rec(b"ITER", &3u32.to_be_bytes()),
        ]
        .concat()
    }

    #[test]
    fn synthetic_roundtrip_and_stateful_wrap() {
        let kek = Key32::new([7; 32]);
        let k1 = Key32::new([1; 32]);
        let k2 = Key32::new([2; 32]);
        let bytes = [
            header(),
            class_rec(1, 2, &wrap::wrap32(&kek, &k1)),
            rec(b"XTRA", b"hello"),
            class_rec(0x21, 2, &wrap::wrap32(&kek, &k2)),
        ]
        .concat();
        let kb = Keybag::parse(&bytes).unwrap();
        assert_eq!(kb.wrap, Some(0));
        assert_eq!(kb.uuid.as_deref(), Some(&[0xAB; 16][..]));
        assert_eq!(kb.classes.len(), 2);
        assert_eq!(kb.classes[1].clas_raw, 0x21);
        assert_eq!(kb.classes[1].class(), 1, "generation bits masked");
        assert_eq!(kb.unknown_tags, vec![("XTRA".to_string(), 5)]);
        // Same masked class twice is refused at unlock.
        assert!(
            matches!(kb.unlock(&kek, None), Err(CryptoError::Keybag(m)) if m.contains("class 1"))
        );

        let bytes = [
            header(),
            class_rec(1, 2, &wrap::wrap32(&kek, &k1)),
            class_rec(2, 2, &wrap::wrap32(&kek, &k2)),
            vec![0, 0, 0],
        ]
        .concat();
        let kb = Keybag::parse(&bytes).unwrap();
        assert_eq!(kb.trailing_bytes, 3);
        let keys = kb.unlock(&kek, None).unwrap();
        assert_eq!(keys.get(1).unwrap().as_bytes(), &[1; 32]);
        assert_eq!(keys.get(2).unwrap().as_bytes(), &[2; 32]);
        assert!(matches!(
            kb.unlock(&Key32::new([8; 32]), None),
            Err(CryptoError::WrongPassword)
        ));
    }

    #[test]
    fn partial_unwrap_is_corruption_not_wrong_password() {
        let kek = Key32::new([7; 32]);
        let mut bad = wrap::wrap32(&kek, &Key32::new([3; 32]));
        bad[17] ^= 1;
        let bytes = [
            header(),
            class_rec(1, 2, &wrap::wrap32(&kek, &Key32::new([1; 32]))),
            class_rec(3, 2, &bad),
            class_rec(4, 2, &wrap::wrap32(&kek, &Key32::new([4; 32]))),
        ]
        .concat();
        let kb = Keybag::parse(&bytes).unwrap();
        match kb.unlock(&kek, None) {
            Err(CryptoError::PartialUnwrap { failed, unwrapped }) => {
                assert_eq!(failed, vec![3]);
                assert_eq!(unwrapped, 2);
            }
            other => panic!("expected PartialUnwrap, got {:?}", other.err()),
        }
    }

    #[test]
    fn wrap_zero_and_bad_wpky_lengths() {
        let kek = Key32::new([7; 32]);
        let kb = Keybag::parse(&[header(), class_rec(1, 0, &[9; 32])].concat()).unwrap();
        assert!(matches!(
            kb.unlock(&kek, None).unwrap().keys.get(&1),
            Some(ClassKeyState::NotPasswordWrapped)
        ));
        let kb = Keybag::parse(&[header(), class_rec(1, 2, &[9; 32])].concat()).unwrap();
        assert!(
            matches!(kb.unlock(&kek, None), Err(CryptoError::Keybag(m)) if m.contains("WPKY is 32 bytes"))
        );
        let kb = Keybag::parse(&[header(), class_rec(1, 1, &[9; 40])].concat()).unwrap();
        assert!(matches!(
            kb.unlock(&kek, None).unwrap().keys.get(&1),
            Some(ClassKeyState::DeviceBound)
        ));
        assert!(
            matches!(kb.unlock(&kek, Some(&[0; 16])), Err(CryptoError::Keybag(m)) if m.contains("40 bytes"))
        );
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let err = |b: &[u8]| match Keybag::parse(b) {
            Err(CryptoError::Keybag(m)) => m,
            other => panic!(
                "expected a keybag error, got {:?}",
                other.map(|k| k.classes.len())
            ),
        };
        // Length beyond the buffer (also a 0xFFFFFFFF length: no overflow, no allocation).
        let mut b = header();
        b.extend_from_slice(b"SALT\0\0\0\x20abc");
        assert!(err(&b).contains("SALT"));
        let mut b = header();
        b.extend_from_slice(b"WPKY\xff\xff\xff\xff");
        assert!(err(&b).contains("4294967295"));
        // Integer tags must be 4 bytes, wherever they are.
        let m = err(&[rec(b"VERS", &[0, 3])].concat());
        assert!(m.contains("VERS") && m.contains("length 2"), "{m}");
        let m = err(&[
            header(),
            rec(b"UUID", &[1; 16]),
            rec(b"CLAS", &[0, 0, 0, 0, 1]),
        ]
        .concat());
        assert!(m.contains("CLAS") && m.contains("length 5"), "{m}");
        // Non-ASCII tags are escaped in messages.
        let m = err(b"\xff\x00AB\x00\x00\x00\x09");
        assert!(m.contains("\\xff\\x00AB"), "{m}");
        // Too many classes.
        let mut b = header();
        for i in 0..=MAX_CLASSES as u32 {
            b.extend(class_rec(i % 30, 2, &[0; 40]));
        }
        assert!(err(&b).contains("more than 64 class records"));
        // Missing WPKY in a class record.
        let m = err(&[
            header(),
            rec(b"UUID", &[1; 16]),
            rec(b"CLAS", &1u32.to_be_bytes()),
            rec(b"WRAP", &2u32.to_be_bytes()),
        ]
        .concat());
        assert!(m.contains("WPKY"), "{m}");
        // Too large.
        assert!(err(&vec![0; MAX_KEYBAG_LEN + 1]).contains("too large"));
        // Empty and tiny inputs parse to an empty keybag.
        let kb = Keybag::parse(&[]).unwrap();
        assert!(kb.classes.is_empty() && kb.uuid.is_none());
        assert_eq!(Keybag::parse(&[1, 2, 3]).unwrap().trailing_bytes, 3);
        // A zero-length record at the very end is read (offset + 8 == len).
        let kb = Keybag::parse(&[header(), rec(b"ZERO", &[])].concat()).unwrap();
        assert_eq!(kb.unknown_tags, vec![("ZERO".to_string(), 0)]);
    }

    #[test]
    fn kdf_params_requires_salt_and_iter() {
        let no_salt = [rec(b"UUID", &[0; 16]), rec(b"ITER", &5u32.to_be_bytes())].concat();
        assert!(
            matches!(Keybag::parse(&no_salt).unwrap().kdf_params(), Err(CryptoError::Keybag(m)) if m.contains("SALT"))
        );
        let no_iter = [rec(b"UUID", &[0; 16]), rec(b"SALT", &[1; 20])].concat();
        assert!(
            matches!(Keybag::parse(&no_iter).unwrap().kdf_params(), Err(CryptoError::Keybag(m)) if m.contains("ITER"))
        );
        let half = [header(), rec(b"DPIC", &5u32.to_be_bytes())].concat();
        assert!(
            matches!(Keybag::parse(&half).unwrap().kdf_params(), Err(CryptoError::Keybag(m)) if m.contains("DPSL"))
        );
        let p = Keybag::parse(&header()).unwrap().kdf_params().unwrap();
        assert_eq!(
            p,
            KdfParams {
                dpsl: None,
                dpic: None,
                salt: vec![1; 20],
                iter: 3
            }
        );
    }
}
