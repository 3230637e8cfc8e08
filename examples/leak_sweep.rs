//! Run the leak rules over every file under a folder (an `auditor extract` output) and
//! print, per file, the rules that fire with a redacted preview: the measurement behind
//! docs/rules.md's leak rules on real backups. Never prints a value.
//!
//!     cargo run --release --example leak_sweep -- EXPORTED_FOLDER

use auditor::leaks::{builtin, redact};
use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: leak_sweep FOLDER");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    walk(Path::new(&root), &mut files);
    files.sort();
    let rules = builtin();
    let (mut scanned, mut hits_total) = (0u64, 0u64);
    let mut by_rule = std::collections::BTreeMap::<String, u64>::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        scanned += 1;
        for h in rules.scan_text(&bytes) {
            hits_total += 1;
            *by_rule.entry(h.rule.id.clone()).or_default() += 1;
            println!(
                "{}\t{}\t@{}\t{}",
                f.strip_prefix(&root).unwrap_or(f).display(),
                h.rule.id,
                h.span.start,
                redact::preview(&bytes[h.span.clone()])
            );
        }
    }
    eprintln!("{scanned} files, {hits_total} hits: {by_rule:?}");
}
