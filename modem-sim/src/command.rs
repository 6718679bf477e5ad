//! The command-line half of the V.250 interpreter: how bytes from the DTE become command
//! lines (§5.2), and how a command line's body becomes commands (§5.3, §5.4).
//!
//! Nothing here executes anything; [`crate::Modem`] does, so the syntax can grow (extended
//! `+` commands, more basic commands) without touching call handling.

use crate::registers::SRegister;

/// V.250 §5.2.1 asks for at least 40 characters of body; longer lines are kept up to
/// this many and then answered with ERROR rather than silently cut.
const MAX_BODY_LEN: usize = 255;

/// What a byte from the DTE completed, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// `AT<body><S3>`: a command line to execute. `overflowed` when the body was longer
    /// than this modem accepts.
    Line {
        /// The body, after the `AT` prefix, with S5 edits applied.
        body: Vec<u8>,
        /// The body outgrew the 255 characters this modem keeps.
        overflowed: bool,
    },
    /// `A/` (V.250 §5.2.4): execute the previous command line again.
    Repeat,
}

/// Where the assembler is within a command line (V.250 §5.2.1, §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Stage {
    /// Waiting for the `A` of a prefix; everything else is ignored.
    #[default]
    Idle,
    /// Saw `A` or `a`; `T` starts a command line and `/` repeats the last one.
    Prefix,
    /// Inside the body, collecting until S3.
    Body { body: Vec<u8>, overflowed: bool },
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
                        body: Vec::new(),
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
                        body: std::mem::take(body),
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
                } else if body.len() < MAX_BODY_LEN {
                    body.push(byte);
                    None
                } else {
                    *overflowed = true;
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
    /// `&D1`: V.250 goes to online command state. This modem has no online command state
    /// yet, so it hangs up as for `&D2`.
    OnlineCommand,
    /// `&D2`: hang up and return to command state (the default).
    HangUp,
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
    /// `&C<n>` (V.250 §6.2.8): how circuit 109 (DCD) follows the carrier. A PTY has no
    /// circuit 109, so it is accepted and has nothing to drive.
    DcdBehaviour,
    /// `&D<n>` (V.250 §6.2.9): what dropping DTR does.
    DtrBehaviour(DtrMode),
    /// `Z` (V.250 §6.1.1): hang up and restore the default configuration.
    Reset,
    /// `&F` (V.250 §6.1.2): restore the factory configuration.
    FactoryDefaults,
    /// `T`, `P` (V.250 §6.3.2, §6.3.3): tone or pulse dialling. The simulated network
    /// takes either, so there is nothing to select.
    DialMethod,
    /// `L<n>`, `M<n>` (V.250 §6.3.13, §6.3.14): speaker loudness and mode. There is no
    /// speaker.
    Speaker,
    /// `H0` (V.250 §6.3.6): go on-hook.
    HookOn,
    /// `O0` (V.250 §6.3.7): return from online command state to online data state.
    ReturnOnline,
    /// `Sn=v` (V.250 §5.3.2): set an S-register (range checked when executed).
    SetRegister(SRegister, u32),
    /// `Sn?` (V.250 §5.3.2): report an S-register.
    ReadRegister(SRegister),
    /// `D<dial string>` (V.250 §6.3.1): dial. The dial string is the rest of the line.
    Dial(String),
}

/// Why a command line was answered with ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// A command this modem does not implement, or a value out of its range.
    Unsupported(String),
}

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

impl Commands<'_> {
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

    /// The command named `name`, with its value, or `None` when this modem does not
    /// implement it with that value.
    fn command(&mut self, name: u8) -> Option<Command> {
        match name {
            b'D' => {
                let dial_string = String::from_utf8_lossy(self.rest).into_owned();
                self.rest = &[];
                // V.250 §6.3.1: `;` returns to command state after dialling (a voice call
                // placed by the DTE). Not simulated yet.
                (!dial_string.contains(';')).then_some(Command::Dial(dial_string))
            }
            b'S' => {
                let register = SRegister::from_number(self.number()?)?;
                match self.next_byte()? {
                    b'?' => Some(Command::ReadRegister(register)),
                    b'=' => Some(Command::SetRegister(register, self.number()?)),
                    _ => None,
                }
            }
            b'&' => match (self.next_byte()?, self.number()?) {
                (b'C', 0 | 1) => Some(Command::DcdBehaviour),
                (b'D', 0) => Some(Command::DtrBehaviour(DtrMode::Ignore)),
                (b'D', 1) => Some(Command::DtrBehaviour(DtrMode::OnlineCommand)),
                (b'D', 2) => Some(Command::DtrBehaviour(DtrMode::HangUp)),
                (b'F', 0) => Some(Command::FactoryDefaults),
                _ => None,
            },
            b'T' | b'P' => Some(Command::DialMethod),
            _ => match (name, self.number()?) {
                (b'E', v @ (0 | 1)) => Some(Command::Echo(v == 1)),
                (b'Q', v @ (0 | 1)) => Some(Command::Quiet(v == 1)),
                (b'V', v @ (0 | 1)) => Some(Command::Verbose(v == 1)),
                (b'X', v @ 0..=4) => u8::try_from(v).ok().map(Command::ResultCodeSelection),
                (b'Z', 0) => Some(Command::Reset),
                (b'H', 0) => Some(Command::HookOn),
                (b'O', 0) => Some(Command::ReturnOnline),
                (b'L' | b'M', 0..=3) => Some(Command::Speaker),
                _ => None,
            },
        }
    }
}

impl Iterator for Commands<'_> {
    type Item = Result<Command, CommandError>;

    fn next(&mut self) -> Option<Self::Item> {
        let name = self.next_byte()?;
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
            body: body.as_bytes().to_vec(),
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
            ] => assert_eq!(body.len(), MAX_BODY_LEN),
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
                Ok(Command::DcdBehaviour),
                Ok(Command::DtrBehaviour(DtrMode::HangUp)),
            ]
        );
        assert_eq!(
            commands("EV"),
            vec![Ok(Command::Echo(false)), Ok(Command::Verbose(false))]
        );
    }

    #[test]
    fn dial_takes_the_rest_of_the_line() {
        assert_eq!(
            commands("E0DT 555-1234"),
            vec![
                Ok(Command::Echo(false)),
                Ok(Command::Dial("T 555-1234".into()))
            ]
        );
        assert!(commands("D555;")[0].is_err());
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
        assert!(commands("+GMI")[0].is_err());
    }
}
