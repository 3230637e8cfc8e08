//! gzip and zlib payloads: inflated with hard output caps, then their content sniffed and decoded.
//!
//! A decompression bomb is bounded twice: never more than [`MAX_OUT`] bytes, and never more
//! than [`MAX_RATIO`] times the compressed size (with a [`MIN_CAP`] floor for tiny inputs).
//! What was inflated before a cap or a damaged stream is still decoded, and the note says so.
//! Places are those of the inner content (byte offsets are offsets into the inflated bytes);
//! a compressed payload inside a compressed payload is searched as strings, not inflated again.

use super::{Field, Kind};
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use std::io::Read;

/// Most bytes inflated from one payload.
pub const MAX_OUT: usize = 64 << 20;
/// Most inflated bytes per compressed byte.
pub const MAX_RATIO: usize = 200;
/// Inflated bytes always allowed, whatever the ratio.
pub const MIN_CAP: usize = 1 << 20;

/// Which container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Zlib,
}

/// The container `b` starts with: gzip (`1f 8b 08`) or zlib (deflate, a 32 KiB window or
/// less, no preset dictionary, a valid FCHECK).
pub fn container(b: &[u8]) -> Option<Container> {
    match b {
        [0x1f, 0x8b, 0x08, ..] => Some(Container::Gzip),
        [cmf, flg, ..]
            if cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 =>
        {
            Some(Container::Zlib)
        }
        _ => None,
    }
}

/// Whether `b` is gzip or zlib. A zlib header is two bytes that text can start with
/// (`x^`, `xÚ`), so for zlib the bytes must not read as text and the start of the stream
/// must inflate.
pub fn sniff(b: &[u8]) -> bool {
    match container(b) {
        Some(Container::Gzip) => true,
        Some(Container::Zlib) if super::text::looks_like_text(b) => false,
        Some(Container::Zlib) => {
            let mut probe = [0u8; 256];
            let head = &b[..b.len().min(4096)];
            // A stream that inflates to some bytes, or ends cleanly, is zlib.
            matches!(ZlibDecoder::new(head).read(&mut probe), Ok(n) if n > 0 || b.len() <= 4096)
        }
        None => false,
    }
}

/// The inflated bytes (capped), and what stopped inflation early, if anything.
pub fn inflate(b: &[u8]) -> Option<(Vec<u8>, Option<String>)> {
    let container = container(b)?;
    let cap = MAX_OUT.min(MIN_CAP.max(b.len().saturating_mul(MAX_RATIO)));
    let reader: Box<dyn Read + '_> = match container {
        Container::Gzip => Box::new(MultiGzDecoder::new(b)),
        Container::Zlib => Box::new(ZlibDecoder::new(b)),
    };
    let mut out = Vec::new();
    let r = reader.take(cap as u64 + 1).read_to_end(&mut out);
    let why = match r {
        Err(e) => Some(format!("damaged stream after {} bytes ({e})", out.len())),
        Ok(_) if out.len() > cap => {
            out.truncate(cap);
            Some(format!("stopped at {cap} bytes (decompression cap)"))
        }
        Ok(_) => None,
    };
    Some((out, why))
}

/// Inflate `b` and hand the fields of its content to `out`. Always returns a note: the
/// container, the size inflated and how the content was read.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) -> Result<Option<String>, String> {
    let name = match container(b) {
        Some(Container::Gzip) => "gzip",
        Some(Container::Zlib) => "zlib",
        None => return Err("no gzip or zlib header".into()),
    };
    let (inner, why) = inflate(b).ok_or("no gzip or zlib header")?;
    if inner.is_empty() {
        return Err(why.unwrap_or_else(|| "inflates to nothing".into()));
    }
    let kind = match super::sniff(&inner) {
        // Once only: a payload compressed twice is searched as strings.
        Kind::Compressed => Kind::Binary,
        k => k,
    };
    let inner_note = super::fields(kind, &inner, out);
    let mut note = format!(
        "{name}-compressed: {} bytes inflated, read as {kind:?} (offsets are into the inflated bytes)",
        inner.len()
    );
    for n in [why, inner_note].into_iter().flatten() {
        note.push_str("; ");
        note.push_str(&n);
    }
    Ok(Some(note))
}

#[cfg(test)]
mod tests {
    use super::super::{sniff as sniff_kind, Where};
    use super::*;
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn zlib(b: &[u8], level: u32) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    type Got = Vec<(Where, Option<String>, String)>;

    fn collect(b: &[u8]) -> (Got, Option<String>) {
        let mut got = Vec::new();
        let note = super::super::fields(sniff_kind(b), b, &mut |f| {
            got.push((
                f.at,
                f.name.map(str::to_owned),
                String::from_utf8_lossy(f.value).into_owned(),
            ))
        });
        (got, note)
    }

    #[test]
    fn gzip_and_zlib_content_is_decoded_as_what_it_is() {
        let json = br#"{"auth":{"refreshToken":"rt-0123456789"}}"#;
        for (packed, name) in [
            (gz(json), "gzip"),
            (zlib(json, 1), "zlib"),
            (zlib(json, 6), "zlib"),
            (zlib(json, 9), "zlib"),
        ] {
            assert_eq!(sniff_kind(&packed), Kind::Compressed, "{name}");
            let (got, note) = collect(&packed);
            assert_eq!(
                got,
                vec![(
                    Where::Json {
                        pointer: "/auth/refreshToken".into()
                    },
                    Some("refreshToken".into()),
                    "rt-0123456789".into()
                )]
            );
            let note = note.unwrap();
            assert!(note.starts_with(name) && note.contains("Json"), "{note}");
        }
    }

    #[test]
    fn near_misses_are_not_compressed() {
        // Text that happens to start like a zlib header, and a gzip magic without deflate.
        assert_ne!(
            sniff_kind(b"x^2 + y^2 = r^2, a note on circles\n"),
            Kind::Compressed
        );
        assert_ne!(
            sniff_kind(b"\x1f\x8b\x07 not deflate at all"),
            Kind::Compressed
        );
        assert!(container(b"x\x9c").is_some());
        assert!(container(b"x\x9d").is_none(), "bad FCHECK");
    }

    #[test]
    fn bombs_and_damage_are_bounded_and_said() {
        // 64 MiB of zeros packs to ~64 KiB: the ratio cap stops it long before.
        let zeros = vec![0u8; 64 << 20];
        let bomb = gz(&zeros);
        drop(zeros);
        let (inner, why) = inflate(&bomb).unwrap();
        assert!(inner.len() <= MIN_CAP.max(bomb.len() * MAX_RATIO));
        assert!(why.unwrap().contains("cap"));
        // A stream cut in half: what inflated is still searched, with a note.
        let text: Vec<u8> = (0..4000)
            .flat_map(|i| format!("line {i} password=hunter{i}x\n").into_bytes())
            .collect();
        let packed = gz(&text);
        let (got, note) = collect(&packed[..packed.len() / 2]);
        assert!(!got.is_empty());
        assert!(note.unwrap().contains("damaged"));
        // Compressed twice: inflated once, then strings.
        let (_, note) = collect(&gz(&gz(b"password=hunter2-hunter2")));
        assert!(note.unwrap().contains("Binary"));
        // Garbage after a gzip header: an error the caller turns into strings.
        let (_, note) = collect(b"\x1f\x8b\x08\x00garbage garbage garbage");
        assert!(note.unwrap().contains("does not decode"));
    }
}
