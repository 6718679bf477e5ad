//! From tokens to a checked program: declarations typed, every name declared before use,
//! every expression typed (SCRIPT.DOC §3.0, §5.0), every `goto`/`then` label defined, the
//! blocks (`if … endif`, `while … endwhile`, `proc main … endproc`) balanced. Structured
//! statements become jumps, so the machine runs a flat list.

use std::collections::HashMap;

use super::lexer::{Spanned, Token};
use super::{
    BinaryOp, Expr, Op, Parity, PortSetting, ScriptError, SyntaxError, SystemVariable, Type,
    WaitArm,
};

/// Where a label is used, to resolve once every label is known.
struct Pending {
    op: usize,
    arm: Option<usize>,
    label: String,
    line: u32,
    column: u32,
}

pub(super) struct Parser {
    tokens: Vec<Spanned>,
    at: usize,
    /// Declared variables: slot and type.
    variables: HashMap<String, (usize, Type)>,
    labels: HashMap<String, usize>,
    pending: Vec<Pending>,
    ops: Vec<Op>,
}

/// Reserved words (SCRIPT.DOC §9.0) that cannot name a variable or a label.
const RESERVED: &[&str] = &[
    "and",
    "boolean",
    "databits",
    "delay",
    "do",
    "endif",
    "endproc",
    "endwhile",
    "even",
    "false",
    "getip",
    "goto",
    "halt",
    "if",
    "integer",
    "ipaddr",
    "keyboard",
    "mark",
    "matchcase",
    "none",
    "odd",
    "off",
    "on",
    "or",
    "parity",
    "port",
    "proc",
    "raw",
    "screen",
    "set",
    "space",
    "stopbits",
    "string",
    "then",
    "transmit",
    "true",
    "until",
    "waitfor",
    "while",
];

fn reserved(name: &str) -> bool {
    RESERVED.iter().any(|word| word.eq_ignore_ascii_case(name))
}

impl Parser {
    pub(super) fn new(tokens: Vec<Spanned>) -> Self {
        Parser {
            tokens,
            at: 0,
            variables: HashMap::new(),
            labels: HashMap::new(),
            pending: Vec::new(),
            ops: Vec::new(),
        }
    }

    fn position(&self) -> (u32, u32) {
        match self.tokens.get(self.at).or(self.tokens.last()) {
            Some(token) => (token.line, token.column),
            None => (1, 1),
        }
    }

    fn error(&self, error: SyntaxError) -> ScriptError {
        let (line, column) = self.position();
        ScriptError {
            line,
            column,
            error,
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|t| &t.token)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(name)) if name.eq_ignore_ascii_case(keyword))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|t| t.token.clone());
        self.at += 1;
        token
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_keyword(&mut self, keyword: &'static str) -> Result<(), ScriptError> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.error(self.expected(keyword)))
        }
    }

    fn expected(&self, what: &'static str) -> SyntaxError {
        match self.peek() {
            None => SyntaxError::UnexpectedEnd { expected: what },
            Some(found) => SyntaxError::Expected {
                expected: what,
                found: describe(found),
            },
        }
    }

    fn name(&mut self, what: &'static str) -> Result<String, ScriptError> {
        match self.peek() {
            Some(Token::Name(name)) if !reserved(name) => {
                let name = name.clone();
                self.at += 1;
                Ok(name)
            }
            _ => Err(self.error(self.expected(what))),
        }
    }

    /// `proc main … endproc` (SCRIPT.DOC §2.0, §7.0), and nothing after it.
    pub(super) fn program(mut self) -> Result<(Vec<Op>, usize), ScriptError> {
        self.expect_keyword("proc")?;
        let (line, column) = self.position();
        let name = self.name("the procedure name `main`")?;
        if !name.eq_ignore_ascii_case("main") {
            return Err(ScriptError {
                line,
                column,
                error: SyntaxError::NotMain(name),
            });
        }
        self.block(&["endproc"])?;
        self.expect_keyword("endproc")?;
        if self.peek().is_some() {
            return Err(self.error(self.expected("the end of the script after `endproc`")));
        }
        self.ops.push(Op::End);
        for pending in std::mem::take(&mut self.pending) {
            let Some(&target) = self.labels.get(&pending.label) else {
                return Err(ScriptError {
                    line: pending.line,
                    column: pending.column,
                    error: SyntaxError::UnknownLabel(pending.label),
                });
            };
            match (&mut self.ops[pending.op], pending.arm) {
                (Op::Jump(to), None) => *to = target,
                (Op::WaitFor { arms, .. }, Some(arm)) => arms[arm].then = Some(target),
                _ => {}
            }
        }
        Ok((self.ops, self.variables.len()))
    }

    /// Statements until one of `ends` (not consumed).
    fn block(&mut self, ends: &[&'static str]) -> Result<(), ScriptError> {
        loop {
            if ends.iter().any(|end| self.peek_keyword(end)) {
                return Ok(());
            }
            if self.peek().is_none() {
                return Err(self.error(SyntaxError::UnexpectedEnd {
                    expected: ends.first().copied().unwrap_or("endproc"),
                }));
            }
            self.statement()?;
        }
    }

    fn statement(&mut self) -> Result<(), ScriptError> {
        let (line, column) = self.position();
        let Some(Token::Name(word)) = self.peek().cloned() else {
            return Err(self.error(self.expected("a command")));
        };
        self.at += 1;
        match word.to_ascii_lowercase().as_str() {
            kind @ ("integer" | "string" | "boolean") => {
                let ty = match kind {
                    "integer" => Type::Integer,
                    "string" => Type::String,
                    _ => Type::Boolean,
                };
                let (line, column) = self.position();
                let name = self.name("a variable name")?;
                if self.variables.contains_key(&name) {
                    return Err(ScriptError {
                        line,
                        column,
                        error: SyntaxError::Redeclared(name),
                    });
                }
                let slot = self.variables.len();
                self.variables.insert(name, (slot, ty));
                let value = if self.eat_symbol("=") {
                    self.typed_expr(ty)?
                } else {
                    ty.zero()
                };
                self.ops.push(Op::Assign { slot, value });
            }
            "delay" => {
                let seconds = self.typed_expr(Type::Integer)?;
                self.ops.push(Op::Delay(seconds));
            }
            "transmit" => {
                let text = self.typed_expr(Type::String)?;
                let raw = self.eat_symbol(",") && {
                    if !self.eat_keyword("raw") {
                        return Err(self.error(self.expected("`raw`")));
                    }
                    true
                };
                // Accept `transmit "x" raw` too, without the comma.
                let raw = raw || self.eat_keyword("raw");
                self.ops.push(Op::Transmit { text, raw });
            }
            "waitfor" => self.waitfor()?,
            "goto" => {
                let (line, column) = self.position();
                let label = self.name("a label")?;
                self.pending.push(Pending {
                    op: self.ops.len(),
                    arm: None,
                    label,
                    line,
                    column,
                });
                self.ops.push(Op::Jump(0));
            }
            "halt" => self.ops.push(Op::Halt),
            "getip" => {
                // A bare `getip` waits for an address and discards it.
                let index = self.getip_index()?;
                self.ops.push(Op::GetIp { index, into: None });
            }
            "set" => self.set()?,
            "if" => {
                let condition = self.typed_expr(Type::Boolean)?;
                self.expect_keyword("then")?;
                let branch = self.ops.len();
                self.ops.push(Op::JumpUnless { condition, to: 0 });
                self.block(&["endif"])?;
                self.expect_keyword("endif")?;
                let end = self.ops.len();
                if let Op::JumpUnless { to, .. } = &mut self.ops[branch] {
                    *to = end;
                }
            }
            "while" => {
                let top = self.ops.len();
                let condition = self.typed_expr(Type::Boolean)?;
                self.expect_keyword("do")?;
                self.ops.push(Op::JumpUnless { condition, to: 0 });
                self.block(&["endwhile"])?;
                self.expect_keyword("endwhile")?;
                self.ops.push(Op::Jump(top));
                let end = self.ops.len();
                if let Op::JumpUnless { to, .. } = &mut self.ops[top] {
                    *to = end;
                }
            }
            _ if self.eat_symbol(":") => {
                // A label (SCRIPT.DOC §7.0, `goto`).
                if reserved(&word) {
                    return Err(ScriptError {
                        line,
                        column,
                        error: SyntaxError::ReservedWord(word),
                    });
                }
                if self.labels.insert(word.clone(), self.ops.len()).is_some() {
                    return Err(ScriptError {
                        line,
                        column,
                        error: SyntaxError::DuplicateLabel(word),
                    });
                }
            }
            _ if self.eat_symbol("=") => {
                let Some(&(slot, ty)) = self.variables.get(&word) else {
                    return Err(ScriptError {
                        line,
                        column,
                        error: SyntaxError::Undeclared(word),
                    });
                };
                if self.peek_keyword("getip") {
                    if ty != Type::String {
                        return Err(self.error(SyntaxError::Type {
                            expected: ty,
                            found: Type::String,
                        }));
                    }
                    self.at += 1;
                    let index = self.getip_index()?;
                    self.ops.push(Op::GetIp {
                        index,
                        into: Some(slot),
                    });
                } else {
                    let value = self.typed_expr(ty)?;
                    self.ops.push(Op::Assign { slot, value });
                }
            }
            _ => {
                return Err(ScriptError {
                    line,
                    column,
                    error: SyntaxError::UnknownCommand(word),
                });
            }
        }
        Ok(())
    }

    /// `getip [n]`: which address, 1 by default (SCRIPT.DOC §8.0: `set ipaddr getip 2`).
    fn getip_index(&mut self) -> Result<Expr, ScriptError> {
        match self.peek() {
            Some(Token::Integer(index)) => {
                let index = *index;
                self.at += 1;
                Ok(Expr::Integer(index))
            }
            _ => Ok(Expr::Integer(1)),
        }
    }

    /// `waitfor "s" [,matchcase] [then L {, "s" [,matchcase] then L}] [until t]`
    /// (SCRIPT.DOC §8.0); the commas are optional here.
    fn waitfor(&mut self) -> Result<(), ScriptError> {
        let op = self.ops.len();
        let mut arms = Vec::new();
        loop {
            let text = self.typed_expr(Type::String)?;
            let match_case = {
                let comma = self.at;
                if self.eat_symbol(",") && !self.peek_keyword("matchcase") {
                    self.at = comma;
                }
                self.eat_keyword("matchcase")
            };
            let mut arm = WaitArm {
                text,
                match_case,
                then: None,
            };
            let mut more = false;
            if self.eat_keyword("then") {
                let (line, column) = self.position();
                let label = self.name("a label")?;
                self.pending.push(Pending {
                    op,
                    arm: Some(arms.len()),
                    label,
                    line,
                    column,
                });
                arm.then = Some(0);
                more = self.eat_symbol(",");
            }
            arms.push(arm);
            if !more {
                break;
            }
        }
        let until = if self.eat_keyword("until") {
            Some(self.typed_expr(Type::Integer)?)
        } else {
            None
        };
        self.ops.push(Op::WaitFor { arms, until });
        Ok(())
    }

    /// `set port databits|parity|stopbits`, `set screen keyboard on|off`, `set ipaddr`.
    fn set(&mut self) -> Result<(), ScriptError> {
        if self.eat_keyword("port") {
            let setting = if self.eat_keyword("databits") {
                let (line, column) = self.position();
                match self.next() {
                    Some(Token::Integer(bits @ 5..=8)) => PortSetting::DataBits(bits as u8),
                    _ => {
                        return Err(ScriptError {
                            line,
                            column,
                            error: SyntaxError::BadPortValue("databits must be 5, 6, 7 or 8"),
                        });
                    }
                }
            } else if self.eat_keyword("stopbits") {
                let (line, column) = self.position();
                match self.next() {
                    Some(Token::Integer(bits @ 1..=2)) => PortSetting::StopBits(bits as u8),
                    _ => {
                        return Err(ScriptError {
                            line,
                            column,
                            error: SyntaxError::BadPortValue("stopbits must be 1 or 2"),
                        });
                    }
                }
            } else if self.eat_keyword("parity") {
                let parity = [
                    ("none", Parity::None),
                    ("odd", Parity::Odd),
                    ("even", Parity::Even),
                    ("mark", Parity::Mark),
                    ("space", Parity::Space),
                ]
                .into_iter()
                .find(|(word, _)| self.eat_keyword(word))
                .map(|(_, parity)| parity)
                .ok_or_else(|| {
                    self.error(SyntaxError::BadPortValue(
                        "parity must be none, odd, even, mark or space",
                    ))
                })?;
                PortSetting::Parity(parity)
            } else {
                return Err(self.error(self.expected("databits, parity or stopbits")));
            };
            self.ops.push(Op::SetPort(setting));
        } else if self.eat_keyword("screen") {
            self.expect_keyword("keyboard")?;
            let on = if self.eat_keyword("on") {
                true
            } else if self.eat_keyword("off") {
                false
            } else {
                return Err(self.error(self.expected("on or off")));
            };
            self.ops.push(Op::SetKeyboard(on));
        } else if self.eat_keyword("ipaddr") {
            if self.eat_keyword("getip") {
                let index = self.getip_index()?;
                self.ops.push(Op::GetIp { index, into: None });
                self.ops.push(Op::SetIpAddrFromLast);
            } else {
                let address = self.typed_expr(Type::String)?;
                self.ops.push(Op::SetIpAddr(address));
            }
        } else {
            return Err(self.error(self.expected("port, screen or ipaddr")));
        }
        Ok(())
    }

    fn typed_expr(&mut self, expected: Type) -> Result<Expr, ScriptError> {
        let (line, column) = self.position();
        let (expr, found) = self.expr(0)?;
        if found != expected {
            return Err(ScriptError {
                line,
                column,
                error: SyntaxError::Type { expected, found },
            });
        }
        Ok(expr)
    }

    /// Precedence climbing over SCRIPT.DOC §5.0's operators, loosest first.
    fn expr(&mut self, level: usize) -> Result<(Expr, Type), ScriptError> {
        const LEVELS: [&[(&str, BinaryOp)]; 5] = [
            &[("or", BinaryOp::Or)],
            &[("and", BinaryOp::And)],
            &[("==", BinaryOp::Equal), ("!=", BinaryOp::NotEqual)],
            &[
                ("<=", BinaryOp::LessEqual),
                (">=", BinaryOp::GreaterEqual),
                ("<", BinaryOp::Less),
                (">", BinaryOp::Greater),
            ],
            &[("+", BinaryOp::Add), ("-", BinaryOp::Subtract)],
        ];
        const PRODUCT: &[(&str, BinaryOp)] = &[("*", BinaryOp::Multiply), ("/", BinaryOp::Divide)];
        let operators = match LEVELS.get(level) {
            Some(operators) => *operators,
            None if level == LEVELS.len() => PRODUCT,
            None => return self.unary(),
        };
        let (mut left, mut left_type) = self.expr(level + 1)?;
        loop {
            let (line, column) = self.position();
            let Some(&(_, op)) = operators.iter().find(|(symbol, _)| {
                if symbol.chars().all(|c| c.is_ascii_alphabetic()) {
                    self.peek_keyword(symbol)
                } else {
                    matches!(self.peek(), Some(Token::Symbol(s)) if s == symbol)
                }
            }) else {
                return Ok((left, left_type));
            };
            self.at += 1;
            let (right, right_type) = self.expr(level + 1)?;
            let result = op.result(left_type, right_type).ok_or(ScriptError {
                line,
                column,
                error: SyntaxError::Operands {
                    operator: op.symbol(),
                    left: left_type,
                    right: right_type,
                },
            })?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
            left_type = result;
        }
    }

    fn unary(&mut self) -> Result<(Expr, Type), ScriptError> {
        let (line, column) = self.position();
        let operand_error = |operator, found| ScriptError {
            line,
            column,
            error: SyntaxError::Operands {
                operator,
                left: found,
                right: found,
            },
        };
        if self.eat_symbol("!") {
            let (operand, ty) = self.unary()?;
            if ty != Type::Boolean {
                return Err(operand_error("!", ty));
            }
            return Ok((Expr::Not(Box::new(operand)), Type::Boolean));
        }
        if self.eat_symbol("-") {
            let (operand, ty) = self.unary()?;
            if ty != Type::Integer {
                return Err(operand_error("-", ty));
            }
            return Ok((Expr::Negate(Box::new(operand)), Type::Integer));
        }
        match self.next() {
            Some(Token::Integer(value)) => Ok((Expr::Integer(value), Type::Integer)),
            Some(Token::Text(text)) => Ok((Expr::Text(text), Type::String)),
            Some(Token::Symbol("(")) => {
                let inner = self.expr(0)?;
                if !self.eat_symbol(")") {
                    return Err(self.error(self.expected("`)`")));
                }
                Ok(inner)
            }
            Some(Token::System(name)) => {
                let variable = SystemVariable::from_name(&name).ok_or(ScriptError {
                    line,
                    column,
                    error: SyntaxError::UnknownSystemVariable(name),
                })?;
                Ok((Expr::System(variable), variable.ty()))
            }
            Some(Token::Name(name)) if name.eq_ignore_ascii_case("true") => {
                Ok((Expr::Boolean(true), Type::Boolean))
            }
            Some(Token::Name(name)) if name.eq_ignore_ascii_case("false") => {
                Ok((Expr::Boolean(false), Type::Boolean))
            }
            Some(Token::Name(name)) => match self.variables.get(&name) {
                Some(&(slot, ty)) => Ok((Expr::Variable(slot), ty)),
                None => Err(ScriptError {
                    line,
                    column,
                    error: SyntaxError::Undeclared(name),
                }),
            },
            found => {
                self.at -= 1;
                let _ = found;
                Err(self.error(self.expected("a value")))
            }
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(name) => format!("`{name}`"),
        Token::System(name) => format!("`${name}`"),
        Token::Integer(value) => format!("`{value}`"),
        Token::Text(text) => format!("\"{text}\""),
        Token::Symbol(symbol) => format!("`{symbol}`"),
    }
}
