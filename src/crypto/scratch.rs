//! Sealed scratch space: chunks kept in an unlinked temporary file under an ephemeral key.
//!
//! Some outputs need more of the backup's plaintext metadata than memory should hold (the
//! per-file part of a 1.3 M-row JSON report comes before totals that need every row). Such
//! chunks are compressed (LZ4 block format, `lz4_flex`: reports compress about 9×, so the
//! disk sees a ninth of the bytes) and sealed with AES-256-GCM under a key made for this scratch space alone (random,
//! held in memory only, zeroized on drop; the nonce is the chunk's number) and appended to
//! an anonymous temporary file (`tempfile::tempfile`: unlinked at once where the platform
//! allows, removed on close elsewhere). What reaches the disk is ciphertext; reading back
//! checks every chunk's tag, its number and that none is missing, so a file changed under
//! the process is an error, not a wrong report.

use aes::Aes256;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, Generate, KeyInit};
use aes_gcm::{AesGcm, Key, Nonce, Tag};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use zeroize::Zeroize;

/// GCM tag length.
const TAG_LEN: usize = 16;
/// A chunk's header on disk: its plaintext length (u64, little-endian).
const HEADER_LEN: usize = 8;

type Gcm = AesGcm<Aes256, U12>;

/// Chunks sealed to an unlinked temporary file, read back once in the order written.
pub struct Scratch {
    file: BufWriter<File>,
    /// The cipher holds the expanded key (zeroized on drop: the `aes` crate's `zeroize`).
    gcm: Gcm,
    chunks: u64,
    bytes: u64,
}

/// What went wrong with the scratch file (I/O, or a chunk that does not open).
fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("temporary scratch file: {what} (changed while in use?)"),
    )
}

fn nonce(n: u64) -> Nonce<U12> {
    let mut b = [0u8; 12];
    b[4..].copy_from_slice(&n.to_be_bytes());
    Nonce::<U12>::from(b)
}

impl Scratch {
    /// A new scratch space in the temporary directory (`TMPDIR`), with a fresh random key.
    pub fn new() -> io::Result<Self> {
        let file = tempfile::tempfile().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create a temporary file in {}: {e}",
                    std::env::temp_dir().display()
                ),
            )
        })?;
        let mut key = Key::<Gcm>::try_generate()
            .map_err(|e| io::Error::other(format!("no random key for the scratch file: {e}")))?;
        let gcm = Gcm::new(&key);
        key.as_mut_slice().zeroize();
        Ok(Scratch {
            file: BufWriter::with_capacity(1 << 20, file),
            gcm,
            chunks: 0,
            bytes: 0,
        })
    }

    /// Compress and seal `chunk`, and append it (its buffer is cleared).
    pub fn push(&mut self, chunk: &mut Vec<u8>) -> io::Result<()> {
        let packed = lz4_flex::compress_prepend_size(chunk);
        self.bytes += chunk.len() as u64;
        chunk.clear();
        self.seal(packed)
    }

    /// [`Scratch::push`] of several chunks, in order, compressed in parallel.
    pub fn push_all(&mut self, chunks: Vec<Vec<u8>>) -> io::Result<()> {
        use rayon::prelude::*;
        self.bytes += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
        let packed: Vec<Vec<u8>> = chunks
            .into_par_iter()
            .map(|c| lz4_flex::compress_prepend_size(&c))
            .collect();
        for p in packed {
            self.seal(p)?;
        }
        Ok(())
    }

    /// Encrypt `packed` in place under the next chunk number and append it.
    fn seal(&mut self, mut packed: Vec<u8>) -> io::Result<()> {
        let tag = self
            .gcm
            .encrypt_inout_detached(&nonce(self.chunks), b"", packed.as_mut_slice().into())
            .map_err(|_| io::Error::other("scratch chunk too large to seal"))?;
        self.file.write_all(&(packed.len() as u64).to_le_bytes())?;
        self.file.write_all(&packed)?;
        self.file.write_all(&tag)?;
        self.chunks += 1;
        Ok(())
    }

    /// How many chunks (sealed) and plaintext bytes (before compression) were pushed.
    pub fn len(&self) -> (u64, u64) {
        (self.chunks, self.bytes)
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.chunks == 0
    }

    /// Read every chunk back, in order, each opened and checked, to `each`.
    pub fn drain(self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let Scratch {
            file, gcm, chunks, ..
        } = self;
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut buf: Vec<u8> = Vec::new();
        for n in 0..chunks {
            let mut header = [0u8; HEADER_LEN];
            r.read_exact(&mut header)
                .map_err(|_| damaged("a chunk is missing"))?;
            let len = usize::try_from(u64::from_le_bytes(header))
                .map_err(|_| damaged("a chunk's length is out of range"))?;
            buf.clear();
            buf.resize(len, 0);
            r.read_exact(&mut buf)
                .map_err(|_| damaged("a chunk is cut short"))?;
            let mut tag = [0u8; TAG_LEN];
            r.read_exact(&mut tag)
                .map_err(|_| damaged("a chunk is cut short"))?;
            gcm.decrypt_inout_detached(&nonce(n), b"", buf.as_mut_slice().into(), &Tag::from(tag))
                .map_err(|_| damaged("a chunk does not open"))?;
            let plain = lz4_flex::decompress_size_prepended(&buf)
                .map_err(|_| damaged("a chunk does not decompress"));
            buf.zeroize();
            let mut plain = plain?;
            let r = each(&plain);
            plain.zeroize();
            r?;
        }
        let mut rest = [0u8; 1];
        if r.read(&mut rest)? != 0 {
            return Err(damaged("more data than was written"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_the_file_holds_no_plaintext() {
        let mut s = Scratch::new().unwrap();
        let chunks: Vec<Vec<u8>> = (0..50)
            .map(|i| {
                format!("\"relative_path\": \"Library/secret-{i}.db\"")
                    .repeat(i * 37 % 11)
                    .into_bytes()
            })
            .collect();
        for c in &chunks {
            let mut c = c.clone();
            s.push(&mut c).unwrap();
            assert!(c.is_empty(), "the pushed buffer is cleared");
        }
        assert_eq!(s.len().0, 50);
        let more: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 1000 * i as usize]).collect();
        s.push_all(more.clone()).unwrap();
        let chunks: Vec<Vec<u8>> = chunks.into_iter().chain(more).collect();
        assert_eq!(s.len(), (57, chunks.iter().map(|c| c.len() as u64).sum()));
        // What is on disk.
        s.file.flush().unwrap();
        let mut on_disk = Vec::new();
        let mut f = s.file.get_ref().try_clone().unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut on_disk).unwrap();
        assert!(!on_disk.is_empty());
        assert!(
            !on_disk.windows(6).any(|w| w == b"secret"),
            "plaintext on disk"
        );
        let mut back = Vec::new();
        s.drain(|c| {
            back.push(c.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(back, chunks);
    }

    /// Flip a byte of the file at `at` (from the end when negative) and drain.
    fn drain_damaged(at: i64) -> io::Result<()> {
        let mut s = Scratch::new().unwrap();
        for i in 0..3u8 {
            s.push(&mut vec![i; 100]).unwrap();
        }
        s.file.flush().unwrap();
        let mut f = s.file.get_ref().try_clone().unwrap();
        if at >= 0 {
            f.seek(SeekFrom::Start(at as u64)).unwrap();
        } else {
            f.seek(SeekFrom::End(at)).unwrap();
        }
        let mut b = [0u8; 1];
        f.read_exact(&mut b).unwrap();
        f.seek(SeekFrom::Current(-1)).unwrap();
        f.write_all(&[b[0] ^ 1]).unwrap();
        s.drain(|_| Ok(()))
    }

    #[test]
    fn a_changed_or_cut_file_is_an_error() {
        // Ciphertext, tag and length.
        for at in [HEADER_LEN as i64 + 5, -1, -(TAG_LEN as i64) - 1, 0] {
            let e = drain_damaged(at).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{at}: {e}");
            assert!(e.to_string().contains("temporary scratch file"), "{e}");
        }
        // Cut short.
        let mut s = Scratch::new().unwrap();
        s.push(&mut vec![7; 100]).unwrap();
        s.push(&mut vec![8; 100]).unwrap();
        s.file.flush().unwrap();
        let len = s.file.get_ref().metadata().unwrap().len();
        s.file.get_ref().set_len(len - 5).unwrap();
        let e = s.drain(|_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
    }

    #[test]
    fn two_scratch_spaces_have_different_keys() {
        let mut a = Scratch::new().unwrap();
        let mut b = Scratch::new().unwrap();
        a.push(&mut vec![0; 64]).unwrap();
        b.push(&mut vec![0; 64]).unwrap();
        let read = |s: &mut Scratch| {
            s.file.flush().unwrap();
            let mut f = s.file.get_ref().try_clone().unwrap();
            f.seek(SeekFrom::Start(0)).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            v
        };
        assert_ne!(read(&mut a), read(&mut b));
    }
}
