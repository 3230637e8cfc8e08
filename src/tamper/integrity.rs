//! Integrity evidence: SHA-1/SHA-256/SHA-512 digests and HMAC-SHA256s (keyed by keychain
//! values) of a file's bytes or a setting's value, looked for in the decryptable keychain
//! items and in the other files, as raw bytes, hex or base64.

use super::model::{Evidence, KeychainEvidence};
use crate::audit::keychain::KeychainAudit;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::collections::{BTreeSet, HashMap};
use zeroize::Zeroizing;

/// Keychain values shorter than this are not tried as HMAC keys (a PIN is no key).
pub const MIN_HMAC_KEY: usize = 16;
/// … nor longer than this (a certificate or a document is no key either).
pub const MAX_HMAC_KEY: usize = 512;
/// Digest-like values kept from the other files at most (a bound on hostile input).
pub const MAX_TOKENS: usize = 1 << 20;

/// How a digest was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    Sha1,
    Sha256,
    Sha512,
    HmacSha256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Sha1 => "sha1",
            Alg::Sha256 => "sha256",
            Alg::Sha512 => "sha512",
            Alg::HmacSha256 => "hmac_sha256",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Alg::Sha1 => "SHA-1",
            Alg::Sha256 => "SHA-256",
            Alg::Sha512 => "SHA-512",
            Alg::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// How a digest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Raw,
    Hex,
    Base64,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }
}

/// The ways a digest is written down: raw, hex in either case, base64 standard (padded or
/// not) and URL-safe (padded or not).
pub fn forms(d: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let hex = hex::encode(d);
    let mut out = vec![
        (Encoding::Raw, d.to_vec()),
        (Encoding::Hex, hex.to_ascii_uppercase().into_bytes()),
        (Encoding::Hex, hex.into_bytes()),
    ];
    for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push((Encoding::Base64, e.encode(d).into_bytes()));
    }
    out.sort();
    out.dedup();
    out
}

/// The digests of some bytes: SHA-1, SHA-256, SHA-512, and an HMAC-SHA256 with each key.
pub fn digests(b: &[u8], keys: &[(usize, &[u8])]) -> Vec<(Alg, Vec<u8>, Option<usize>)> {
    let mut out = vec![
        (Alg::Sha1, Sha1::digest(b).to_vec(), None),
        (Alg::Sha256, Sha256::digest(b).to_vec(), None),
        (Alg::Sha512, Sha512::digest(b).to_vec(), None),
    ];
    for &(k, key) in keys {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
            continue;
        };
        mac.update(b);
        out.push((
            Alg::HmacSha256,
            mac.finalize().into_bytes().to_vec(),
            Some(k),
        ));
    }
    out
}

/// A decryptable keychain value: searched for digests, tried as an HMAC key.
pub struct Held {
    /// The item in words (`genp item 3 (com.example.config)`).
    pub what: String,
    pub app: Option<String>,
    pub data: Zeroizing<Vec<u8>>,
}

/// What the keychain holds for integrity checks.
#[derive(Default)]
pub struct KeychainIndex {
    /// Each decryptable item's value, and its text attributes (label, comment,
    /// description, account) as further holders.
    pub held: Vec<Held>,
    /// Indexes into `held` of the values tried as HMAC keys.
    pub keys: Vec<usize>,
    /// The owner (when known) of each device-bound item this backup cannot decrypt.
    pub device_bound: Vec<Option<String>>,
    pub evidence: KeychainEvidence,
}

impl KeychainIndex {
    /// From the keychain audit (its secrets are taken out of it).
    pub fn of(k: Option<&mut KeychainAudit>) -> KeychainIndex {
        let mut out = KeychainIndex::default();
        let Some(k) = k else {
            return out;
        };
        out.evidence.read = true;
        out.evidence.items = k.items.len() as u64;
        for it in &mut k.items {
            if !it.decryptable {
                if it.device_bound {
                    out.device_bound.push(it.app.clone());
                }
                continue;
            }
            out.evidence.decryptable += 1;
            let name = it
                .service
                .as_deref()
                .or(it.server.as_deref())
                .or(it.label.as_deref())
                .map_or(String::new(), |w| format!(" ({w})"));
            let what = format!("{} item {}{name}", it.table, it.index);
            if let Some(secret) = it.secret.take() {
                let len = secret.len();
                let bytes = Zeroizing::new(secret.as_bytes().to_vec());
                if (MIN_HMAC_KEY..=MAX_HMAC_KEY).contains(&len) {
                    out.keys.push(out.held.len());
                }
                out.held.push(Held {
                    what: what.clone(),
                    app: it.app.clone(),
                    data: bytes,
                });
            }
            for attr in [&it.label, &it.comment, &it.description, &it.account]
                .into_iter()
                .flatten()
            {
                if attr.len() >= 20 {
                    out.held.push(Held {
                        what: what.clone(),
                        app: it.app.clone(),
                        data: Zeroizing::new(attr.as_bytes().to_vec()),
                    });
                }
            }
        }
        out.evidence.device_bound_undecryptable = out.device_bound.len() as u64;
        out.evidence.hmac_keys = out.keys.len() as u64;
        out
    }

    /// The HMAC keys an app's data can be checked with: its own items' and those whose
    /// owner is not known (an app reads only its own access groups).
    pub fn keys_for(&self, app: Option<&str>) -> Vec<(usize, &[u8])> {
        self.keys
            .iter()
            .filter(|&&k| may_hold(self.held[k].app.as_deref(), app))
            .map(|&k| (k, &self.held[k].data[..]))
            .collect()
    }

    /// Device-bound items that could hold a digest of an app's data.
    pub fn device_bound_for(&self, app: Option<&str>) -> u64 {
        self.device_bound
            .iter()
            .filter(|owner| may_hold(owner.as_deref(), app))
            .count() as u64
    }
}

/// Whether an item owned by `owner` can be the app's: the same app, or an owner not known
/// (or a setting of no known app).
fn may_hold(owner: Option<&str>, app: Option<&str>) -> bool {
    match (owner, app) {
        (Some(o), Some(a)) => o == a,
        _ => true,
    }
}

/// What a digest was made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Of {
    /// A file (index into the walk's files).
    File(usize),
    /// A setting (index into the walk's settings).
    Value(usize),
}

/// A digest to look for.
#[derive(Debug, Clone, Copy)]
struct Target {
    of: Of,
    alg: Alg,
    key: Option<usize>,
}

/// Digests to look for, in every written form, found by exact comparison of windows of
/// their lengths.
#[derive(Default)]
pub struct Needles {
    map: HashMap<Vec<u8>, Vec<(Target, Encoding)>>,
    lens: BTreeSet<usize>,
    /// Raw digests, for the other files' tokens.
    raw: HashMap<Vec<u8>, Vec<Target>>,
}

impl Needles {
    /// Look for the digests of `of`.
    pub fn add(&mut self, of: Of, digests: &[(Alg, Vec<u8>, Option<usize>)]) {
        for (alg, d, key) in digests {
            let t = Target {
                of,
                alg: *alg,
                key: *key,
            };
            for (enc, form) in forms(d) {
                self.lens.insert(form.len());
                self.map.entry(form).or_default().push((t, enc));
            }
            self.raw.entry(d.clone()).or_default().push(t);
        }
    }

    /// Every digest in `hay` (a keychain value).
    fn find(&self, hay: &[u8], out: &mut dyn FnMut(Target, Encoding)) {
        for &len in &self.lens {
            if hay.len() < len {
                break;
            }
            for w in hay.windows(len) {
                if let Some(ts) = self.map.get(w) {
                    for &(t, e) in ts {
                        out(t, e);
                    }
                }
            }
        }
    }
}

/// Digest-like values of the other files: 20, 32 or 64 bytes written as hex or base64 as a
/// whole field, or a whole file of those lengths; by their raw bytes.
#[derive(Default)]
pub struct Tokens {
    pub map: HashMap<Vec<u8>, Vec<(usize, Encoding)>>,
    pub capped: bool,
}

/// A field's value (or a whole file) as a digest, when it is one: raw bytes of a digest's
/// length (`raw_ok`), or hex or base64 of one.
pub fn token(v: &[u8], raw_ok: bool) -> Option<(Vec<u8>, Encoding)> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let digest_len = |n: usize| matches!(n, 20 | 32 | 64);
    if raw_ok && digest_len(v.len()) {
        return Some((v.to_vec(), Encoding::Raw));
    }
    let t = v.trim_ascii();
    if matches!(t.len(), 40 | 64 | 128) && t.iter().all(u8::is_ascii_hexdigit) {
        return hex::decode(t).ok().map(|d| (d, Encoding::Hex));
    }
    if (27..=88).contains(&t.len()) {
        let unpadded = t.strip_suffix(b"==").or(t.strip_suffix(b"=")).unwrap_or(t);
        let d = STANDARD
            .decode(t)
            .ok()
            .or_else(|| URL_SAFE_NO_PAD.decode(unpadded).ok())
            .or_else(|| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(unpadded)
                    .ok()
            })?;
        return digest_len(d.len()).then_some((d, Encoding::Base64));
    }
    None
}

impl Tokens {
    /// Keep a token of file `file`.
    pub fn add(&mut self, file: usize, raw: Vec<u8>, enc: Encoding) {
        if self.map.len() >= MAX_TOKENS && !self.map.contains_key(&raw) {
            self.capped = true;
            return;
        }
        let v = self.map.entry(raw).or_default();
        if !v.contains(&(file, enc)) {
            v.push((file, enc));
        }
    }
}

/// The evidence found for each file and value: keychain first, then other files.
pub struct Found {
    pub by: HashMap<Of, (String, Evidence)>,
}

/// Look for every needle in the keychain's values and the other files' tokens.
/// `app_of(of)` is the owner of the file or setting; `file_name(i)` names file `i`;
/// `file_of(of)` the file a digest was made from (a file's digest is not looked for in
/// that file itself, a value's may be).
pub fn search(
    needles: &Needles,
    keychain: &KeychainIndex,
    tokens: &Tokens,
    app_of: &dyn Fn(Of) -> Option<String>,
    file_of: &dyn Fn(Of) -> usize,
    file_name: &dyn Fn(usize) -> (String, Option<String>),
) -> Found {
    let mut by: HashMap<Of, (String, Evidence)> = HashMap::new();
    let key_name = |k: Option<usize>| k.map(|k| format!("keychain {}", keychain.held[k].what));
    let describe = |t: Target, e: Encoding, holder: &str| -> String {
        let of = match t.of {
            Of::File(_) => "the file",
            Of::Value(_) => "the value",
        };
        match t.key {
            Some(k) => format!(
                "{holder}: {} of {of} keyed by keychain {}, {}",
                t.alg.words(),
                keychain.held[k].what,
                e.as_str()
            ),
            None => format!("{holder}: {} of {of}, {}", t.alg.words(), e.as_str()),
        }
    };
    for h in &keychain.held {
        needles.find(&h.data, &mut |t, e| {
            if by.contains_key(&t.of) || !may_hold(h.app.as_deref(), app_of(t.of).as_deref()) {
                return;
            }
            let ev = Evidence {
                holder: "keychain",
                item: h.what.clone(),
                algorithm: t.alg.as_str(),
                encoding: e.as_str(),
                of: of_str(t.of),
                key: key_name(t.key),
            };
            by.insert(t.of, (describe(t, e, &format!("keychain {}", h.what)), ev));
        });
    }
    for (raw, targets) in &needles.raw {
        let Some(files) = tokens.map.get(raw) else {
            continue;
        };
        for &t in targets {
            if by.contains_key(&t.of) {
                continue;
            }
            let own = file_of(t.of);
            let app = app_of(t.of);
            let hit = files.iter().find(|(f, _)| {
                let (_, file_app) = file_name(*f);
                (*f != own || matches!(t.of, Of::Value(_))) && file_app == app
            });
            if let Some(&(f, e)) = hit {
                let (name, _) = file_name(f);
                let ev = Evidence {
                    holder: "file",
                    item: name.clone(),
                    algorithm: t.alg.as_str(),
                    encoding: e.as_str(),
                    of: of_str(t.of),
                    key: key_name(t.key),
                };
                by.insert(t.of, (describe(t, e, &format!("file {name}")), ev));
            }
        }
    }
    Found { by }
}

fn of_str(o: Of) -> &'static str {
    match o {
        Of::File(_) => "file",
        Of::Value(_) => "value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_raw_hex_and_base64() {
        let d = Sha256::digest(b"abc").to_vec();
        let f = forms(&d);
        let has = |s: &str| f.iter().any(|(_, v)| v == s.as_bytes());
        assert!(has(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ));
        assert!(has(
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        ));
        assert!(has("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="));
        assert!(has("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
        assert!(f.iter().any(|(e, v)| *e == Encoding::Raw && *v == d));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let ds = digests(b"what do ya want for nothing?", &[(7, b"Jefe")]);
        let (alg, mac, key) = &ds[3];
        assert_eq!((*alg, *key), (Alg::HmacSha256, Some(7)));
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn needles_are_found_inside_a_value_and_tokens_decode() {
        let mut n = Needles::default();
        let ds = digests(b"config", &[]);
        n.add(Of::File(0), &ds);
        let hex = hex::encode(&ds[1].1);
        let hay = format!("{{\"sha\":\"{hex}\"}}");
        let mut got = Vec::new();
        n.find(hay.as_bytes(), &mut |t, e| got.push((t.of, t.alg, e)));
        assert_eq!(got, vec![(Of::File(0), Alg::Sha256, Encoding::Hex)]);
        let mut none = Vec::new();
        n.find(b"nothing to see here at all, not a digest", &mut |t, _| {
            none.push(t.of)
        });
        assert!(none.is_empty());
        assert_eq!(
            token(hex.as_bytes(), false),
            Some((ds[1].1.clone(), Encoding::Hex))
        );
        assert_eq!(
            token(&ds[0].1, true),
            Some((ds[0].1.clone(), Encoding::Raw))
        );
        assert_eq!(token(&ds[0].1, false), None);
        assert_eq!(token(b"not a digest", false), None);
    }
}
