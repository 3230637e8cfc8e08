//! The keybag's password hash in the `$itunes_backup$` format that hashcat (modes 14700
//! and 14800) and John the Ripper (`itunes-backup`) read: what a tester cracks offline.

use super::kdf::{derive_kek, KdfParams};
use super::keybag::{Keybag, WRAP_PASSCODE};
use super::wrap::{unwrap32, WRAPPED_LEN};
use super::{CryptoError, Password};
use std::fmt;

/// The line's signature.
pub const SIGNATURE: &str = "$itunes_backup$";

/// Bytes of `SALT` and `DPSL` the format carries.
const SALT_LEN: usize = 20;

/// A password hash: one password-wrapped class key and the derivation that makes its key.
/// It holds no secret (the class key stays wrapped), but it lets anyone try passwords
/// against it offline, as fast as their hardware derives keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItunesHash {
    /// 9: PBKDF2-SHA1 only (iOS before 10.2, hashcat 14700); 10: PBKDF2-SHA256 (`DPIC`,
    /// `DPSL`) then PBKDF2-SHA1 (iOS 10.2 and later, hashcat 14800).
    pub version: u8,
    /// A class key wrapped (RFC 3394) with the key derived from the password (`WPKY`).
    pub wpky: [u8; WRAPPED_LEN],
    /// PBKDF2-SHA1 rounds (`ITER`).
    pub iter: u32,
    /// PBKDF2-SHA1 salt (`SALT`).
    pub salt: [u8; SALT_LEN],
    /// PBKDF2-SHA256 rounds (`DPIC`), version 10 only.
    pub dpic: Option<u32>,
    /// PBKDF2-SHA256 salt (`DPSL`), version 10 only.
    pub dpsl: Option<[u8; SALT_LEN]>,
}

/// A field of `what` that must be `SALT_LEN` bytes.
fn salt20(v: &[u8], what: &str) -> Result<[u8; SALT_LEN], CryptoError> {
    v.try_into().map_err(|_| {
        CryptoError::Keybag(format!(
            "{what} is {} bytes; the $itunes_backup$ format takes {SALT_LEN}",
            v.len()
        ))
    })
}

impl ItunesHash {
    /// The hash of a keybag: its derivation parameters and the first class key wrapped with
    /// the password's key (`WRAP` bit 2, a 40-byte `WPKY`), as itunes_backup2hashcat and
    /// itunes2john take the first `WPKY`.
    pub fn from_keybag(kb: &Keybag) -> Result<ItunesHash, CryptoError> {
        let params = kb.kdf_params()?;
        let rec = kb
            .classes
            .iter()
            .find(|c| c.wrap & WRAP_PASSCODE != 0 && c.wpky.len() == WRAPPED_LEN)
            .ok_or_else(|| {
                CryptoError::Keybag(
                    "no class key wrapped with the password (WRAP 2 and a 40-byte WPKY): \
                     there is no password hash to print"
                        .into(),
                )
            })?;
        let mut wpky = [0u8; WRAPPED_LEN];
        wpky.copy_from_slice(&rec.wpky);
        let salt = salt20(&params.salt, "SALT")?;
        let (version, dpic, dpsl) = match (params.dpic, &params.dpsl) {
            (Some(n), Some(s)) => (10, Some(n), Some(salt20(s, "DPSL")?)),
            _ => (9, None, None),
        };
        Ok(ItunesHash {
            version,
            wpky,
            iter: params.iter,
            salt,
            dpic,
            dpsl,
        })
    }

    /// Read a line as hashcat and John do: the signature, then seven `*`-separated fields
    /// (version 9 or 10, 80 hex digits, rounds, 40 hex digits, and for version 10 the
    /// rounds and 40 hex digits of the first stage; empty for version 9).
    pub fn parse(line: &str) -> Result<ItunesHash, CryptoError> {
        let bad = |why: String| CryptoError::Keybag(format!("not an $itunes_backup$ hash: {why}"));
        let fields: Vec<&str> = line.trim_end().split('*').collect();
        let [sig, version, wpky, iter, salt, dpic, dpsl] = fields[..] else {
            return Err(bad(format!("{} fields, expected 7", fields.len())));
        };
        if sig != SIGNATURE {
            return Err(bad(format!("starts with {sig:?}, not {SIGNATURE:?}")));
        }
        let hex_of = |s: &str, n: usize, what: &str| -> Result<Vec<u8>, CryptoError> {
            match hex::decode(s) {
                Ok(v) if v.len() == n => Ok(v),
                _ => Err(bad(format!("{what} is not {} hex digits", 2 * n))),
            }
        };
        let number = |s: &str, what: &str| -> Result<u32, CryptoError> {
            match s.parse::<u32>() {
                Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
                _ => Err(bad(format!("{what} {s:?} is not a positive number"))),
            }
        };
        let mut w = [0u8; WRAPPED_LEN];
        w.copy_from_slice(&hex_of(wpky, WRAPPED_LEN, "WPKY")?);
        let salt = salt20(&hex_of(salt, SALT_LEN, "SALT")?, "SALT")?;
        let (version, dpic, dpsl) = match (version, dpic, dpsl) {
            ("9", "", "") => (9, None, None),
            ("10", c, s) => (
                10,
                Some(number(c, "DPIC")?),
                Some(salt20(&hex_of(s, SALT_LEN, "DPSL")?, "DPSL")?),
            ),
            ("9", _, _) => return Err(bad("version 9 with DPIC or DPSL".into())),
            (v, _, _) => return Err(bad(format!("version {v:?}, expected 9 or 10"))),
        };
        Ok(ItunesHash {
            version,
            wpky: w,
            iter: number(iter, "ITER")?,
            salt,
            dpic,
            dpsl,
        })
    }

    /// hashcat's mode for this line: 14700 (version 9) or 14800 (version 10).
    pub fn hashcat_mode(&self) -> u32 {
        if self.version == 10 {
            14800
        } else {
            14700
        }
    }

    /// Why hashcat would refuse this line, if it would: its parser takes `ITER` up to six
    /// digits and `DPIC` up to nine (John has no such limit).
    pub fn beyond_hashcat(&self) -> Option<String> {
        if self.iter > 999_999 {
            return Some(format!("ITER {} has more than 6 digits", self.iter));
        }
        match self.dpic {
            Some(n) if n > 999_999_999 => Some(format!("DPIC {n} has more than 9 digits")),
            _ => None,
        }
    }

    /// The derivation the line describes.
    pub fn kdf_params(&self) -> KdfParams {
        KdfParams {
            dpsl: self.dpsl.map(|s| s.to_vec()),
            dpic: self.dpic,
            salt: self.salt.to_vec(),
            iter: self.iter,
        }
    }

    /// Does `password` open it: the key derived from it unwraps the `WPKY` (RFC 3394
    /// integrity check), as a cracker tests each guess? Derives at the line's own cost.
    pub fn opens_with(&self, password: &Password) -> bool {
        let kek = derive_kek(password, &self.kdf_params(), &mut |_| {});
        unwrap32(&kek, &self.wpky).is_ok()
    }
}

/// `$itunes_backup$*VERSION*WPKY*ITER*SALT*DPIC*DPSL`, hex in lower case; the last two
/// fields empty for version 9.
impl fmt::Display for ItunesHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SIGNATURE}*{}*{}*{}*{}*{}*{}",
            self.version,
            hex::encode(self.wpky),
            self.iter,
            hex::encode(self.salt),
            self.dpic.map(|n| n.to_string()).unwrap_or_default(),
            self.dpsl.map(hex::encode).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::kdf::derive_kek;
    use crate::crypto::wrap::wrap32;
    use crate::crypto::Key32;

    /// A keybag TLV (as FORMAT.md §3) with one password-wrapped class key for `password`.
    fn keybag(password: &str, two_stage: bool) -> Vec<u8> {
        let params = KdfParams {
            dpsl: two_stage.then(|| vec![7u8; 20]),
            dpic: two_stage.then_some(3),
            salt: vec![9u8; 20],
            iter: 5,
        };
        let kek = derive_kek(&Password::new(password.into()), &params, &mut |_| {});
        let wpky = wrap32(&kek, &Key32::new([0x42; 32]));
        let mut kb = Vec::new();
        let mut tag = |t: &[u8], v: &[u8]| {
            kb.extend_from_slice(t);
            kb.extend_from_slice(&(v.len() as u32).to_be_bytes());
            kb.extend_from_slice(v);
        };
        tag(b"VERS", &3u32.to_be_bytes());
        tag(b"TYPE", &1u32.to_be_bytes());
        tag(b"UUID", &[1; 16]);
        tag(b"WRAP", &0u32.to_be_bytes());
        tag(b"SALT", &params.salt);
        tag(b"ITER", &5u32.to_be_bytes());
        if two_stage {
            tag(b"DPWT", &1u32.to_be_bytes());
            tag(b"DPIC", &3u32.to_be_bytes());
            tag(b"DPSL", &[7; 20]);
        }
        // A device-only record first: it is not the one the hash takes.
        tag(b"UUID", &[2; 16]);
        tag(b"CLAS", &11u32.to_be_bytes());
        tag(b"WRAP", &1u32.to_be_bytes());
        tag(b"WPKY", &[0xEE; 32]);
        tag(b"UUID", &[3; 16]);
        tag(b"CLAS", &1u32.to_be_bytes());
        tag(b"WRAP", &3u32.to_be_bytes());
        tag(b"WPKY", &wpky);
        kb
    }

    #[test]
    fn the_line_has_the_fields_hashcat_reads_and_opens_with_the_password_only() {
        for two_stage in [false, true] {
            let kb = Keybag::parse(&keybag("pw", two_stage)).unwrap();
            let h = ItunesHash::from_keybag(&kb).unwrap();
            let line = h.to_string();
            let f: Vec<&str> = line.split('*').collect();
            assert_eq!(f.len(), 7, "{line}");
            assert_eq!(f[0], "$itunes_backup$");
            assert_eq!(f[2].len(), 80);
            assert_eq!(f[2], hex::encode(&kb.classes[1].wpky));
            assert_eq!((f[3], f[4]), ("5", "09".repeat(20).as_str()));
            if two_stage {
                assert_eq!((f[1], f[5], f[6]), ("10", "3", "07".repeat(20).as_str()));
                assert_eq!(h.hashcat_mode(), 14800);
            } else {
                assert_eq!((f[1], f[5], f[6]), ("9", "", ""));
                assert!(line.ends_with("**"));
                assert_eq!(h.hashcat_mode(), 14700);
            }
            assert_eq!(ItunesHash::parse(&line).unwrap(), h);
            assert!(h.opens_with(&Password::new(b"pw".to_vec())));
            assert!(!h.opens_with(&Password::new(b"pW".to_vec())));
        }
    }

    /// hashcat's own self-test hash of mode 14700 (`ST_HASH`/`ST_PASS` in
    /// src/modules/module_14700.c, MIT licence): a line we did not write, cracked the way
    /// hashcat's kernel checks a guess.
    #[test]
    fn hashcats_own_example_opens_with_its_password() {
        let line = "$itunes_backup$*9*ebd7f9b33293b2511f0a4139d5b213feff51476968863cef60ec38d720497b6ff39a0bb63fa9f84e*10000*2202015774208421818002001652122401871832**";
        let h = ItunesHash::parse(line).unwrap();
        assert_eq!((h.version, h.iter, h.hashcat_mode()), (9, 10_000, 14700));
        assert_eq!(h.to_string(), line, "printed back as read");
        assert!(h.opens_with(&Password::new(b"hashcat".to_vec())));
        assert!(!h.opens_with(&Password::new(b"hashcaT".to_vec())));
    }

    #[test]
    fn lines_hashcat_would_refuse_are_refused() {
        let kb = Keybag::parse(&keybag("pw", true)).unwrap();
        let good = ItunesHash::from_keybag(&kb).unwrap().to_string();
        let f: Vec<&str> = good.split('*').collect();
        let with = |i: usize, v: &str| {
            let mut g = f.clone();
            g[i] = v;
            g.join("*")
        };
        for bad in [
            with(0, "$itunes$"),
            with(1, "11"),
            with(1, "9"),
            with(2, &f[2][..78]),
            with(2, &"zz".repeat(40)),
            with(3, "0"),
            with(3, "-5"),
            with(4, &f[4][..38]),
            with(5, ""),
            with(6, ""),
            format!("{good}*"),
            f[..6].join("*"),
        ] {
            assert!(ItunesHash::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_keybag_without_a_password_wrapped_key_or_with_odd_salts_has_no_line() {
        let mut kb = Keybag::parse(&keybag("pw", false)).unwrap();
        kb.salt = Some(vec![1; 16]);
        let e = ItunesHash::from_keybag(&kb).unwrap_err().to_string();
        assert!(e.contains("SALT is 16 bytes"), "{e}");
        kb.salt = Some(vec![1; 20]);
        for c in &mut kb.classes {
            c.wrap = 1;
        }
        let e = ItunesHash::from_keybag(&kb).unwrap_err().to_string();
        assert!(e.contains("no class key wrapped with the password"), "{e}");
    }

    #[test]
    fn hashcat_limits_are_said() {
        let kb = Keybag::parse(&keybag("pw", true)).unwrap();
        let mut h = ItunesHash::from_keybag(&kb).unwrap();
        assert_eq!(h.beyond_hashcat(), None);
        h.iter = 10_000_000;
        assert!(h.beyond_hashcat().unwrap().contains("ITER"));
    }
}
