//! Windows dial scripts (`.scp`, RASEO_CustomScript / the phonebook's `Script` key): the
//! Dial-Up Networking scripting language, parsed with line and column errors and run by a
//! sans-IO machine on the raw line after CONNECT and before PPP.
//!
//! The language is Microsoft's "Dial-Up Scripting Command Language for Dial-Up Networking
//! Scripting Support" (SCRIPT.DOC, 1995; section numbers below are that document's):
//! `proc main … endproc` (§2.0, §7.0); `integer`, `string` and `boolean` variables (§3.0)
//! and the system variables `$USERID`, `$PASSWORD`, `$SUCCESS`, `$FAILURE` (§3.1); string
//! literals with `^M` (caret control characters), `<cr>`, `<lf>` and the `\"`, `\^`, `\<`,
//! `\\` escapes (§4.0); expressions with `+ - * /`, comparisons, `and`, `or`, `!` (§5.0);
//! `;` comments (§6.0); the commands of §8.0: `delay`, `getip`, `goto`, `halt`, `if … then
//! … endif`, `set ipaddr`, `set port databits|parity|stopbits`, `set screen keyboard
//! on|off`, `transmit … [, raw]`, `waitfor … [, matchcase] [then LABEL {, …}] [until N]`,
//! `while … do … endwhile`, labels and assignments.
//!
//! Choices SCRIPT.DOC leaves open, marked [inferred] where they are made: keywords are
//! case-insensitive, variable names are not; a `waitfor` matches text received since the
//! last match (received before it started, too); a `waitfor` without `until` waits until
//! the engine's own timeout; commas in `waitfor`/`transmit` may be left out.
//!
//! The machine ([`ScriptRunner`]) takes received bytes and timeouts and emits bytes to send
//! and [`ScriptEvent`]s; it never reads a clock. The password is never logged.

mod lexer;
mod machine;
mod parser;

use std::fmt;

pub use machine::{ScriptEvent, ScriptRunner, ScriptRuntimeError};

/// A script that cannot be run, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {error}")]
pub struct ScriptError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub error: SyntaxError,
}

/// What is wrong with a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// A character that begins no token.
    #[error("unexpected `{0}`")]
    Unexpected(String),
    /// A string literal without its closing quote on the same line.
    #[error("string literal not closed on this line")]
    UnterminatedString,
    /// An integer literal beyond 64 bits.
    #[error("integer literal too large")]
    IntegerTooLarge,
    /// Something else where something was needed.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What was needed.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// The script ended where something was needed.
    #[error("expected {expected}, found the end of the script")]
    UnexpectedEnd {
        /// What was needed.
        expected: &'static str,
    },
    /// `proc` of anything but `main` (SCRIPT.DOC §7.0: execution starts at `main`).
    #[error("only `proc main` is supported, found `proc {0}`")]
    NotMain(String),
    /// A word that is no command, label or variable.
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    /// A variable used before its declaration (SCRIPT.DOC §3.0).
    #[error("variable `{0}` is not declared")]
    Undeclared(String),
    /// A variable declared twice.
    #[error("variable `{0}` is already declared")]
    Redeclared(String),
    /// A `$NAME` SCRIPT.DOC §3.1 does not define.
    #[error("unknown system variable `${0}`")]
    UnknownSystemVariable(String),
    /// A reserved word used as a label or variable (SCRIPT.DOC §9.0).
    #[error("`{0}` is a reserved word")]
    ReservedWord(String),
    /// `goto` or `then` to a label nowhere defined.
    #[error("label `{0}` is not defined")]
    UnknownLabel(String),
    /// A label defined twice.
    #[error("label `{0}` is defined twice")]
    DuplicateLabel(String),
    /// A value of the wrong type.
    #[error("expected a {expected} value, found a {found} one")]
    Type {
        /// The type needed.
        expected: Type,
        /// The type found.
        found: Type,
    },
    /// Operands an operator does not take.
    #[error("`{operator}` does not apply to {left} and {right}")]
    Operands {
        /// The operator.
        operator: &'static str,
        /// The left operand's type.
        left: Type,
        /// The right operand's type.
        right: Type,
    },
    /// A `set port` value out of range.
    #[error("{0}")]
    BadPortValue(&'static str),
}

/// A value's type (SCRIPT.DOC §3.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `integer`.
    Integer,
    /// `string`.
    String,
    /// `boolean`.
    Boolean,
}

impl Type {
    /// The value a declaration without `= value` starts with [inferred: SCRIPT.DOC names
    /// none; 0, "" and FALSE].
    fn zero(self) -> Expr {
        match self {
            Type::Integer => Expr::Integer(0),
            Type::String => Expr::Text(String::new()),
            Type::Boolean => Expr::Boolean(false),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Integer => "integer",
            Type::String => "string",
            Type::Boolean => "boolean",
        })
    }
}

/// SCRIPT.DOC §3.1 system variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemVariable {
    /// `$USERID`: the user name of the dial.
    UserId,
    /// `$PASSWORD`: its password.
    Password,
    /// `$SUCCESS`: whether the last `waitfor` or `getip` succeeded.
    Success,
    /// `$FAILURE`: the opposite.
    Failure,
}

impl SystemVariable {
    fn from_name(name: &str) -> Option<Self> {
        [
            ("USERID", SystemVariable::UserId),
            ("PASSWORD", SystemVariable::Password),
            ("SUCCESS", SystemVariable::Success),
            ("FAILURE", SystemVariable::Failure),
        ]
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, variable)| variable)
    }

    fn ty(self) -> Type {
        match self {
            SystemVariable::UserId | SystemVariable::Password => Type::String,
            SystemVariable::Success | SystemVariable::Failure => Type::Boolean,
        }
    }
}

/// SCRIPT.DOC §5.0 binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Less,
    Greater,
    LessEqual,
    GreaterEqual,
    Equal,
    NotEqual,
    And,
    Or,
}

impl BinaryOp {
    /// The result type for these operand types, if the operator takes them: arithmetic
    /// and ordering on integers, `+` also concatenating strings, equality on two values of
    /// one type, `and`/`or` on booleans.
    fn result(self, left: Type, right: Type) -> Option<Type> {
        use BinaryOp::*;
        match (self, left, right) {
            (Add, Type::String, Type::String) => Some(Type::String),
            (Add | Subtract | Multiply | Divide, Type::Integer, Type::Integer) => {
                Some(Type::Integer)
            }
            (Less | Greater | LessEqual | GreaterEqual, Type::Integer, Type::Integer) => {
                Some(Type::Boolean)
            }
            (Equal | NotEqual, l, r) if l == r => Some(Type::Boolean),
            (And | Or, Type::Boolean, Type::Boolean) => Some(Type::Boolean),
            _ => None,
        }
    }

    fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Subtract => "-",
            Multiply => "*",
            Divide => "/",
            Less => "<",
            Greater => ">",
            LessEqual => "<=",
            GreaterEqual => ">=",
            Equal => "==",
            NotEqual => "!=",
            And => "and",
            Or => "or",
        }
    }
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Integer(i64),
    Text(String),
    Boolean(bool),
    Variable(usize),
    System(SystemVariable),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

/// `set port` (SCRIPT.DOC §8.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSetting {
    /// `databits 5..8`.
    DataBits(u8),
    /// `stopbits 1|2`.
    StopBits(u8),
    /// `parity none|odd|even|mark|space`.
    Parity(Parity),
}

/// Parity for `set port parity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Odd.
    Odd,
    /// Even.
    Even,
    /// Always 1.
    Mark,
    /// Always 0.
    Space,
}

/// One string a `waitfor` waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WaitArm {
    text: Expr,
    match_case: bool,
    /// Where to go on a match (`then LABEL`); otherwise the next command.
    then: Option<usize>,
}

/// One step of a compiled script.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Assign {
        slot: usize,
        value: Expr,
    },
    Transmit {
        text: Expr,
        raw: bool,
    },
    WaitFor {
        arms: Vec<WaitArm>,
        until: Option<Expr>,
    },
    Delay(Expr),
    /// Wait for the `index`th IP address in the received text; store it in `into` (a
    /// string variable) and remember it for `set ipaddr getip`.
    GetIp {
        index: Expr,
        into: Option<usize>,
    },
    SetIpAddr(Expr),
    SetIpAddrFromLast,
    SetPort(PortSetting),
    SetKeyboard(bool),
    Halt,
    Jump(usize),
    JumpUnless {
        condition: Expr,
        to: usize,
    },
    End,
}

/// A parsed, checked dial script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialScript {
    ops: Vec<Op>,
    variables: usize,
}

impl DialScript {
    /// Parse and check `text`.
    pub fn parse(text: &str) -> Result<DialScript, ScriptError> {
        let tokens = lexer::tokenize(text)?;
        let (ops, variables) = parser::Parser::new(tokens).program()?;
        Ok(DialScript { ops, variables })
    }
}

/// SCRIPT.DOC §4.0: the bytes a string stands for when sent or waited for: `^X` is the
/// control character X & 0x1F, `<cr>` and `<lf>` are CR and LF, and `\"`, `\^`, `\<`,
/// `\\` stand for the character after the backslash.
pub fn translate(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => push_char(&mut out, escaped),
                None => out.push(b'\\'),
            },
            '^' => match chars.peek() {
                Some(&control) if ('@'..='_').contains(&control.to_ascii_uppercase()) => {
                    chars.next();
                    out.push(control.to_ascii_uppercase() as u8 & 0x1F);
                }
                _ => out.push(b'^'),
            },
            '<' => {
                let rest: String = chars
                    .clone()
                    .take(3)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if rest.starts_with("cr>") || rest.starts_with("lf>") {
                    out.push(if rest.starts_with("cr") { b'\r' } else { b'\n' });
                    chars.nth(2);
                } else {
                    out.push(b'<');
                }
            }
            c => push_char(&mut out, c),
        }
    }
    out
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buffer = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
}

#[cfg(test)]
mod tests;
