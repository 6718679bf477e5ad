//! Targets for every YAML format: the modem-sim phone network, the ppp-peer-sim server
//! script and the conformance scenario (parse only; nothing is run).

use std::path::Path;

/// modem-sim's network file: any text loads or gives an error that says something; a
/// loaded network answers a lookup of every line of the input.
pub fn network_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match modem_sim::Network::from_yaml(&text) {
        Ok(network) => {
            for line in text.lines() {
                let _ = network.lookup(line);
            }
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

/// ppp-peer-sim's script: any text loads or gives an error that says something, located
/// inside the text when it has a location.
pub fn script_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = ppp_peer_sim::Script::from_yaml(&text) {
        assert!(!error.to_string().is_empty());
        if let Some((line, _)) = error.location() {
            let lines = yaml_lines(&text);
            assert!(line <= lines, "line {line} of a {lines}-line script");
        }
    }
}

/// Lines as YAML counts them: CR LF, CR and LF all break a line (YAML 1.2 §5.4).
fn yaml_lines(text: &str) -> u64 {
    let breaks = text.replace("\r\n", "\n").matches(['\r', '\n']).count();
    breaks as u64 + 1
}

/// The conformance scenario loader: any text either loads or gives located problems,
/// never a panic.
pub fn scenario_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = conformance::scenario::parse("fuzz", Path::new("fuzz.yaml"), &text) {
        assert!(
            !error.problems.is_empty(),
            "an error names at least one problem"
        );
        let _ = error.summary();
    }
}
