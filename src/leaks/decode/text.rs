//! Text and the printable strings of binary content, with lines and byte offsets.

use super::{Field, Where};

/// Shortest printable run taken from binary content.
pub const MIN_STRING: usize = 8;

/// Valid UTF-8 (allowing a cut last character) of which nearly all is printable.
pub fn looks_like_text(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(4096)];
    let valid = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.valid_up_to() + 4 >= sample.len() && e.error_len().is_none(),
    };
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    valid && control * 100 <= sample.len()
}

/// Lines a PEM block may span (a 16384-bit RSA key in PEM is about 200 lines).
const MAX_BLOCK_LINES: usize = 256;

/// Text: each line is a field (no name), at its line number and offset; a PEM block
/// (`-----BEGIN …-----` to `-----END …-----`) is also one field, at its first line, since a
/// key is found only whole.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    let mut offset = 0usize;
    // Line number, offset and line count of an open `-----BEGIN`.
    let mut block: Option<(u64, usize, usize)> = None;
    for (i, line) in b.split(|&c| c == b'\n').enumerate() {
        let no = i as u64 + 1;
        if !line.is_empty() {
            out(Field {
                at: Where::Text {
                    line: no,
                    offset: offset as u64,
                },
                name: None,
                value: line,
                deleted: false,
            });
        }
        let trimmed = line.trim_ascii_start();
        if trimmed.starts_with(b"-----BEGIN ") {
            block = Some((no, offset, 0));
        } else if let Some((first, start, n)) = block {
            if trimmed.starts_with(b"-----END ") {
                out(Field {
                    at: Where::Text {
                        line: first,
                        offset: start as u64,
                    },
                    name: None,
                    value: &b[start..offset + line.len()],
                    deleted: false,
                });
                block = None;
            } else if n + 1 >= MAX_BLOCK_LINES {
                block = None;
            } else {
                block = Some((first, start, n + 1));
            }
        }
        offset += line.len() + 1;
    }
}

/// Binary content: each run of at least [`MIN_STRING`] printable ASCII bytes is a field.
/// (UTF-16 text, as WebKit LocalStorage keeps it, is read by its own decoder.)
///
/// Random-looking content is the common case and has a short printable run every few
/// bytes, so the bytes are classified 64 at a time into a bit mask and only a block with a
/// run of [`MIN_STRING`] or one reaching its end is looked at further (a byte-by-byte loop
/// spent a third of the leak sweep mispredicting branches; docs/performance.md).
pub fn strings(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    let mut emit = |start: usize, end: usize| {
        if end - start >= MIN_STRING {
            out(Field {
                at: Where::Bytes {
                    offset: start as u64,
                },
                name: None,
                value: &b[start..end],
                deleted: false,
            });
        }
    };
    // The start of a printable run that reaches the end of the blocks seen so far.
    let mut open: Option<usize> = None;
    let mut blocks = b.chunks_exact(64);
    let mut base = 0usize;
    for block in blocks.by_ref() {
        let mut m = printable_mask(block.try_into().expect("a 64-byte block"));
        if let Some(start) = open {
            let lead = m.trailing_ones() as usize;
            if lead == 64 {
                base += 64;
                continue;
            }
            emit(start, base + lead);
            open = None;
            // The run ended at bit `lead` (a non-printable byte): clear through it.
            m &= if lead + 1 >= 64 {
                0
            } else {
                !0u64 << (lead + 1)
            };
        }
        // Bit j of `m8` is set when bytes j..j+8 of the block are all printable.
        let mut m8 = m;
        for k in 1..MIN_STRING as u32 {
            m8 &= m >> k;
        }
        while m8 != 0 {
            let s = m8.trailing_zeros() as usize;
            let len = (m >> s).trailing_ones() as usize;
            if s + len == 64 {
                open = Some(base + s);
                m = 0;
                break;
            }
            emit(base + s, base + s + len);
            let clear = !0u64 << (s + len);
            m &= clear;
            m8 &= clear;
        }
        // A shorter run reaching the block's end may go on in the next block.
        let tail = m.leading_ones() as usize;
        if open.is_none() && tail > 0 {
            open = Some(base + 64 - tail);
        }
        base += 64;
    }
    let rest = blocks.remainder();
    for (j, &c) in rest.iter().enumerate() {
        match (printable(c), open) {
            (true, None) => open = Some(base + j),
            (false, Some(start)) => {
                emit(start, base + j);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        emit(start, b.len());
    }
}

fn printable(c: u8) -> bool {
    (0x20..0x7f).contains(&c) || c == b'\t'
}

/// Bit j set when byte j of the block is printable (written so that it vectorises).
fn printable_mask(block: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (j, &c) in block.iter().enumerate() {
        m |= (printable(c) as u64) << j;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_runs_keep_their_offsets() {
        let mut got = Vec::new();
        fields(b"a=1\n\npassword=x\n", &mut |f| {
            got.push((f.at, f.value.to_vec()))
        });
        assert_eq!(
            got,
            vec![
                (Where::Text { line: 1, offset: 0 }, b"a=1".to_vec()),
                (Where::Text { line: 3, offset: 5 }, b"password=x".to_vec()),
            ]
        );
        let mut runs = Vec::new();
        strings(b"\x00\x01short\x00long enough run\xff", &mut |f| {
            runs.push((f.at, f.value.to_vec()))
        });
        assert_eq!(
            runs,
            vec![(Where::Bytes { offset: 8 }, b"long enough run".to_vec())]
        );
        let mut blocks = Vec::new();
        let pem =
            b"key:\n  -----BEGIN PRIVATE KEY-----\n  QUJD\n  -----END PRIVATE KEY-----\nafter\n";
        fields(pem, &mut |f| blocks.push((f.at, f.value.to_vec())));
        assert_eq!(blocks.len(), 6, "five lines and one block");
        assert_eq!(
            blocks[4],
            (
                Where::Text { line: 2, offset: 5 },
                pem[5..pem.len() - 7].to_vec()
            )
        );
        assert!(looks_like_text("héllo wörld\n".as_bytes()));
        assert!(!looks_like_text(b"\x00\x01\x02\x03binary\x00\x00"));
    }

    /// The byte-at-a-time definition the block-wise `strings` must agree with.
    fn naive(b: &[u8]) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !printable(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && printable(b[i]) {
                i += 1;
            }
            if i - start >= MIN_STRING {
                runs.push((start, i));
            }
        }
        runs
    }

    #[test]
    fn block_wise_runs_equal_the_byte_wise_definition() {
        // Seeded xorshift content at printable densities from none to all, and lengths that
        // put runs across and exactly on 64-byte block edges.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut total = 0;
        for density in [0u64, 10, 37, 60, 85, 95, 100] {
            for len in [0usize, 7, 8, 63, 64, 65, 127, 128, 129, 200, 1000, 4096] {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = next();
                        if r % 100 < density {
                            b' ' + (r >> 8) as u8 % 95
                        } else {
                            [0u8, 0x7f, 0x80, 0xff, 0x1f, b'\n'][(r >> 8) as usize % 6]
                        }
                    })
                    .collect();
                let mut got = Vec::new();
                strings(&b, &mut |f| {
                    let Where::Bytes { offset } = f.at else {
                        panic!("not a byte offset")
                    };
                    got.push((offset as usize, offset as usize + f.value.len()))
                });
                let want = naive(&b);
                total += want.len();
                assert_eq!(got, want, "density {density}, length {len}");
            }
        }
        assert!(total > 50, "the inputs hold runs to compare ({total})");
        // A run of exactly 64 bytes on a block, and one ending on the last byte.
        let mut b = vec![0u8; 64];
        b.extend(std::iter::repeat_n(b'a', 64));
        b.extend([0u8; 3]);
        b.extend(std::iter::repeat_n(b'z', 61));
        let mut got = Vec::new();
        strings(&b, &mut |f| got.push(f.value.len()));
        assert_eq!(got, vec![64, 61]);
    }
}
