//! `conformance new NAME` (issue 14): a commented scenario to start from. It passes schema
//! validation, loads, and passes as written (a PAP dial that connects); the comments name
//! the other choices, and `conformance record` fills `expect:` once it is changed.

use std::path::{Component, Path, PathBuf};

/// The template for a scenario at `path`, whose `$schema` line points at `schema`
/// (relative to the file's folder when both are on one tree).
pub fn template(path: &Path, schema: &Path) -> String {
    let schema = relative_to(schema, path.parent().unwrap_or(Path::new(".")));
    format!(
        r#"# yaml-language-server: $schema={schema}
# A conformance scenario; `conformance schema` documents every key, scenarios/README.md
# explains them. Once the scenario says what you want, `conformance record FILE` writes
# what both drivers observe into `expect:`.
description: A PAP dial that connects (say in one sentence what this scenario shows).
refs: [RasDial/async, rfc1334#2.2]   # the clauses it exercises

entry:
  phone: "5551234"                   # the number dialed; see `network.numbers`
  # auth-restrictions: 8             # 8 PAP, 32 MD5-CHAP, 512 MS-CHAPv2 (default: all)

dial:
  user: alice
  password: wonderland
  notifier: func2                    # none (synchronous), func, func1, func2, window
  # paused-states: true              # stop in RetryAuthentication, PasswordExpired, ...

network:
  numbers:
    "5551234": {{connect: 33600, peer: builtin}}   # or busy, no-answer, no-carrier, voice
  # line: {{bit-error-rate: 1e-5, seed: 7}}       # noise on the connected call

server:
  auth: pap                          # none, pap, chap-md5, mschapv2, eap
  users:
    alice: wonderland                # or {{password: pw, fail: 1, outcome: expired}}
  # faults: [silent]                 # silent, nak-forever, reject-all, {{drop-at-packet: N}}, {{corrupt-fcs: N}}

# app: {{hang-up-at: Authenticate}}   # what the application does inside its notifier

expect:
  result: connected                  # or an error: 676 or ERROR_LINE_BUSY; or hung-up
  trace:
    - OpenPort
    - PortOpened
    - ConnectDevice
    - DeviceConnected
    - AllDevicesConnected
    - Authenticate
    - AuthNotify
    - AuthProject
    - Authenticated
    - Projected
    - Connected
"#
    )
}

/// `target` as seen from `from` (both made absolute first); `target` itself when they
/// share no root.
fn relative_to(target: &Path, from: &Path) -> String {
    let absolute = |path: &Path| {
        std::fs::canonicalize(path).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|dir| dir.join(path))
                .unwrap_or_else(|_| path.to_owned())
        })
    };
    let (target, from) = (absolute(target), absolute(from));
    let target_parts: Vec<Component> = target.components().collect();
    let from_parts: Vec<Component> = from.components().collect();
    let common = target_parts
        .iter()
        .zip(&from_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 {
        return target.display().to_string();
    }
    let mut relative = PathBuf::new();
    for _ in common..from_parts.len() {
        relative.push("..");
    }
    for part in &target_parts[common..] {
        relative.push(part);
    }
    relative.display().to_string()
}
