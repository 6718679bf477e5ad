//! The phone network behind the simulated modem: which numbers exist and what happens
//! when one is dialled.
//!
//! A network is written in YAML (DESIGN §6: defaults everywhere, unknown keys rejected):
//!
//! ```yaml
//! dialtone: true            # default true; false => every dial gives NO DIALTONE
//! modems: ["5550100", "5550101"]   # each modem's own number, in order (default: derived,
//!                                  # 5550100 + the modem's 0-based index)
//! line: {pacing: true, bit-error-rate: 1e-6, drop-rate: 0, seed: 7}   # default: clean, unpaced
//! numbers:
//!   "5551234": {connect: 33600, peer: builtin}
//!   "5551235": {connect: 28800, exec: "ppp-peer-sim --script server.yaml"}
//!   "5551236": {connect: 33600, tcp: "127.0.0.1:2323"}
//!   "5551237": {connect: 33600, answer-delay: 10, drop-after-seconds: 30}
//!   "5551238": {connect: 33600, drop-after-bytes: 500, call-back: {number: "5550100", after: 20}}
//!   "5550000": busy
//!   "5550001": no-answer
//!   "5550002": no-carrier
//!   "5550003": voice
//! ```
//!
//! A modem's own number is what a callback calls: a far end that asks the network to call
//! it ([`sansio::PeerEvent::CallBack`]) rings that modem (`RING`; answer with `ATA`, or
//! auto-answer with S0). A number no modem owns is not in service, and a modem whose line
//! is in use is busy: either way the callback fails.
//!
//! A number that is not listed behaves like a line where nothing answers with a carrier:
//! the modem gives `NO CARRIER` once S7 runs out. Numbers are compared after
//! [`normalise_number`], so `555-1234`, `(555) 1234` and `T555,1234` all reach `5551234`.

use std::collections::BTreeMap;
use std::fmt;

use sansio::Duration;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::MessageFormatter;

use crate::line::LineConditions;

/// The whole phone network the modem is plugged into.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Whether the line gives dial tone. Without it every dial ends in `NO DIALTONE`.
    #[serde(default = "dialtone_default")]
    pub dialtone: bool,
    /// What each number does, keyed by its [normalised](normalise_number) form.
    #[serde(default)]
    pub numbers: BTreeMap<String, Outcome>,
    /// Pacing and seeded faults on every connected call.
    #[serde(default)]
    pub line: LineConditions,
    /// The modems' own numbers, by 0-based modem index, [normalised](normalise_number);
    /// see [`Network::modem_number`].
    #[serde(default)]
    pub modems: Vec<String>,
}

/// The first derived modem number (`modems:` not given): 5550100, 5550101, ...
const FIRST_DERIVED_MODEM_NUMBER: u64 = 5_550_100;

fn dialtone_default() -> bool {
    true
}

impl Default for Network {
    /// A line with dial tone and no numbers: every dial ends in `NO CARRIER`.
    fn default() -> Self {
        Network {
            dialtone: dialtone_default(),
            numbers: BTreeMap::new(),
            line: LineConditions::default(),
            modems: Vec::new(),
        }
    }
}

/// What happens when a number is dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The far end is engaged: `BUSY`.
    Busy,
    /// It rings and nobody picks up: `NO ANSWER` once S7 runs out.
    NoAnswer,
    /// Something picks up but never sends a carrier: `NO CARRIER` once S7 runs out.
    NoCarrier,
    /// A person answers: `VOICE`.
    Voice,
    /// A modem answers and trains up at `speed` bit/s; `peer` is what then talks on the line.
    Connect {
        /// The line rate reported in `CONNECT <speed>`.
        speed: u32,
        /// The machine at the far end once the carrier is up.
        peer: PeerSpec,
        /// End of dialling to the far end picking up (`answer-delay`, seconds); `None`
        /// is the usual ring ([`crate::call::ANSWER_DELAY`]).
        answer_delay: Option<Duration>,
        /// The network drops the carrier once this many bytes crossed the call, either
        /// way (`drop-after-bytes`).
        drop_after_bytes: Option<u64>,
        /// The network drops the carrier this long after `CONNECT`
        /// (`drop-after-seconds`).
        drop_after: Option<Duration>,
        /// Once this call is over the network calls the modem back
        /// (`call-back: {number, after}`).
        call_back: Option<CallBack>,
    },
}

/// The network calling back once a call is over: the callback flow of a RAS server
/// that takes the call, agrees a callback number, hangs up and dials out.
///
/// The modem is the only line on its network, so the callback rings it whatever
/// `number` is; the number is what the answered call reports
/// ([`crate::ModemEvent::CallConnected`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallBack {
    /// The number the network calls.
    pub number: String,
    /// Seconds from the end of the first call to the first RING.
    #[serde(deserialize_with = "seconds")]
    #[schemars(with = "Seconds")]
    pub after: Duration,
}

/// Read a non-negative number of seconds (fractions allowed) as a duration.
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(value)
        .map_err(|_| de::Error::custom(format!("{value} is not a number of seconds >= 0")))
}

/// Serde adaptor so [`seconds`] can read a map value.
struct Seconds(Duration);

/// The schema of what [`seconds`] reads.
impl JsonSchema for Seconds {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Seconds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number of seconds (fractions allowed), at least 0.",
            "type": "number",
            "minimum": 0
        })
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        seconds(deserializer).map(Seconds)
    }
}

/// What sits at the far end of a connected call. The driver turns it into a
/// [`sansio::LinePeer`]; the modem itself only carries it along.
///
/// Written in a number's map as `peer: builtin`, `exec: "COMMAND"` or `tcp: "HOST:PORT"`.
/// The sans-IO modem only carries it along; the realtime driver spawns the process or
/// opens the connection ([`crate::realtime`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum PeerSpec {
    /// Whatever peer the driver was built with (the conformance harness plugs in the
    /// scripted PPP server; the standalone tool an echo).
    #[default]
    Builtin,
    /// A command (run directly or by `sh -c`, see [`crate::far_command`]); its stdin and
    /// stdout are the line. It hanging up
    /// (exiting, closing stdout) drops the carrier.
    Exec(String),
    /// A TCP address; the connection is the line, its end drops the carrier.
    Tcp(String),
}

/// A network file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The YAML is malformed or does not fit the schema.
    Yaml {
        /// What is wrong, without the position.
        message: String,
        /// 1-based line, 0 when the parser could not tell.
        line: u64,
        /// 1-based column, 0 when the parser could not tell.
        column: u64,
    },
    /// A key under `numbers` has nothing left to dial once normalised.
    EmptyNumber {
        /// The key as written.
        number: String,
        /// 1-based line of the key.
        line: u64,
        /// 1-based column of the key.
        column: u64,
    },
    /// Two keys under `numbers` normalise to the same number.
    DuplicateNumber {
        /// The key seen first.
        first: String,
        /// The key that collides with it.
        second: String,
        /// 1-based line of the second key.
        line: u64,
        /// 1-based column of the second key.
        column: u64,
    },
}

impl NetworkError {
    /// What is wrong, in the file's terms, without the position.
    pub fn rule(&self) -> String {
        match self {
            NetworkError::Yaml { message, .. } => message.clone(),
            NetworkError::EmptyNumber { number, .. } => {
                format!("number {number:?} has no digits, '*' or '#' to dial")
            }
            NetworkError::DuplicateNumber { first, second, .. } => format!(
                "numbers {first:?} and {second:?} are the same number once normalised (only digits, '*' and '#' count)"
            ),
        }
    }

    /// The 1-based line and column, (0, 0) when unknown.
    pub fn position(&self) -> (u64, u64) {
        match self {
            NetworkError::Yaml { line, column, .. }
            | NetworkError::EmptyNumber { line, column, .. }
            | NetworkError::DuplicateNumber { line, column, .. } => (*line, *column),
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.position();
        write!(f, "{} (line {line}, column {column})", self.rule())
    }
}

/// Where the number key `key` is written in `text` (quoted or not, followed by `:`), as a
/// 1-based line and column; (0, 0) if it cannot be found (a flow mapping on one line with
/// unusual spacing, say).
fn key_position(text: &str, key: &str) -> (u64, u64) {
    let spellings = [format!("\"{key}\""), format!("'{key}'"), key.to_owned()];
    for (index, line) in text.lines().enumerate() {
        for spelling in &spellings {
            if let Some(at) = line.find(spelling.as_str())
                && line[at + spelling.len()..].trim_start().starts_with(':')
            {
                let column = line[..at].chars().count() + 1;
                return (index as u64 + 1, column as u64);
            }
        }
    }
    (0, 0)
}

impl Network {
    /// Read a network from YAML text. Number keys are normalised (see
    /// [`normalise_number`]); errors carry the 1-based line and column.
    pub fn from_yaml(text: &str) -> Result<Network, NetworkError> {
        let raw: Network = serde_saphyr::from_str(text).map_err(|err| {
            let location = err.location();
            let message = serde_saphyr::DefaultMessageFormatter.format_message(&err);
            NetworkError::Yaml {
                message: if message.starts_with("duplicate field `peer`") {
                    // `peer:`, `exec:` and `tcp:` are three spellings of one field.
                    "a number has one far end: give only one of `peer:`, `exec:` and `tcp:`"
                        .to_owned()
                } else {
                    sansio::yaml_words::plain(&message).into_owned()
                },
                line: location.map_or(0, |l| l.line()),
                column: location.map_or(0, |l| l.column()),
            }
        })?;
        let mut numbers = BTreeMap::new();
        let mut written_as: BTreeMap<String, String> = BTreeMap::new();
        for (key, outcome) in raw.numbers {
            let number = normalise_number(&key);
            if number.is_empty() {
                let (line, column) = key_position(text, &key);
                return Err(NetworkError::EmptyNumber {
                    number: key,
                    line,
                    column,
                });
            }
            if let Some(first) = written_as.insert(number.clone(), key.clone()) {
                let (line, column) = key_position(text, &key);
                return Err(NetworkError::DuplicateNumber {
                    first,
                    second: key,
                    line,
                    column,
                });
            }
            numbers.insert(number, outcome);
        }
        let mut modems = Vec::new();
        for written in raw.modems {
            let number = normalise_number(&written);
            if number.is_empty() {
                return Err(NetworkError::EmptyNumber {
                    number: written,
                    line: 0,
                    column: 0,
                });
            }
            if modems.contains(&number) {
                return Err(NetworkError::DuplicateNumber {
                    first: number,
                    second: written,
                    line: 0,
                    column: 0,
                });
            }
            modems.push(number);
        }
        Ok(Network {
            dialtone: raw.dialtone,
            numbers,
            line: raw.line,
            modems,
        })
    }

    /// The own number of the modem with 0-based `index`: `modems[index]`, or else derived
    /// as 5550100 + `index`.
    pub fn modem_number(&self, index: usize) -> String {
        self.modems
            .get(index)
            .cloned()
            .unwrap_or_else(|| (FIRST_DERIVED_MODEM_NUMBER + index as u64).to_string())
    }

    /// What dialling `dial_string` reaches, or `None` for a number not in service.
    pub fn lookup(&self, dial_string: &str) -> Option<&Outcome> {
        self.numbers.get(&normalise_number(dial_string))
    }
}

/// The digits a dial string actually sends down the line: `0-9`, `*` and `#`.
///
/// Everything else is dropped: punctuation people write numbers with (spaces, `-`, `(`,
/// `)`, `.`) and the V.250 §6.3.1.1 dial modifiers (`T`, `P`, `W`, `,`, `!`, `@`, `;`).
/// The DTMF letters `A`–`D` and the international `+` are dropped too: the simulated
/// network has no use for them yet.
pub fn normalise_number(dial_string: &str) -> String {
    dial_string
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
        .collect()
}

/// The outcome names accepted as bare strings, for error messages.
const OUTCOME_NAMES: &[&str] = &[
    "busy",
    "no-answer",
    "no-carrier",
    "voice",
    "{connect: SPEED, peer: builtin}",
    "{connect: SPEED, exec: COMMAND}",
    "{connect: SPEED, tcp: HOST:PORT}",
];

/// The keys of a `{connect: …}` map.
const CONNECT_KEYS: &[&str] = &[
    "connect",
    "peer",
    "exec",
    "tcp",
    "answer-delay",
    "drop-after-bytes",
    "drop-after-seconds",
    "call-back",
];

#[cfg(test)]
mod own_number_tests {
    use super::*;

    /// The hand-written schema of [`Outcome`] names exactly what the visitor reads.
    #[test]
    fn outcome_schema_in_step() {
        let schema = schemars::schema_for!(Outcome);
        let value = schema.as_value();
        let bare: Vec<&str> = value["oneOf"][0]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        for name in &bare {
            let outcome: Outcome = serde_saphyr::from_str(name).unwrap();
            assert!(!matches!(outcome, Outcome::Connect { .. }), "{name}");
        }
        assert_eq!(bare.len(), 4, "busy, no-answer, no-carrier, voice");
        let keys: Vec<&str> = value["oneOf"][1]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = CONNECT_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert!(serde_saphyr::from_str::<Outcome>("{connect: 1, not-a-key: 1}").is_err());
    }

    #[test]
    fn modems_own_listed_or_derived_numbers() {
        let network = Network::from_yaml("modems: [\"555-0177\"]\n").unwrap();
        assert_eq!(network.modem_number(0), "5550177");
        assert_eq!(network.modem_number(1), "5550101");
        assert_eq!(Network::default().modem_number(0), "5550100");
        assert!(matches!(
            Network::from_yaml("modems: [\"1\", \"(1)\"]\n"),
            Err(NetworkError::DuplicateNumber { .. })
        ));
        assert!(matches!(
            Network::from_yaml("modems: [\"-\"]\n"),
            Err(NetworkError::EmptyNumber { .. })
        ));
    }
}

/// The schema of what [`OutcomeVisitor`] reads, written by hand next to it: a bare name
/// from [`OUTCOME_NAMES`] or a map with the [`CONNECT_KEYS`] (test `outcome_schema_in_step`).
impl JsonSchema for Outcome {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Outcome".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = OUTCOME_NAMES
            .iter()
            .copied()
            .filter(|name| !name.starts_with('{'))
            .collect();
        let seconds = generator.subschema_for::<Seconds>();
        json_schema!({
            "description": "What happens when the number is dialled: busy, no-answer, no-carrier, voice, or a modem answering.",
            "oneOf": [
                {"type": "string", "enum": names},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["connect"],
                    "properties": {
                        "connect": {"description": "The line rate reported in `CONNECT <speed>`, bit/s.", "type": "integer", "minimum": 1, "maximum": u32::MAX},
                        "peer": generator.subschema_for::<PeerSpec>(),
                        "exec": {"description": "A command whose stdin and stdout are the line (standalone modem-sim only).", "type": "string"},
                        "tcp": {"description": "HOST:PORT whose connection is the line (standalone modem-sim only).", "type": "string"},
                        "answer-delay": seconds,
                        "drop-after-bytes": {"description": "Drop the carrier once this many bytes crossed the call.", "type": "integer", "minimum": 0},
                        "drop-after-seconds": seconds,
                        "call-back": generator.subschema_for::<CallBack>()
                    },
                    // One far end: `peer`, `exec` or `tcp`, at most one of them.
                    "not": {"anyOf": [
                        {"required": ["peer", "exec"]},
                        {"required": ["peer", "tcp"]},
                        {"required": ["exec", "tcp"]}
                    ]}
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OutcomeVisitor)
    }
}

/// Reads an outcome written either as a bare name (`busy`) or as a map
/// (`{connect: 33600, peer: builtin}`), with errors that list what is accepted.
struct OutcomeVisitor;

impl<'de> Visitor<'de> for OutcomeVisitor {
    type Value = Outcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "busy, no-answer, no-carrier, voice, or {connect: SPEED} with peer: builtin, \
             exec: COMMAND or tcp: HOST:PORT",
        )
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Outcome, E> {
        match name {
            "busy" => Ok(Outcome::Busy),
            "no-answer" => Ok(Outcome::NoAnswer),
            "no-carrier" => Ok(Outcome::NoCarrier),
            "voice" => Ok(Outcome::Voice),
            other => Err(E::unknown_variant(other, OUTCOME_NAMES)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outcome, A::Error> {
        fn once<T, E: de::Error>(
            slot: &mut Option<T>,
            key: &'static str,
            value: T,
        ) -> Result<(), E> {
            match slot.replace(value) {
                Some(_) => Err(E::duplicate_field(key)),
                None => Ok(()),
            }
        }
        let mut speed: Option<u32> = None;
        let mut peer: Option<PeerSpec> = None;
        let mut answer_delay = None;
        let mut drop_after_bytes = None;
        let mut drop_after = None;
        let mut call_back = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "connect" => once(&mut speed, "connect", map.next_value()?)?,
                "peer" => once(&mut peer, "peer", map.next_value()?)?,
                "exec" => once(&mut peer, "peer", PeerSpec::Exec(map.next_value()?))?,
                "tcp" => once(&mut peer, "peer", PeerSpec::Tcp(map.next_value()?))?,
                "answer-delay" => {
                    let Seconds(delay) = map.next_value()?;
                    once(&mut answer_delay, "answer-delay", delay)?;
                }
                "drop-after-bytes" => {
                    once(&mut drop_after_bytes, "drop-after-bytes", map.next_value()?)?;
                }
                "drop-after-seconds" => {
                    let Seconds(after) = map.next_value()?;
                    once(&mut drop_after, "drop-after-seconds", after)?;
                }
                "call-back" => once(&mut call_back, "call-back", map.next_value()?)?,
                other => return Err(de::Error::unknown_field(other, CONNECT_KEYS)),
            }
        }
        match speed {
            Some(0) => Err(de::Error::custom(
                "connect speed must be greater than 0 bit/s",
            )),
            Some(speed) => Ok(Outcome::Connect {
                speed,
                peer: peer.unwrap_or_default(),
                answer_delay,
                drop_after_bytes,
                drop_after,
                call_back,
            }),
            None => Err(de::Error::missing_field("connect")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
dialtone: true
numbers:
  "5551234": {connect: 33600, peer: builtin}
  "555-0000": busy
  "5550001": no-answer
  "5550002": no-carrier
  "5550003": voice
"#;

    fn connect(speed: u32, peer: PeerSpec) -> Outcome {
        Outcome::Connect {
            speed,
            peer,
            answer_delay: None,
            drop_after_bytes: None,
            drop_after: None,
            call_back: None,
        }
    }

    #[test]
    fn reads_exec_tcp_and_call_terms() {
        let network = Network::from_yaml(
            r#"
line: {pacing: true, drop-rate: 0.5, seed: 9}
numbers:
  "1": {connect: 28800, exec: "ppp-peer-sim --stdio"}
  "2": {connect: 9600, tcp: "127.0.0.1:2323"}
  "3": {connect: 33600, answer-delay: 0.5, drop-after-bytes: 100, drop-after-seconds: 30, call-back: {number: "555-0100", after: 20}}
"#,
        )
        .unwrap();
        assert!(network.line.pacing);
        assert_eq!(network.line.seed, 9);
        assert_eq!(
            network.lookup("1"),
            Some(&connect(
                28800,
                PeerSpec::Exec("ppp-peer-sim --stdio".into())
            ))
        );
        assert_eq!(
            network.lookup("2"),
            Some(&connect(9600, PeerSpec::Tcp("127.0.0.1:2323".into())))
        );
        assert_eq!(
            network.lookup("3"),
            Some(&Outcome::Connect {
                speed: 33600,
                peer: PeerSpec::Builtin,
                answer_delay: Some(Duration::from_millis(500)),
                drop_after_bytes: Some(100),
                drop_after: Some(Duration::from_secs(30)),
                call_back: Some(CallBack {
                    number: "555-0100".into(),
                    after: Duration::from_secs(20)
                }),
            })
        );
        let err =
            Network::from_yaml("numbers:\n  \"1\": {connect: 1, exec: a, tcp: b}\n").unwrap_err();
        assert!(err.to_string().contains("one far end"), "{err}");
        let err =
            Network::from_yaml("numbers:\n  \"1\": {connect: 1, answer-delay: -1}\n").unwrap_err();
        assert!(err.to_string().contains("seconds"), "{err}");
    }

    #[test]
    fn reads_every_outcome() {
        let network = Network::from_yaml(EXAMPLE).unwrap();
        assert!(network.dialtone);
        assert_eq!(
            network.lookup("T555 1234"),
            Some(&connect(33600, PeerSpec::Builtin))
        );
        assert_eq!(network.lookup("5550000"), Some(&Outcome::Busy));
        assert_eq!(network.lookup("(555) 0001"), Some(&Outcome::NoAnswer));
        assert_eq!(network.lookup("555-0002"), Some(&Outcome::NoCarrier));
        assert_eq!(network.lookup("5550003"), Some(&Outcome::Voice));
        assert_eq!(network.lookup("5559999"), None);
    }

    #[test]
    fn defaults_dialtone_and_peer() {
        let network = Network::from_yaml("numbers:\n  \"1\": {connect: 2400}\n").unwrap();
        assert!(network.dialtone);
        assert_eq!(network.lookup("1"), Some(&connect(2400, PeerSpec::Builtin)));
        let silent = Network::from_yaml("dialtone: false\n").unwrap();
        assert!(!silent.dialtone);
        assert!(silent.numbers.is_empty());
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = Network::from_yaml("numbers:\n  \"1\": bussy\n").unwrap_err();
        match err {
            NetworkError::Yaml {
                message,
                line,
                column,
            } => {
                // The entry's key: where the reader of the file looks for the number.
                assert_eq!((line, column), (2, 3), "{message}");
                assert!(message.contains("bussy"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = Network::from_yaml("dialtone: true\nnumbrs: {}\n").unwrap_err();
        assert!(matches!(err, NetworkError::Yaml { line: 2, .. }), "{err}");
        let err = Network::from_yaml("numbers:\n  \"1\": {connect: 0}\n").unwrap_err();
        assert!(matches!(err, NetworkError::Yaml { line: 2, .. }), "{err}");
        let err = Network::from_yaml("numbers:\n  \"1\": {connect: 9600, speed: 1}\n").unwrap_err();
        assert!(err.to_string().contains("speed"), "{err}");
    }

    #[test]
    fn rejects_numbers_that_collide_or_vanish() {
        let err =
            Network::from_yaml("numbers:\n  \"555-1\": busy\n  \"5551\": voice\n").unwrap_err();
        assert!(matches!(err, NetworkError::DuplicateNumber { .. }), "{err}");
        let err = Network::from_yaml("numbers:\n  \"--\": busy\n").unwrap_err();
        assert_eq!(
            err,
            NetworkError::EmptyNumber {
                number: "--".into(),
                line: 2,
                column: 3
            }
        );
    }

    #[test]
    fn normalises_dial_strings() {
        assert_eq!(normalise_number("T 1 (555) 123-4567"), "15551234567");
        assert_eq!(normalise_number("P9,,W*70#"), "9*70#");
    }
}
