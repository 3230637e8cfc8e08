//! The `patch` receipt as text: where the copy is, then each change with its SHA-256 before and after.

use super::text::{fit_middle, wrapped, WIDTH};
use crate::patch::Receipt;
use std::io::Write;

/// Write the receipt: the copy, then one block per change.
pub fn write(o: &mut dyn Write, r: &Receipt) -> std::io::Result<()> {
    wrapped(o, "", &format!("Patched copy written to {}", r.out), 2)?;
    wrapped(o, "  ", &format!("from {} (only read)", r.backup), 4)?;
    let enc = if r.encrypted {
        "encrypted"
    } else {
        "not encrypted"
    };
    wrapped(
        o,
        "  ",
        &format!(
            "{enc}; {} rewritten; {} files copied unchanged ({} bytes)",
            r.index, r.files_copied, r.bytes_copied
        ),
        4,
    )?;
    for n in &r.not_copied {
        wrapped(o, "  ", &format!("not copied: {n}"), 4)?;
    }
    if !r.unchanged.is_empty() {
        wrapped(
            o,
            "  ",
            &format!("kept as they were: {}", r.unchanged.join(", ")),
            4,
        )?;
    }
    for (i, c) in r.changes.iter().enumerate() {
        writeln!(o)?;
        let head = format!("{}. {} {}:{}", i + 1, c.kind, c.domain, c.path);
        writeln!(o, "{}", fit_middle(&head, WIDTH).trim_end())?;
        if let (Some(k), Some(old), Some(new)) = (&c.key_path, &c.old_value, &c.new_value) {
            wrapped(
                o,
                "   ",
                &format!("{k}: {} -> {}", old.display(), new.display()),
                5,
            )?;
        }
        if let Some(l) = &c.local_file {
            wrapped(o, "   ", &format!("content from {l}"), 5)?;
        }
        writeln!(o, "   sha256 before {}", c.sha256_before)?;
        match &c.sha256_after {
            Some(a) => writeln!(o, "   sha256 after  {a}")?,
            None => writeln!(o, "   deleted (row and payload)")?,
        }
        let size = match c.size_after {
            Some(a) => format!("size {} -> {a} bytes", c.size_before),
            None => format!("size {} bytes", c.size_before),
        };
        let class = match (c.protection_class, c.sha256_after.is_some()) {
            (Some(p), true) => format!("; class {p}, same file key"),
            _ => String::new(),
        };
        let digest = if c.digest_updated {
            "; Digest updated"
        } else {
            ""
        };
        wrapped(o, "   ", &format!("{size}{class}{digest}"), 5)?;
    }
    Ok(())
}
