//! What a scenario author reads when a file is wrong or can never pass (issue 16 #3, #12,
//! #13): file, line and column, and the rule in the author's words, never a library's
//! internals. One snapshot per fixture in `tests/fixtures/unrunnable/`.

use std::path::Path;

use conformance::scenario::{LoadError, load};

#[test]
fn every_unrunnable_fixture_is_refused_in_plain_words() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unrunnable");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let message = match load(&root, &file) {
            Err(LoadError::Invalid(error)) => error.summary(),
            Err(LoadError::Read(error)) => panic!("{name}: unreadable: {error}"),
            Ok(_) => panic!("{name}: accepted, but it can never pass"),
        };
        // The fixtures' folder differs between machines; the message after it does not.
        let message = message.replace(&format!("{}/", root.display()), "");
        for internal in [
            "DuplicateKeyPolicy",
            "untagged enum",
            "budget",
            "from_str",
            ":0:0:",
        ] {
            assert!(!message.contains(internal), "{name}: {message}");
        }
        insta::assert_snapshot!(name, message);
    }
}
