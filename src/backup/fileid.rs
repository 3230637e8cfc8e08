//! `FileId`: the 40-hex SHA-1 name of a backed-up file, validated before it touches a path.

use sha1::{Digest, Sha1};

/// A validated file ID: exactly 40 lower-case hex digits (FORMAT §1.3).
///
/// Only a `FileId` is ever joined to the backup folder, so no untrusted string from the
/// index can name a path outside it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct FileId(String);

impl FileId {
    /// Accept exactly 40 lower-case hex digits; anything else is `None`.
    pub fn parse(s: &str) -> Option<FileId> {
        // One acceptance rule for both forms: the byte form's.
        Self::parse_bytes(s).map(|_| FileId(s.to_owned()))
    }

    /// The 20 bytes of exactly 40 lower-case hex digits; anything else is `None`
    /// (the same acceptance as [`FileId::parse`], without an allocation).
    pub fn parse_bytes(s: &str) -> Option<[u8; 20]> {
        // One pass that checks and decodes (every index row's fileID goes through here).
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        }
        let s: &[u8; 40] = s.as_bytes().try_into().ok()?;
        let mut out = [0u8; 20];
        for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
            *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(out)
    }

    /// `SHA-1(domain + "-" + relative_path)` in lower-case hex (also for an empty path,
    /// which keeps the trailing dash: FORMAT §1.3, §13.1).
    pub fn compute(domain: &str, relative_path: &str) -> FileId {
        Self::compute_bytes(domain.as_bytes(), relative_path.as_bytes())
    }

    /// Same as [`FileId::compute`] over raw bytes (Manifest.mbdb strings need not be UTF-8).
    pub fn compute_bytes(domain: &[u8], relative_path: &[u8]) -> FileId {
        FileId::from_bytes(&Self::digest(domain, relative_path))
    }

    /// The 20 bytes of [`FileId::compute_bytes`] (no hex digits made).
    pub fn digest(domain: &[u8], relative_path: &[u8]) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(domain);
        h.update(b"-");
        h.update(relative_path);
        h.finalize().into()
    }

    /// The file ID of 20 raw bytes.
    pub fn from_bytes(id: &[u8; 20]) -> FileId {
        FileId(hex::encode(id))
    }

    /// The 20 bytes the 40 hex digits encode.
    pub fn to_bytes(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        // Parsed or computed: always 40 lower-case hex digits.
        let _ = hex::decode_to_slice(&self.0, &mut out);
        out
    }

    /// The 40 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first two hex digits: the subfolder of the hashed layout.
    pub fn prefix(&self) -> &str {
        self.0.get(..2).unwrap_or("")
    }
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileId({})", self.0)
    }
}

impl AsRef<str> for FileId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_from_format_notes() {
        // FORMAT §1.3: hard-coded by many tools; checked with python3 hashlib.sha1.
        assert_eq!(
            FileId::compute("KeychainDomain", "keychain-backup.plist").as_str(),
            "51a4616e576dd33cd2abadfea874eb8ff246bf0e"
        );
        assert_eq!(
            FileId::compute("HomeDomain", "Library/SMS/sms.db").as_str(),
            "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
        );
        // Domain root: trailing dash kept (SHA1("HomeDomain-")).
        assert_eq!(
            FileId::compute("HomeDomain", "").as_str(),
            "70765829101933f25994c71bbee6dfd685535bff"
        );
        assert_eq!(
            FileId::compute_bytes(b"HomeDomain", b"Library/SMS/sms.db"),
            FileId::compute("HomeDomain", "Library/SMS/sms.db")
        );
    }

    #[test]
    fn parse_accepts_only_40_lowercase_hex() {
        let id = FileId::parse("3d0d7e5fb2ce288813306e4d4636395e047a3d28").unwrap();
        assert_eq!(id.prefix(), "3d");
        assert_eq!(id.to_string(), "3d0d7e5fb2ce288813306e4d4636395e047a3d28");
        assert!(FileId::parse("3D0D7E5FB2CE288813306E4D4636395E047A3D28").is_none());
        assert!(FileId::parse("3d0d7e5fb2ce288813306e4d4636395e047a3d2").is_none());
        assert!(FileId::parse("3d0d7e5fb2ce288813306e4d4636395e047a3d288").is_none());
        assert!(FileId::parse("../../../../etc/passwd0000000000000000000").is_none());
        assert!(FileId::parse("3d0d7e5fb2ce288813306e4d4636395e047a3d2g").is_none());
        assert!(FileId::parse("").is_none());
        // The byte form accepts exactly what `parse` accepts.
        let b = FileId::parse_bytes("3d0d7e5fb2ce288813306e4d4636395e047a3d28").unwrap();
        assert_eq!(FileId::from_bytes(&b), id);
        assert_eq!(id.to_bytes(), b);
        assert!(FileId::parse_bytes("3D0D7E5FB2CE288813306E4D4636395E047A3D28").is_none());
        assert!(FileId::parse_bytes("3d0d7e5fb2ce288813306e4d4636395e047a3d2").is_none());
        assert!(FileId::parse_bytes("3d0d7e5fb2ce288813306e4d4636395e047a3d2g").is_none());
        // 40 bytes but multi-byte chars: rejected.
        assert!(FileId::parse("ééééééééééééééééééééé").is_none());
    }
}
