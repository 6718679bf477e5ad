//! Issue 16 #12: what a bad network file is told, in the file's terms (the rule broken,
//! the line and column), never the YAML library's.

use modem_sim::Network;

fn message(yaml: &str) -> String {
    match Network::from_yaml(yaml) {
        Ok(network) => panic!("accepted: {network:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn network_file_messages() {
    let cases = [
        (
            "two far ends",
            "numbers:\n  \"1\": {connect: 9600, exec: \"cat\", tcp: \"x:1\"}\n",
        ),
        ("misspelled outcome", "numbers:\n  \"1\": bussy\n"),
        (
            "number twice",
            "numbers:\n  \"1\": {connect: 9600}\n  \"1\": busy\n",
        ),
        ("speed too big", "numbers:\n  \"1\": {connect: 1e308}\n"),
        ("negative speed", "numbers:\n  \"1\": {connect: -1}\n"),
        ("unknown key", "nubmers: {}\n"),
        (
            "same number twice",
            "numbers:\n  \"5-55\": busy\n  \"555\": busy\n",
        ),
        ("nothing to dial", "numbers:\n  \"--\": busy\n"),
    ];
    let report: String = cases
        .iter()
        .map(|(what, yaml)| format!("{what}:\n  {}\n", message(yaml)))
        .collect();
    for internal in [
        "DuplicateKeyPolicy",
        "u32",
        "untagged",
        "variant",
        "duplicate field",
    ] {
        assert!(!report.contains(internal), "{internal} in:\n{report}");
    }
    insta::assert_snapshot!(report);
}
