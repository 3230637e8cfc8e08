//! Scan and keychain over the project's own fixture backups: these run on a fresh clone
//! without ../shared (the conformance and external tests are the independent witnesses).

mod common;
use common::*;
use std::path::Path;

fn write(spec: &str, out: &Path) -> auditor::fixture::WriteSummary {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/specs")
            .join(spec),
    )
    .unwrap();
    let spec: auditor::fixture::Spec = serde_json::from_str(&text).unwrap();
    auditor::fixture::write(&spec, out).unwrap()
}

#[test]
fn small_fixture_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    for (spec, pw) in [
        ("small.json", Some("fixture-small-pw")),
        ("small-unencrypted.json", None),
    ] {
        let dir = tmp.path().join(spec);
        let w = write(spec, &dir);
        let mut args = vec!["scan", dir.to_str().unwrap(), "--deep", "--format", "json"];
        let pwf = tmp.path().join("pw");
        std::fs::write(&pwf, pw.unwrap_or("")).unwrap();
        if pw.is_some() {
            args.extend(["--password-file", pwf.to_str().unwrap()]);
        }
        let before = tree_digest(&dir);
        let r = json_ok(&args);
        let s = &r["summary"];
        assert_eq!(s["entries"], w.rows, "{spec}");
        assert_eq!(s["files"], w.files, "{spec}");
        assert_eq!(s["directories"], w.directories, "{spec}");
        assert_eq!(s["symlinks"], w.symlinks, "{spec}");
        assert_eq!(s["files_missing"], w.files_missing, "{spec}");
        assert_eq!(s["empty_files"], w.empty_files, "{spec}");
        assert_eq!(s["size_mismatch_files"], w.size_mismatches, "{spec}");
        assert_eq!(s["content_bytes"], w.content_bytes, "{spec}");
        assert_eq!(s["stored_bytes_present"], w.stored_bytes, "{spec}");
        assert_eq!(s["apps"], w.apps, "{spec}");
        assert_eq!(s["orphans"], 0);
        assert_eq!(s["deep"]["failed"], 0);
        for (class, c) in &w.by_class {
            assert_eq!(
                s["by_protection_class"][class.to_string()]["files"],
                c.files,
                "{spec} class {class}"
            );
        }
        assert_eq!(r["keychain"]["items"], w.keychain_items, "{spec}");
        assert_eq!(r["backup"]["encryption"]["declared"], w.encrypted);
        assert_eq!(
            before,
            tree_digest(&dir),
            "{spec}: scan modified the backup"
        );
    }
}

#[test]
fn bundled_demo_is_what_its_spec_writes() {
    // The committed demo backup must stay in step with the writer and its spec.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    write("demo.json", &out);
    let committed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/00008130-000A11CE0DE0001E");
    let strip = |base: &Path,
                 v: Vec<(std::path::PathBuf, u64, String)>|
     -> Vec<(std::path::PathBuf, u64, String)> {
        v.into_iter()
            .map(|(p, n, h)| (p.strip_prefix(base).unwrap().to_path_buf(), n, h))
            .collect()
    };
    assert_eq!(
        strip(&out, tree_digest(&out)),
        strip(&committed, tree_digest(&committed))
    );
}
