//! Replays every checked-in fuzz corpus file (`fuzz/corpus/<target>/`) through its fuzz
//! target's body (`fuzz/targets.rs`), so that each `cargo test` runs every target on the
//! corpus without a fuzzer, and a crash the fuzzer once found stays fixed.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} holds no seed", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // A panic names the file: the target's own message says what broke.
            eprintln!("{}", file.display());
            target(&data);
        }
    }
}
