//! Tokens of a dial script (SCRIPT.DOC §3.0 names, §4.0 string literals, §5.0 operators,
//! §6.0 comments), each with the line and column it starts at.

use super::{ScriptError, SyntaxError};

/// A token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// A name: keyword, command, variable or label (SCRIPT.DOC §3.0: a letter or `_`,
    /// then letters, digits and `_`).
    Name(String),
    /// A system variable (`$USERID`, `$PASSWORD`, `$SUCCESS`, `$FAILURE`; §3.1).
    System(String),
    /// A decimal integer.
    Integer(i64),
    /// A string literal's text between the quotes, escapes untranslated (§4.0: they are
    /// translated when the string is sent or waited for, unless `raw`).
    Text(String),
    /// An operator or punctuation: `= == != < > <= >= + - * / ! ( ) , :`.
    Symbol(&'static str),
}

/// A token and where it starts (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Spanned {
    pub token: Token,
    pub line: u32,
    pub column: u32,
}

const SYMBOLS: [&str; 15] = [
    "==", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "!", "(", ")", ",",
];

/// Split `text` into tokens; `;` starts a comment to the end of the line.
pub(super) fn tokenize(text: &str) -> Result<Vec<Spanned>, ScriptError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    let error = |line, column, error| ScriptError {
        line,
        column,
        error,
    };
    while let Some(&c) = chars.peek() {
        let (start_line, start_column) = (line, column);
        let mut advance = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let c = chars.next();
            if c == Some('\n') {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
            c
        };
        let token = match c {
            c if c.is_whitespace() => {
                advance(&mut chars);
                continue;
            }
            ';' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    advance(&mut chars);
                }
                continue;
            }
            '"' => {
                advance(&mut chars);
                let mut text = String::new();
                loop {
                    match advance(&mut chars) {
                        None | Some('\n') => {
                            return Err(error(
                                start_line,
                                start_column,
                                SyntaxError::UnterminatedString,
                            ));
                        }
                        Some('"') => break,
                        // §4.0: `\"` is a quote inside the string; the escape stays for
                        // the translation.
                        Some('\\') => {
                            text.push('\\');
                            if let Some(next) = advance(&mut chars) {
                                text.push(next);
                            }
                        }
                        Some(c) => text.push(c),
                    }
                }
                Token::Text(text)
            }
            '$' => {
                advance(&mut chars);
                let name = take_name(&mut chars, &mut advance);
                if name.is_empty() {
                    return Err(error(
                        start_line,
                        start_column,
                        SyntaxError::Unexpected("$".into()),
                    ));
                }
                Token::System(name)
            }
            c if c.is_ascii_digit() => {
                let mut digits = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(d);
                    advance(&mut chars);
                }
                let value = digits
                    .parse()
                    .map_err(|_| error(start_line, start_column, SyntaxError::IntegerTooLarge))?;
                Token::Integer(value)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                Token::Name(take_name(&mut chars, &mut advance))
            }
            ':' => {
                advance(&mut chars);
                Token::Symbol(":")
            }
            _ => {
                let rest: String = chars.clone().take(2).collect();
                let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                    return Err(error(
                        start_line,
                        start_column,
                        SyntaxError::Unexpected(c.to_string()),
                    ));
                };
                for _ in 0..symbol.len() {
                    advance(&mut chars);
                }
                Token::Symbol(symbol)
            }
        };
        tokens.push(Spanned {
            token,
            line: start_line,
            column: start_column,
        });
    }
    Ok(tokens)
}

fn take_name(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    advance: &mut impl FnMut(&mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char>,
) -> String {
    let mut name = String::new();
    while let Some(&c) = chars
        .peek()
        .filter(|c| c.is_ascii_alphanumeric() || **c == '_')
    {
        name.push(c);
        advance(chars);
    }
    name
}
