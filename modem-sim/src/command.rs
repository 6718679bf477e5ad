//! The command-line half of the V.250 interpreter: how bytes from the DTE become command
//! lines (§5.2), and how a command line's body becomes commands (§5.3, §5.4).
//!
//! Nothing here executes anything; [`crate::Modem`] does, so the syntax can grow (extended
//! `+` commands, more basic commands) without touching call handling.

use crate::registers::SRegister;

/// V.250 §5.2.1 asks for at least 40 characters of body; longer lines are kept up to
/// this many and then answered with ERROR rather than silently cut.
const MAX_BODY_LEN: usize = 255;

/// A command line's body, held in place: bodies are at most [`MAX_BODY_LEN`] characters,
/// so taking a line in costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Body {
    octets: [u8; MAX_BODY_LEN],
    len: usize,
}

impl Body {
    /// An empty body.
    pub const fn new() -> Body {
        Body {
            octets: [0; MAX_BODY_LEN],
            len: 0,
        }
    }

    /// The body's characters.
    pub fn as_bytes(&self) -> &[u8] {
        &self.octets[..self.len]
    }

    /// A body holding the first [`MAX_BODY_LEN`] characters of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Body {
        let mut body = Body::new();
        bytes.iter().take_while(|&&octet| body.push(octet)).count();
        body
    }

    /// Append `octet`; `false`, and nothing appended, when the body is full.
    fn push(&mut self, octet: u8) -> bool {
        let Some(slot) = self.octets.get_mut(self.len) else {
            return false;
        };
        *slot = octet;
        self.len += 1;
        true
    }

    /// Remove the last character, if any.
    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// Empty the body.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::new()
    }
}

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// What a byte from the DTE completed, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "the body is held in place so that no command line allocates"
)]
pub enum Assembled {
    /// `AT<body><S3>`: a command line to execute. `overflowed` when the body was longer
    /// than this modem accepts.
    Line {
        /// The body, after the `AT` prefix, with S5 edits applied.
        body: Body,
        /// The body outgrew the 255 characters this modem keeps.
        overflowed: bool,
    },
    /// `A/` (V.250 §5.2.4): execute the previous command line again.
    Repeat,
}

/// Where the assembler is within a command line (V.250 §5.2.1, §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[expect(
    clippy::large_enum_variant,
    reason = "the body is held in place so that no command line allocates"
)]
enum Stage {
    /// Waiting for the `A` of a prefix; everything else is ignored.
    #[default]
    Idle,
    /// Saw `A` or `a`; `T` starts a command line and `/` repeats the last one.
    Prefix,
    /// Inside the body, collecting until S3.
    Body { body: Body, overflowed: bool },
}

/// Turns the DTE's byte stream into command lines.
#[derive(Debug, Clone, Default)]
pub struct LineAssembler {
    stage: Stage,
}

impl LineAssembler {
    /// Take one byte. `termination` and `editing` are the current S3 and S5.
    ///
    /// The `AT` prefix is accepted in any case (V.250 §5.2.1 requires `AT` and `at`;
    /// mixed case costs nothing and real modems take it). Characters before a prefix are
    /// ignored, as is anything between the prefix and S3 that V.250 §5.2.2 says to
    /// ignore (control characters other than S3 and S5).
    pub fn push(&mut self, byte: u8, termination: u8, editing: u8) -> Option<Assembled> {
        match &mut self.stage {
            Stage::Idle => {
                if byte.eq_ignore_ascii_case(&b'A') {
                    self.stage = Stage::Prefix;
                }
                None
            }
            Stage::Prefix => {
                if byte.eq_ignore_ascii_case(&b'T') {
                    self.stage = Stage::Body {
                        body: Body::new(),
                        overflowed: false,
                    };
                    None
                } else if byte == b'/' {
                    self.stage = Stage::Idle;
                    Some(Assembled::Repeat)
                } else {
                    if !byte.eq_ignore_ascii_case(&b'A') {
                        self.stage = Stage::Idle;
                    }
                    None
                }
            }
            Stage::Body { body, overflowed } => {
                if byte == termination {
                    let line = Assembled::Line {
                        body: *body,
                        overflowed: *overflowed,
                    };
                    self.stage = Stage::Idle;
                    Some(line)
                } else if byte == editing {
                    // §5.2.2: S5 deletes the previous body character, never the prefix.
                    body.pop();
                    None
                } else if byte.is_ascii_control() {
                    None
                } else {
                    if !body.push(byte) {
                        *overflowed = true;
                    }
                    None
                }
            }
        }
    }

    /// Forget any partial command line (the DTE went away).
    pub fn reset(&mut self) {
        self.stage = Stage::Idle;
    }
}

/// How the modem reacts when the DTE drops DTR (V.250 §6.2.9, `&D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtrMode {
    /// `&D0`: ignore DTR.
    Ignore,
    /// `&D1`: go to online command state, keeping the call.
    OnlineCommand,
    /// `&D2`: hang up and return to command state (the default).
    HangUp,
    /// `&D3` (Hayes): hang up and reset to the stored profile, as `ATZ`.
    Reset,
}

impl DtrMode {
    /// The `&D` value that selects this mode.
    pub fn value(self) -> u8 {
        match self {
            DtrMode::Ignore => 0,
            DtrMode::OnlineCommand => 1,
            DtrMode::HangUp => 2,
            DtrMode::Reset => 3,
        }
    }
}

/// What `D` was asked to dial (V.250 §6.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// A dial string with its modifiers (V.250 §6.3.1.1), up to but not including `;`.
    Number(String),
    /// `DL` (Hayes): the last number dialled.
    LastNumber,
}

/// One command from a command line, already checked for a valid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `E<n>` (V.250 §6.2.4): echo command-state characters back to the DTE.
    Echo(bool),
    /// `Q<n>` (V.250 §6.2.5): suppress result codes.
    Quiet(bool),
    /// `V<n>` (V.250 §6.2.6): verbose (1) or numeric (0) result codes.
    Verbose(bool),
    /// `X<n>` (V.250 §6.2.7): which result codes and call-progress detections are enabled.
    ResultCodeSelection(u8),
    /// `&C<n>` (V.250 §6.2.8): whether circuit 109 (DCD) follows the carrier. A PTY has
    /// no circuit 109, so the setting is kept (for `&V`) and drives nothing.
    DcdBehaviour(bool),
    /// `&D<n>` (V.250 §6.2.9): what dropping DTR does.
    DtrBehaviour(DtrMode),
    /// `Z` (V.250 §6.1.1): hang up and restore the stored profile.
    Reset,
    /// `&F` (V.250 §6.1.2): restore the factory configuration.
    FactoryDefaults,
    /// `&W` (Hayes): store the active configuration as the profile `Z` restores.
    StoreProfile,
    /// `&V` (Hayes): report the active and stored configurations.
    ShowConfiguration,
    /// `I<n>` (V.250 §6.1.3), `+GMI`, `+GMM`, `+GMR`, `+GCAP` (§6.1.4–§6.1.7,
    /// §6.1.9): report identification text.
    Identification(&'static str),
    /// `T`, `P` (V.250 §6.3.2, §6.3.3): tone or pulse dialling. The simulated network
    /// takes either, so there is nothing to select.
    DialMethod,
    /// `L<n>`, `M<n>` (V.250 §6.3.13, §6.3.14): speaker loudness and mode. There is no
    /// speaker.
    Speaker,
    /// Settings real modems take and a simulated line has no use for: flow control
    /// (`&K`), error correction (`\N`), compression (`%C`) and `+FCLASS=0` (data mode,
    /// the only class there is). Accepted with OK, as dialers' init strings expect.
    Accepted,
    /// `H0` (V.250 §6.3.6): go on-hook.
    HookOn,
    /// `H1` (Hayes): go off-hook. The line is then busy to incoming calls until `H0`.
    HookOff,
    /// `A` (V.250 §6.3.5): answer an incoming call.
    Answer,
    /// `O0` (V.250 §6.3.7): return from online command state to online data state.
    ReturnOnline,
    /// `Sn=v` (V.250 §5.3.2): set an S-register (range checked when executed).
    SetRegister(SRegister, u32),
    /// `Sn?` (V.250 §5.3.2): report an S-register.
    ReadRegister(SRegister),
    /// `D<dial string>[;]` (V.250 §6.3.1): dial. Without `;` the dial string is the rest
    /// of the line and the call goes online; with it the modem returns to command state
    /// once the digits are out and the commands after `;` run then.
    Dial {
        /// What to dial.
        target: DialTarget,
        /// The string ended with `;`.
        stay_in_command_state: bool,
    },
}

/// Why a command line was answered with ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// A command this modem does not implement, or a value out of its range.
    Unsupported(String),
}

/// Identification text: `I<n>` for n in 0–9, and the V.250 extended commands that
/// report the same things. The one table of it.
const IDENTIFICATION: [(u8, Option<&str>, &str); 10] = [
    // I0: the product code, by Hayes custom the top line rate.
    (0, None, "33600"),
    (1, None, "000"),
    (2, None, "OK"),
    (3, Some("+GMI"), "modem-sim"),
    (4, Some("+GMM"), "modem-sim V.250 simulated modem"),
    (5, Some("+GMR"), env!("CARGO_PKG_VERSION")),
    (6, Some("+GCAP"), "+GCAP: +FCLASS"),
    (7, None, "no options"),
    (8, None, "000"),
    (9, None, "modem-sim"),
];

/// Extended commands (V.250 §5.4) accepted and ignored, with the only value each takes.
const ACCEPTED_EXTENDED: &[(&str, &str)] = &[("+FCLASS", "0")];

/// The commands of one command-line body, in order (V.250 §5.6: executed left to right;
/// the first error stops the line).
#[derive(Debug, Clone)]
pub struct Commands<'a> {
    rest: &'a [u8],
}

/// Parse a command-line body. Spaces are ignored (V.250 §5.1) and lower case is taken
/// as upper case (V.250 §5.3.1).
pub fn parse(body: &[u8]) -> Commands<'_> {
    Commands { rest: body }
}

impl<'a> Commands<'a> {
    /// What is left of the line after the commands taken so far.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn skip_spaces(&mut self) {
        while let [b' ', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    fn next_byte(&mut self) -> Option<u8> {
        self.skip_spaces();
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first.to_ascii_uppercase())
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.rest.first().map(u8::to_ascii_uppercase)
    }

    /// The decimal value after a command; missing means 0 (V.250 §5.3.1). `None` when
    /// the digits do not fit.
    fn number(&mut self) -> Option<u32> {
        let mut value: u32 = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            self.rest = &self.rest[1..];
            value = value
                .checked_mul(10)?
                .checked_add(u32::from(digit - b'0'))?;
        }
        Some(value)
    }

    /// `D`: the dial string runs to `;` or the end of the line (V.250 §6.3.1).
    fn dial(&mut self) -> Command {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b';')
            .unwrap_or(self.rest.len());
        let dial_string = String::from_utf8_lossy(&self.rest[..end]).into_owned();
        let stay_in_command_state = end < self.rest.len();
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        let target = if dial_string
            .trim_start()
            .to_ascii_uppercase()
            .starts_with('L')
        {
            DialTarget::LastNumber
        } else {
            DialTarget::Number(dial_string)
        };
        Command::Dial {
            target,
            stay_in_command_state,
        }
    }

    /// An extended command (V.250 §5.4.1): `+NAME`, then `=value`, `?` or `=?`, up to
    /// the `;` that separates it from the next one.
    fn extended(&mut self) -> Option<Command> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b';')
            .unwrap_or(self.rest.len());
        // The command without spaces, in upper case, `+` restored: a suffix of the body,
        // so it fits in one.
        let mut text = Body::new();
        text.push(b'+');
        for &octet in self.rest[..end].iter().filter(|&&octet| octet != b' ') {
            text.push(octet.to_ascii_uppercase());
        }
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        let text = text.as_bytes();
        let (name, value) = match text.iter().position(|&octet| octet == b'=') {
            Some(at) => (&text[..at], &text[at + 1..]),
            None => (text, &[][..]),
        };
        if let Some((_, _, info)) = IDENTIFICATION.iter().find(|(_, extended, _)| {
            extended.is_some_and(|extended| extended.as_bytes() == name) && value.is_empty()
        }) {
            return Some(Command::Identification(info));
        }
        ACCEPTED_EXTENDED
            .iter()
            .any(|&(accepted, only)| accepted.as_bytes() == name && only.as_bytes() == value)
            .then_some(Command::Accepted)
    }

    /// The command named `name`, with its value, or `None` when this modem does not
    /// implement it with that value.
    fn command(&mut self, name: u8) -> Option<Command> {
        match name {
            b'D' => Some(self.dial()),
            b'+' => self.extended(),
            b'S' => {
                let register = SRegister::from_number(self.number()?)?;
                match self.next_byte()? {
                    b'?' => Some(Command::ReadRegister(register)),
                    b'=' => Some(Command::SetRegister(register, self.number()?)),
                    _ => None,
                }
            }
            b'&' => match (self.next_byte()?, self.number()?) {
                (b'C', v @ (0 | 1)) => Some(Command::DcdBehaviour(v == 1)),
                (b'D', 0) => Some(Command::DtrBehaviour(DtrMode::Ignore)),
                (b'D', 1) => Some(Command::DtrBehaviour(DtrMode::OnlineCommand)),
                (b'D', 2) => Some(Command::DtrBehaviour(DtrMode::HangUp)),
                (b'D', 3) => Some(Command::DtrBehaviour(DtrMode::Reset)),
                (b'F', 0) => Some(Command::FactoryDefaults),
                (b'W', 0) => Some(Command::StoreProfile),
                (b'V', 0) => Some(Command::ShowConfiguration),
                (b'K', 0..=6) => Some(Command::Accepted),
                _ => None,
            },
            b'\\' => matches!((self.next_byte()?, self.number()?), (b'N', 0..=7))
                .then_some(Command::Accepted),
            b'%' => matches!((self.next_byte()?, self.number()?), (b'C', 0..=3))
                .then_some(Command::Accepted),
            b'T' | b'P' => Some(Command::DialMethod),
            b'A' => Some(Command::Answer),
            _ => match (name, self.number()?) {
                (b'E', v @ (0 | 1)) => Some(Command::Echo(v == 1)),
                (b'Q', v @ (0 | 1)) => Some(Command::Quiet(v == 1)),
                (b'V', v @ (0 | 1)) => Some(Command::Verbose(v == 1)),
                (b'X', v @ 0..=4) => u8::try_from(v).ok().map(Command::ResultCodeSelection),
                (b'Z', 0) => Some(Command::Reset),
                (b'H', 0) => Some(Command::HookOn),
                (b'H', 1) => Some(Command::HookOff),
                (b'O', 0) => Some(Command::ReturnOnline),
                (b'L' | b'M', 0..=3) => Some(Command::Speaker),
                (b'I', n) => IDENTIFICATION
                    .iter()
                    .find(|(number, _, _)| u32::from(*number) == n)
                    .map(|(_, _, info)| Command::Identification(info)),
                _ => None,
            },
        }
    }
}

impl Iterator for Commands<'_> {
    type Item = Result<Command, CommandError>;

    fn next(&mut self) -> Option<Self::Item> {
        // `;` separates extended commands (V.250 §5.4.1); after a basic one, as in
        // `AT&K0;`, Hayes modems skip it too.
        let mut name = self.next_byte()?;
        while name == b';' {
            name = self.next_byte()?;
        }
        let start = self.rest;
        match self.command(name) {
            Some(command) => Some(Ok(command)),
            None => {
                let used = start.len() - self.rest.len();
                let text = format!(
                    "{}{}",
                    char::from(name),
                    String::from_utf8_lossy(&start[..used]).trim_end()
                );
                // §5.6: nothing after an error is executed.
                self.rest = &[];
                Some(Err(CommandError::Unsupported(text)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(bytes: &[u8]) -> Vec<Assembled> {
        let mut assembler = LineAssembler::default();
        bytes
            .iter()
            .filter_map(|&b| assembler.push(b, b'\r', 0x08))
            .collect()
    }

    fn line(body: &str) -> Assembled {
        Assembled::Line {
            body: Body::from_bytes(body.as_bytes()),
            overflowed: false,
        }
    }

    #[test]
    fn finds_the_prefix_after_garbage_in_any_case() {
        assert_eq!(assemble(b"xx\x00ATZ\r"), vec![line("Z")]);
        assert_eq!(assemble(b"at e0\r"), vec![line(" e0")]);
        assert_eq!(assemble(b"aAt\r"), vec![line("")]);
        assert_eq!(assemble(b"A/"), vec![Assembled::Repeat]);
        assert_eq!(assemble(b"A T\r"), vec![]);
    }

    #[test]
    fn backspace_edits_and_controls_are_ignored() {
        assert_eq!(assemble(b"ATE1\x080\n\r"), vec![line("E0")]);
        assert_eq!(assemble(b"AT\x08\x08Z\r"), vec![line("Z")]);
    }

    #[test]
    fn overlong_lines_are_flagged() {
        let mut bytes = b"AT".to_vec();
        bytes.extend(std::iter::repeat_n(b'E', MAX_BODY_LEN + 1));
        bytes.push(b'\r');
        match assemble(&bytes).as_slice() {
            [
                Assembled::Line {
                    body,
                    overflowed: true,
                },
            ] => assert_eq!(body.as_bytes().len(), MAX_BODY_LEN),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn commands(body: &str) -> Vec<Result<Command, CommandError>> {
        parse(body.as_bytes()).collect()
    }

    #[test]
    fn parses_chained_basic_commands() {
        assert_eq!(
            commands("e0 V1q0x4&c1&d2"),
            vec![
                Ok(Command::Echo(false)),
                Ok(Command::Verbose(true)),
                Ok(Command::Quiet(false)),
                Ok(Command::ResultCodeSelection(4)),
                Ok(Command::DcdBehaviour(true)),
                Ok(Command::DtrBehaviour(DtrMode::HangUp)),
            ]
        );
        assert_eq!(
            commands("EV"),
            vec![Ok(Command::Echo(false)), Ok(Command::Verbose(false))]
        );
    }

    fn dial(target: &str, stay: bool) -> Result<Command, CommandError> {
        Ok(Command::Dial {
            target: DialTarget::Number(target.into()),
            stay_in_command_state: stay,
        })
    }

    #[test]
    fn dial_takes_the_rest_of_the_line_or_up_to_a_semicolon() {
        assert_eq!(
            commands("E0DT 555-1234"),
            vec![Ok(Command::Echo(false)), dial("T 555-1234", false)]
        );
        assert_eq!(
            commands("DT555,W1!2@;E1"),
            vec![dial("T555,W1!2@", true), Ok(Command::Echo(true))]
        );
        let mut parsed = parse(b"D1;V0");
        assert_eq!(parsed.next(), Some(dial("1", true)));
        assert_eq!(parsed.rest(), b"V0");
        assert_eq!(
            commands("dl"),
            vec![Ok(Command::Dial {
                target: DialTarget::LastNumber,
                stay_in_command_state: false
            })]
        );
    }

    #[test]
    fn parses_profile_identification_and_hook_commands() {
        assert_eq!(
            commands("&W&V&F&D3&C0H1A"),
            vec![
                Ok(Command::StoreProfile),
                Ok(Command::ShowConfiguration),
                Ok(Command::FactoryDefaults),
                Ok(Command::DtrBehaviour(DtrMode::Reset)),
                Ok(Command::DcdBehaviour(false)),
                Ok(Command::HookOff),
                Ok(Command::Answer),
            ]
        );
        for n in 0..=9 {
            assert!(
                matches!(
                    commands(&format!("I{n}"))[..],
                    [Ok(Command::Identification(_))]
                ),
                "I{n}"
            );
        }
        assert!(commands("I10")[0].is_err());
        assert_eq!(
            commands("+GMI"),
            vec![Ok(Command::Identification("modem-sim"))]
        );
        assert_eq!(commands("I3"), commands("+gmi"));
    }

    #[test]
    fn common_unsupported_settings_are_accepted() {
        for body in ["&K3", "\\N3", "%C0", "+FCLASS=0", "+fclass = 0"] {
            let body = body.replace("\\\\", "\\");
            assert_eq!(commands(&body), vec![Ok(Command::Accepted)], "{body}");
        }
        assert_eq!(
            commands("+FCLASS=0;E0"),
            vec![Ok(Command::Accepted), Ok(Command::Echo(false))]
        );
        assert!(commands("+FCLASS=1")[0].is_err());
        assert!(commands("+XYZ")[0].is_err());
        assert!(commands("&K9")[0].is_err());
    }

    #[test]
    fn registers_read_and_write() {
        assert_eq!(
            commands("S7=30S0?"),
            vec![
                Ok(Command::SetRegister(
                    SRegister::ConnectionCompletionTimeout,
                    30
                )),
                Ok(Command::ReadRegister(SRegister::AutoAnswerRings)),
            ]
        );
        assert!(commands("S99?")[0].is_err());
        assert!(commands("S7")[0].is_err());
    }

    #[test]
    fn errors_stop_the_line() {
        assert_eq!(
            commands("E0 Y1 V0"),
            vec![
                Ok(Command::Echo(false)),
                Err(CommandError::Unsupported("Y1".into()))
            ]
        );
        assert_eq!(
            commands("E2"),
            vec![Err(CommandError::Unsupported("E2".into()))]
        );
        assert!(commands("E99999999999")[0].is_err());
        assert!(commands("+GMI=1")[0].is_err());
    }
}
