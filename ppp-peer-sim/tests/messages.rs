//! Issue 16 #12: what a bad script is told: the file, line and column, and the rule in
//! the script's words, never the YAML library's (`<input>`, `DuplicateKeyPolicy`, `u32`).

use std::path::Path;

use ppp_peer_sim::Script;

#[test]
fn script_messages() {
    let cases = [
        (
            "key twice",
            "auth: pap\nusers: {alice: secret}\nusers: {bob: x}\n",
        ),
        ("misspelled auth", "auth: papp\n"),
        (
            "count too big",
            "users:\n  alice: {password: x, outcome: disabled, fail: 1e308}\n",
        ),
        ("unknown key", "usrs: {}\n"),
        ("negative fault", "faults: [{corrupt-fcs: -1}]\n"),
        ("account of the wrong shape", "users:\n  alice: [1, 2]\n"),
        ("retries without MS-CHAPv2", "users: {a: b}\nretries: 1\n"),
    ];
    let file = Path::new("server.yaml");
    let report: String = cases
        .iter()
        .map(|(what, yaml)| match Script::from_yaml(yaml) {
            Ok(script) => panic!("{what}: accepted {script:?}"),
            Err(error) => format!("{what}:\n  {}\n", error.in_file(file)),
        })
        .collect();
    for internal in [
        "<input>",
        "DuplicateKeyPolicy",
        "u32",
        "variant",
        "error: line",
    ] {
        assert!(!report.contains(internal), "{internal} in:\n{report}");
    }
    insta::assert_snapshot!(report);
}
