//! How an `exec:` far end is started: the command line split into words and run directly
//! when it is a plain command, through `sh -c` when it uses the shell's syntax.
//!
//! Splitting rules (also in `modem-sim --help`): words are separated by spaces or tabs;
//! `'…'` keeps everything inside as is; `"…"` keeps everything inside except that `\"` and
//! `\\` stand for `"` and `\`; outside quotes `\` makes the next character ordinary. A
//! command with any of `| & ; < > ( ) $ \` * ? [ ] { } ~ # !` or a line break outside
//! quotes, or whose first word holds `=` (a variable assignment), goes to `sh -c` whole.

/// Characters that only a shell understands.
const SHELL_SYNTAX: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '~', '#', '!', '\n',
    '\r',
];

/// How to run a far-end command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FarCommand {
    /// A program and its arguments, run without a shell.
    Direct(Vec<String>),
    /// A command line for `sh -c`.
    Shell(String),
}

impl FarCommand {
    /// Decide how to run `command` (see the module documentation).
    pub fn parse(command: &str) -> FarCommand {
        match split(command) {
            Some(words) if words.first().is_some_and(|first| !first.contains('=')) => {
                FarCommand::Direct(words)
            }
            _ => FarCommand::Shell(command.to_owned()),
        }
    }
}

/// The words of `command`, or `None` if it needs a shell (shell syntax outside quotes, an
/// unclosed quote, a trailing `\`, or no words at all).
fn split(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\'' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        inner => text.push(inner),
                    }
                }
            }
            '"' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            escaped @ ('"' | '\\') => text.push(escaped),
                            other => {
                                text.push('\\');
                                text.push(other);
                            }
                        },
                        // `$` and backquotes work inside double quotes in sh.
                        '$' | '`' => return None,
                        inner => text.push(inner),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            c if SHELL_SYNTAX.contains(&c) => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    (!words.is_empty()).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn direct(words: &[&str]) -> FarCommand {
        FarCommand::Direct(words.iter().map(|w| (*w).to_owned()).collect())
    }

    #[test]
    fn plain_commands_run_without_a_shell() {
        assert_eq!(
            FarCommand::parse("ppp-peer-sim --script server.yaml --stdio"),
            direct(&["ppp-peer-sim", "--script", "server.yaml", "--stdio"])
        );
        assert_eq!(
            FarCommand::parse("  pppd  notty 'local ip' \"a \\\"b\\\" c\" x\\ y "),
            direct(&["pppd", "notty", "local ip", "a \"b\" c", "x y"])
        );
        assert_eq!(FarCommand::parse("''"), direct(&[""]));
    }

    #[test]
    fn shell_syntax_goes_to_sh() {
        for command in [
            "cat | tee log",
            "a && b",
            "sleep 1; cat",
            "cat > out",
            "echo $HOME",
            "echo \"$HOME\"",
            "ls *.yaml",
            "FOO=1 cat",
            "'unclosed",
            "trailing\\",
            "",
            "   ",
            "# comment",
        ] {
            assert_eq!(
                FarCommand::parse(command),
                FarCommand::Shell(command.to_owned()),
                "{command:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_plain_words_survive(
            command in ".{0,80}",
            words in proptest::collection::vec("[a-zA-Z0-9_./:-]{1,12}", 1..6),
        ) {
            let _ = FarCommand::parse(&command);
            prop_assert_eq!(
                FarCommand::parse(&words.join(" ")),
                FarCommand::Direct(words.clone())
            );
        }
    }
}
