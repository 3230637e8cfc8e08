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

/// Text: each line is a field (no name), at its line number and offset.
pub fn fields(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    let mut offset = 0usize;
    for (i, line) in b.split(|&c| c == b'\n').enumerate() {
        if !line.is_empty() {
            out(Field::new(
                Where::Text {
                    line: i as u64 + 1,
                    offset: offset as u64,
                },
                None,
                line,
            ));
        }
        offset += line.len() + 1;
    }
}

/// Binary content: each run of at least [`MIN_STRING`] printable ASCII bytes is a field.
/// (UTF-16 text, as WebKit LocalStorage keeps it, is read by its own decoder.)
pub fn strings(b: &[u8], out: &mut dyn FnMut(Field<'_>)) {
    let printable = |c: u8| (0x20..0x7f).contains(&c) || c == b'\t';
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
            out(Field::new(
                Where::Bytes {
                    offset: start as u64,
                },
                None,
                &b[start..i],
            ));
        }
    }
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
        assert!(looks_like_text("héllo wörld\n".as_bytes()));
        assert!(!looks_like_text(b"\x00\x01\x02\x03binary\x00\x00"));
    }
}
