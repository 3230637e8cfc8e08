//! Reading payloads: plaintext detection, exact length from the last CBC block, full verification.

use crate::crypto::{self, Key32};
use crate::session::payload::{stream, Sink};

/// Outcome of verifying a payload in full.
pub(super) struct Deep {
    pub(super) plaintext_len: u64,
    /// SHA-256 of the content, when hashing was asked for.
    pub(super) sha256: Option<String>,
    pub(super) problem: Option<String>,
}

/// A writer that hashes what it is given (when asked to) and discards it.
struct HashSink {
    hasher: Option<sha2::Sha256>,
}

impl std::io::Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(h) = &mut self.hasher {
            sha2::Digest::update(h, buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink for HashSink {}

/// Decrypt (or read) all of the payload opened as `file`, from its start, hashing it
/// when `hash`.
pub(super) fn deep_verify(
    file: &std::fs::File,
    key: Option<&Key32>,
    hash: bool,
) -> std::io::Result<Deep> {
    let mut sink = HashSink {
        hasher: hash.then(<sha2::Sha256 as sha2::Digest>::new),
    };
    let s = stream(file, key, &mut sink)?;
    Ok(Deep {
        plaintext_len: s.content_len,
        sha256: sink.hasher.map(|h| hex::encode(sha2::Digest::finalize(h))),
        problem: s.problem.map(|p| stream_problem(p, s.stored_len)),
    })
}

/// The first 16 and the last 32 bytes of a payload of `stored` bytes (fewer when it is
/// shorter), read with one open.
pub(super) struct Ends {
    head: [u8; 16],
    head_len: usize,
    tail: [u8; 32],
    tail_len: usize,
    /// The whole payload, when it was read whole (so `--deep` needs no second read).
    whole: Option<Box<[u8]>>,
}

impl Ends {
    /// The whole payload, when it was small enough to be read in full (wiped on drop).
    pub(super) fn whole_mut(&mut self) -> Option<&mut [u8]> {
        self.whole.as_deref_mut()
    }
}

impl Drop for Ends {
    fn drop(&mut self) {
        if let Some(w) = &mut self.whole {
            zeroize::Zeroize::zeroize(&mut w[..]);
        }
    }
}

/// [`deep_verify`] of a payload already in memory (`content`, as stored, decrypted in
/// place and wiped by its owner): the same outcome as streaming it from the file.
pub(super) fn deep_verify_bytes(content: &mut [u8], key: Option<&Key32>, hash: bool) -> Deep {
    let (plaintext, problem) = match key {
        Some(k) => {
            let o = crypto::cbc::decrypt_stream_in_place(k, content);
            let n = o.plaintext_len as usize;
            (
                &content[..n],
                o.problem.map(|p| stream_problem(p, o.ciphertext_len)),
            )
        }
        None => (&content[..], None),
    };
    Deep {
        plaintext_len: plaintext.len() as u64,
        sha256: hash.then(|| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(plaintext))),
        problem,
    }
}

/// What a decryption problem means for the report.
fn stream_problem(p: crypto::cbc::StreamProblem, ciphertext_len: u64) -> String {
    match p {
        crypto::cbc::StreamProblem::NotBlockAligned => {
            format!("ciphertext length {ciphertext_len} is not a non-zero multiple of 16")
        }
        crypto::cbc::StreamProblem::BadPadding => {
            "PKCS#7 padding is invalid (wrong key or corrupt content)".to_string()
        }
    }
}

/// The ends of the payload opened as `f`, `stored` bytes long (positioned reads: the
/// file's offset stays at its start).
pub(super) fn read_ends(f: &std::fs::File, stored: u64, keep_whole: bool) -> Result<Ends, String> {
    use crate::backup::read_exact_at;
    let mut e = Ends {
        head: [0; 16],
        head_len: stored.min(16) as usize,
        tail: [0; 32],
        tail_len: stored.min(32) as usize,
        whole: None,
    };
    if keep_whole && stored <= WHOLE_FOR_DEEP {
        // `--deep` reads everything anyway: a payload up to [`WHOLE_FOR_DEEP`] is read in
        // one go (both ends and all of it) and verified from memory.
        let mut all = vec![0u8; stored as usize].into_boxed_slice();
        read_exact_at(f, &mut all, 0).map_err(|e| e.to_string())?;
        e.head[..e.head_len].copy_from_slice(&all[..e.head_len]);
        e.tail[..e.tail_len].copy_from_slice(&all[all.len() - e.tail_len..]);
        e.whole = Some(all);
    } else if stored <= SMALL {
        // Most payloads are small: one read (into the stack, wiped after) gives both ends.
        let mut buf = [0u8; SMALL as usize];
        let all = &mut buf[..stored as usize];
        let read = read_exact_at(f, all, 0);
        if read.is_ok() {
            e.head[..e.head_len].copy_from_slice(&all[..e.head_len]);
            e.tail[..e.tail_len].copy_from_slice(&all[all.len() - e.tail_len..]);
        }
        zeroize::Zeroize::zeroize(&mut all[..]);
        read.map_err(|e| e.to_string())?;
    } else {
        read_exact_at(f, &mut e.head[..e.head_len], 0).map_err(|e| e.to_string())?;
        read_exact_at(f, &mut e.tail[..e.tail_len], stored - e.tail_len as u64)
            .map_err(|e| e.to_string())?;
    }
    Ok(e)
}

/// Payloads up to this size are read whole by [`read_ends`] (one system call).
const SMALL: u64 = 4096;
/// With `--deep`, payloads up to this size are read whole by [`read_ends`] (one open).
const WHOLE_FOR_DEEP: u64 = 64 * 1024;

/// Is a payload whose row has a key evidently not AES-CBC ciphertext? (length not a
/// multiple of 16, or a well-known plaintext header: SQLite, binary or XML plist.)
/// `ends` is what [`read_ends`] gave (an unreadable payload does not look like plaintext).
pub(super) fn looks_plaintext(ends: Option<&Result<Ends, String>>, stored: u64) -> bool {
    if stored % 16 != 0 {
        return true;
    }
    let head = match ends {
        Some(Ok(e)) => &e.head[..e.head_len],
        _ => &[],
    };
    head.starts_with(b"SQLite format 3\0")
        || head.starts_with(b"bplist00")
        || head.starts_with(b"<?xml")
}

/// Does a payload whose length is not whole ciphertext blocks begin as plaintext? Its first
/// 16 bytes (fewer when it is shorter) are a well-known header (SQLite, binary or XML
/// plist) or, 8 bytes or more, all printable ASCII — which the start of AES ciphertext is
/// with a probability near 10^-7. A payload cut short begins as ciphertext; a decrypted
/// copy whose row kept its key (and whose Size is its plaintext length) begins as
/// plaintext. An unreadable head does not look like plaintext.
pub(super) fn head_is_plaintext(f: &std::fs::File, stored: u64) -> bool {
    let mut head = [0u8; 16];
    let n = stored.min(16) as usize;
    if crate::backup::read_exact_at(f, &mut head[..n], 0).is_err() {
        return false;
    }
    let head = &head[..n];
    head.starts_with(b"SQLite format 3\0")
        || head.starts_with(b"bplist00")
        || head.starts_with(b"<?xml")
        || (n >= 8
            && head
                .iter()
                .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r')))
}

/// Plaintext length of an encrypted payload from its last two blocks (PKCS#7 pad byte).
pub(super) fn padded_len(
    ends: Option<&Result<Ends, String>>,
    stored: u64,
    key: &Key32,
) -> Result<u64, String> {
    if stored == 0 || stored % 16 != 0 {
        return Err(format!(
            "ciphertext length {stored} is not a non-zero multiple of 16"
        ));
    }
    let e = match ends {
        Some(Ok(e)) => e,
        Some(Err(e)) => return Err(e.clone()),
        None => return Err("the payload was not read".into()),
    };
    let take = e.tail_len;
    let tail = &e.tail;
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

#[cfg(test)]
mod tests {
    use super::head_is_plaintext;
    use std::io::Write;

    fn head(b: &[u8]) -> bool {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b).unwrap();
        head_is_plaintext(&f, b.len() as u64)
    }

    #[test]
    fn plaintext_heads_and_ciphertext_heads() {
        assert!(head(b"bplist00\xd1\x01\x02_\x10\x0fAppleLocale"));
        assert!(head(b"<?xml version=\"1.0\"?>\n<plist/>"));
        assert!(head(b"SQLite format 3\0\x10\x00\x02\x02"));
        assert!(head(b"{\"passcodeEnabled\": true}\n"));
        // The start of AES-CBC output, a cut copy's head.
        let ct = crate::crypto::cbc::encrypt(
            &crate::crypto::Key32::new([7u8; 32]),
            b"bplist00 and the rest",
        );
        assert!(!head(&ct[..21]));
        // Too short to tell by text alone; an empty head is nothing.
        assert!(!head(b"ok!"));
        assert!(!head(b""));
        // A control byte in the first 16: not text.
        assert!(!head(b"abcdefgh\x01ijklmnop"));
    }
}
