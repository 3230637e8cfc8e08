//! Helpers shared by the integration tests: locating ../shared, running the binary.
#![allow(dead_code)]

pub mod sarif;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `../shared/<rel>` beside the repository, or None (the caller skips and says so).
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} not found (../shared is not beside the repository)",
            p.display()
        );
        None
    }
}

/// The backup folder inside a conformance case, and its EXPECTED.json.
pub fn conformance(case: &str) -> Option<(PathBuf, serde_json::Value)> {
    let dir = shared(&format!("conformance/{case}"))?;
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json")).expect("EXPECTED.json"))
            .expect("EXPECTED.json parses");
    let backup = dir.join(expected["backup_dir"].as_str().expect("backup_dir"));
    Some((backup, expected))
}

/// Run the auditor binary with no stdin (as CI does) and return its output.
pub fn auditor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditor"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("AUDITOR_PASSWORD")
        .output()
        .expect("run auditor")
}

/// Parse stdout as JSON, with a helpful panic message.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); status {:?}\nstderr: {}\nstdout: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Run the auditor binary (as [`auditor`]), require exit 0 and return its stdout as JSON.
pub fn json_ok(args: &[&str]) -> serde_json::Value {
    let out = auditor(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "auditor {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

/// The bundled demo backup (encrypted, cheap key derivation) and its password file.
pub const DEMO: &str = "fixtures/demo/00008130-000A11CE0DE0001E";
pub const DEMO_PASSWORD_FILE: &str = "fixtures/demo/password.txt";

/// `rel` under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Copy the folder `from` to `to`, recursively (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &p);
        } else {
            std::fs::copy(e.path(), &p).unwrap();
        }
    }
}

/// A copy of the demo backup in a fresh temporary folder (removed with the guard).
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("00008130-000A11CE0DE0001E");
    copy_dir(&repo(DEMO), &b);
    (tmp, b)
}

/// Hash every file under `dir` (path, length, SHA-256) to prove it was not modified.
pub fn tree_digest(dir: &Path) -> Vec<(PathBuf, u64, String)> {
    use sha2::Digest;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let md = std::fs::symlink_metadata(&p).expect("metadata");
            if md.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, md.len(), hex::encode(sha2::Sha256::digest(&bytes))));
            }
        }
    }
    out.sort();
    out
}

/// Binary plist whose objects expand exponentially: object i is an array of 16 references
/// to object i+1 (a "billion laughs" of shared references), the last one a string.
pub fn expanding_bplist(levels: usize) -> Vec<u8> {
    let mut b = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for i in 0..levels {
        offsets.push(b.len() as u16);
        b.push(0xAF); // array, length follows
        b.push(0x10);
        b.push(16);
        b.extend(std::iter::repeat_n((i + 1) as u8, 16));
    }
    offsets.push(b.len() as u16);
    b.push(0x5F);
    b.push(0x10);
    b.push(64);
    b.extend(std::iter::repeat_n(b'x', 64));
    let table = b.len() as u64;
    for o in &offsets {
        b.extend_from_slice(&o.to_be_bytes());
    }
    let mut trailer = [0u8; 32];
    trailer[6] = 2;
    trailer[7] = 1;
    trailer[8..16].copy_from_slice(&(offsets.len() as u64).to_be_bytes());
    trailer[24..32].copy_from_slice(&table.to_be_bytes());
    b.extend_from_slice(&trailer);
    b
}

/// An XML plist nesting `depth` arrays inside a dictionary.
pub fn deep_xml_plist(depth: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>a</key>");
    for _ in 0..depth {
        s.push_str("<array>");
    }
    for _ in 0..depth {
        s.push_str("</array>");
    }
    s.push_str("</dict></plist>");
    s.into_bytes()
}

/// The lines of a table's text that break the layout: wider than 80 terminal columns, or
/// ending in a space. Exempt from the width, and only from it: a line that is one value
/// that cannot be broken, i.e. one word after its indent (a path, a location or a bundle id
/// on a line of its own), or a label naming a path and that path (`Backup <path>`,
/// `Keychain of <path>`, `Exported to <path>`): this machine's paths are as long as they are.
pub fn misfit_lines(text: &str) -> Vec<String> {
    const LABELS: [&[&str]; 3] = [&["Backup"], &["Keychain", "of"], &["Exported", "to"]];
    let unbreakable = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.len() == 1
            || LABELS
                .iter()
                .any(|lab| words.len() == lab.len() + 1 && words.starts_with(lab))
    };
    text.lines()
        .filter(|l| {
            l.ends_with(' ')
                || l.contains('\t')
                || (unicode_width::UnicodeWidthStr::width(*l) > 80 && !unbreakable(l))
        })
        .map(str::to_string)
        .collect()
}
