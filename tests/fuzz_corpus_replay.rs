//! Replays the committed fuzz corpora (tests/corpus/<target>/) through the fuzz target bodies
//! on stable Rust, and runs a seeded mutational driver over them (short by default, long
//! under `--ignored`), so every crash once found stays fixed without nightly or cargo-fuzz.
//!
//! - `replay_committed_corpus`: every committed input of every target, no panic.
//! - `replay_external_extracts`: small extracts derived at run time from ../shared/external
//!   (never committed: SOURCES.md forbids copying that data into the repository).
//! - `mutational_smoke`: a few thousand mutated inputs per target (seeded, reproducible).
//! - `mutational_long` (ignored): `AUDITOR_FUZZ_ITERS` (default 100 000) per target.
//! - `regenerate_corpus` (ignored): rewrites the committed seeds from ../shared/conformance
//!   and hand-built inputs.
//!
//! A global allocator refuses any single allocation above [`ALLOC_LIMIT`]: a parser that
//! sizes a buffer from a declared length would abort the test here instead of passing.

mod common;
#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest single allocation any target may make from a corpus-sized input (≤ 1 MB).
const ALLOC_LIMIT: usize = 256 << 20;

struct CappedAlloc;

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_LIMIT {
            return std::ptr::null_mut();
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOC_LIMIT {
            return std::ptr::null_mut();
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn target_fn(name: &str) -> fn(&[u8]) {
    targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// The committed inputs of one target, sorted by name. A `*.bundle` file holds many inputs
/// (each a u32 little-endian length and the bytes): the libFuzzer corpus minimised with
/// `cargo fuzz cmin`, kept as one file per target instead of hundreds.
fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_root().join(name);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for p in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
    {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&p).expect("read corpus file");
        if file.ends_with(".bundle") {
            let mut rest = &bytes[..];
            let mut i = 0;
            while let Some((len, tail)) = rest.split_first_chunk::<4>() {
                let n = u32::from_le_bytes(*len) as usize;
                let (one, after) = tail.split_at_checked(n).expect("bundle entry in bounds");
                out.push((format!("{file}#{i}"), one.to_vec()));
                rest = after;
                i += 1;
            }
            assert!(rest.is_empty(), "{file}: trailing bytes");
        } else {
            out.push((file, bytes));
        }
    }
    out.sort();
    out
}

/// Run `f` on `data`; on panic save the input under target/fuzz-crashes/ and return why.
fn run_one(target: &str, f: fn(&[u8]), data: &[u8]) -> Result<Duration, String> {
    let t = Instant::now();
    let r = std::panic::catch_unwind(|| f(data));
    let took = t.elapsed();
    match r {
        Ok(()) => Ok(took),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let name = format!("{target}-{}", fnv(data));
            let _ = std::fs::write(dir.join(&name), data);
            Err(format!(
                "{target}: panic `{msg}` (input saved as {})",
                dir.join(name).display()
            ))
        }
    }
}

fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[test]
fn replay_committed_corpus() {
    let mut total = 0usize;
    let mut failures = Vec::new();
    for (name, f) in targets::TARGETS {
        let inputs = corpus(name);
        assert!(!inputs.is_empty(), "tests/corpus/{name}/ has no input");
        for (file, data) in &inputs {
            total += 1;
            if let Err(e) = run_one(name, *f, data) {
                failures.push(format!("{name}/{file}: {e}"));
            }
        }
    }
    eprintln!(
        "replayed {total} committed inputs over {} targets",
        targets::TARGETS.len()
    );
    assert!(failures.is_empty(), "crashes:\n{}", failures.join("\n"));
}

// ------------------------------------------------------------------------------------------
// Mutational driver

/// xorshift64* (seeded: every run with the same seed mutates the same way).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u64] = &[
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    u64::MAX,
    40,
    1 << 20,
];

/// One mutation of `input` (libFuzzer-like: bit flips, interesting integers in both byte
/// orders, inserts, deletes, truncation, block duplication, splicing with `other`).
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = input.to_vec();
    let rounds = if rng.below(2) == 0 {
        1
    } else {
        2 + rng.below(3)
    };
    for _ in 0..rounds {
        let len = d.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let w = [1usize, 2, 4, 8][rng.below(4)];
                let i = rng.below(len);
                let bytes = if rng.below(2) == 0 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                let src: Vec<u8> = if bytes[0] == 0 && bytes[7] != 0 {
                    bytes[8 - w..].to_vec()
                } else {
                    bytes[..w].to_vec()
                };
                for (k, b) in src.iter().enumerate() {
                    if let Some(x) = d.get_mut(i + k) {
                        *x = *b;
                    }
                }
            }
            3 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let fill = rng.next() as u8;
                d.splice(i..i, std::iter::repeat_n(fill, n));
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                d.drain(i..i + n);
            }
            5 if len > 0 => d.truncate(rng.below(len)),
            6 if len > 1 => {
                let a = rng.below(len);
                let n = 1 + rng.below((len - a).min(256));
                let chunk = d[a..a + n].to_vec();
                let at = rng.below(len);
                d.splice(at..at, chunk);
            }
            7 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                d.truncate(cut);
                d.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => {
                // ASCII digits and plist/DER markers.
                let i = rng.below(len);
                d[i] = b"0123456789<>/\x30\x31\x0c\x04\x02\xff\x5f\xd0\xa0\x80"[rng.below(23)];
            }
            _ => d.push(rng.next() as u8),
        }
    }
    d
}

struct DriverStats {
    execs: u64,
    slowest: Duration,
    slowest_input: usize,
}

fn drive(name: &str, iters: u64, seed: u64) -> Result<DriverStats, String> {
    let f = target_fn(name);
    let seeds = corpus(name);
    let mut rng = Rng(seed ^ u64::from_str_radix(&fnv(name.as_bytes()), 16).unwrap() | 1);
    let mut stats = DriverStats {
        execs: 0,
        slowest: Duration::ZERO,
        slowest_input: 0,
    };
    // The queue starts with the seeds; mutants that ran are sometimes kept as new parents
    // (no coverage feedback on stable, so stacking mutations is what reaches deeper).
    let mut queue: Vec<Vec<u8>> = seeds.into_iter().map(|(_, d)| d).collect();
    let base = queue.len();
    for _ in 0..iters {
        let a = rng.below(queue.len());
        let b = rng.below(queue.len());
        let m = mutate(&mut rng, &queue[a], &queue[b]);
        let took = run_one(name, f, &m)?;
        stats.execs += 1;
        if took > stats.slowest {
            stats.slowest = took;
            stats.slowest_input = m.len();
        }
        if rng.below(8) == 0 && m.len() <= 1 << 20 {
            if queue.len() < base + 256 {
                queue.push(m);
            } else {
                let i = base + rng.below(256);
                queue[i] = m;
            }
        }
    }
    Ok(stats)
}

fn run_driver(iters: u64) {
    let seed: u64 = std::env::var("AUDITOR_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_A0D1_7000_0001);
    let mut total = 0u64;
    let mut failures = Vec::new();
    for (name, _) in targets::TARGETS {
        // SQLite is ~100x slower per input than the other parsers.
        let n = if matches!(*name, "manifest_db" | "leaks_sqlite" | "leaks_wal") {
            (iters / 10).max(1)
        } else {
            iters
        };
        let t = Instant::now();
        match drive(name, n, seed) {
            Ok(s) => {
                total += s.execs;
                eprintln!(
                    "{name}: {} execs in {:.1?}, slowest {:.1?} ({} bytes)",
                    s.execs,
                    t.elapsed(),
                    s.slowest,
                    s.slowest_input
                );
                assert!(
                    s.slowest < Duration::from_secs(2),
                    "{name}: one input took {:?}",
                    s.slowest
                );
            }
            Err(e) => failures.push(e),
        }
    }
    eprintln!("mutational driver: {total} executions, seed {seed}");
    assert!(failures.is_empty(), "crashes:\n{}", failures.join("\n"));
}

#[test]
fn mutational_smoke() {
    run_driver(1500);
}

#[test]
#[ignore = "long run: cargo test --release --test fuzz_corpus_replay -- --ignored mutational_long"]
fn mutational_long() {
    let iters = std::env::var("AUDITOR_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    run_driver(iters);
}

// ------------------------------------------------------------------------------------------
// External extracts (derived at run time, never committed)

fn plist_data(v: &plist::Value, key: &str) -> Option<Vec<u8>> {
    v.as_dictionary()?.get(key)?.as_data().map(<[u8]>::to_vec)
}

#[test]
fn replay_external_extracts() {
    let Some(ext) = common::shared("external") else {
        return;
    };
    let mut inputs: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let mut walk = vec![ext.clone()];
    while let Some(d) = walk.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let label = p.strip_prefix(&ext).unwrap().display().to_string();
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            if len > 8 << 20 {
                continue;
            }
            let bytes = std::fs::read(&p).expect("read");
            if name.starts_with("Manifest") && name.ends_with(".plist") {
                if let Ok(v) = plist::Value::from_reader(std::io::Cursor::new(&bytes)) {
                    if let Some(kb) = plist_data(&v, "BackupKeyBag") {
                        inputs.push(("keybag", label.clone(), kb));
                    }
                }
                inputs.push(("manifest_plist", label, bytes));
            } else if name == "Info.plist" {
                inputs.push(("info_plist", label, bytes));
            } else if name == "Status.plist" {
                inputs.push(("status_plist", label, bytes));
            } else if name.starts_with("keybag") && name.ends_with(".bin") {
                inputs.push(("keybag", label, bytes));
            } else if name == "Manifest.mbdb" {
                inputs.push(("mbdb", label, bytes));
            } else if name == "Manifest.db" && bytes.starts_with(b"SQLite format 3\0") {
                for (i, blob) in mbfile_blobs(&p, 200).into_iter().enumerate() {
                    inputs.push(("mbfile", format!("{label}#{i}"), blob));
                }
                inputs.push(("manifest_db", label, bytes));
            }
        }
    }
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (target, label, data) in &inputs {
        *counts.entry(target).or_default() += 1;
        if let Err(e) = run_one(target, target_fn(target), data) {
            failures.push(format!("{label}: {e}"));
        }
    }
    eprintln!("external extracts replayed: {counts:?}");
    assert!(counts.get("keybag").copied().unwrap_or(0) >= 5);
    assert!(counts.get("mbdb").copied().unwrap_or(0) >= 2);
    assert!(failures.is_empty(), "crashes:\n{}", failures.join("\n"));
}

/// Up to `max` `file` blobs of a plain Manifest.db, opened read-only and immutable.
fn mbfile_blobs(db: &Path, max: usize) -> Vec<Vec<u8>> {
    let uri = format!("file:{}?mode=ro&immutable=1", db.display());
    let conn = rusqlite::Connection::open_with_flags(
        uri,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .expect("open Manifest.db");
    let mut st = conn
        .prepare("SELECT file FROM Files WHERE file IS NOT NULL LIMIT ?1")
        .expect("prepare");
    st.query_map([max as i64], |r| r.get::<_, Vec<u8>>(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

// ------------------------------------------------------------------------------------------
// Seed generation (run by hand when the parsers learn new shapes)

#[path = "corpus/seeds.rs"]
mod corpus_seeds;

#[test]
#[ignore = "rewrites tests/corpus/: cargo test --test fuzz_corpus_replay -- --ignored regenerate_corpus"]
fn regenerate_corpus() {
    let Some(conf) = common::shared("conformance") else {
        panic!("../shared/conformance is needed to regenerate the corpus");
    };
    let seeds = corpus_seeds::build(&conf);
    let root = corpus_root();
    let mut total = 0;
    for (target, name, bytes) in seeds {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), bytes).expect("write seed");
        total += 1;
    }
    eprintln!("wrote {total} seeds under {}", root.display());
}
