//! The light Lua lexer behind [`super::scan`]: names, string literals (quoted and long
//! brackets, unescaped), numbers and punctuation, with the line each starts on; comments
//! are skipped.

/// One Lua token, as far as this scan needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    /// A name (`redis`, `call`, `local`).
    Name(&'a [u8]),
    /// A string literal, unescaped.
    Str(Vec<u8>),
    /// One punctuation byte (`.` `(` `,` …; `..` is two).
    Punct(u8),
    /// A number.
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) kind: Kind<'a>,
    pub(super) line: usize,
}

/// Splits Lua source into tokens, skipping comments. Stops at an unterminated string
/// or comment (Redis will refuse to compile the script anyway).
pub(super) fn lex(src: &[u8]) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while let Some(&c) = src.get(i) {
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            b'-' if src.get(i + 1) == Some(&b'-') => {
                i += 2;
                if let Some(level) = long_bracket(src, i) {
                    let Some((_, end)) = long_body(src, i, level) else {
                        break;
                    };
                    line += count_lines(&src[i..end]);
                    i = end;
                } else {
                    while src.get(i).is_some_and(|&b| b != b'\n') {
                        i += 1;
                    }
                }
            }
            b'[' if long_bracket(src, i).is_some() => {
                let level = long_bracket(src, i).unwrap_or_default();
                let Some((body, end)) = long_body(src, i, level) else {
                    break;
                };
                line += count_lines(&src[i..end]);
                // Lua drops a newline right after the opening bracket.
                let body = body.strip_prefix(b"\n").unwrap_or(body);
                tokens.push(Token {
                    kind: Kind::Str(body.to_vec()),
                    line: start_line,
                });
                i = end;
            }
            b'\'' | b'"' => {
                let Some((text, end, lines)) = quoted(src, i) else {
                    break;
                };
                tokens.push(Token {
                    kind: Kind::Str(text),
                    line: start_line,
                });
                line += lines;
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = i + src[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                tokens.push(Token {
                    kind: Kind::Name(&src[i..end]),
                    line,
                });
                i = end;
            }
            c if c.is_ascii_digit()
                || (c == b'.' && src.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                while let Some(&b) = src.get(i) {
                    let exponent_sign = (b == b'+' || b == b'-')
                        && matches!(src.get(i - 1), Some(b'e' | b'E' | b'p' | b'P'));
                    if b.is_ascii_alphanumeric() || b == b'.' || exponent_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                tokens.push(Token {
                    kind: Kind::Number,
                    line,
                });
            }
            c => {
                tokens.push(Token {
                    kind: Kind::Punct(c),
                    line,
                });
                i += 1;
            }
        }
    }
    tokens
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// The level of a long bracket `[[` / `[==[` opening at `i`, if one does.
fn long_bracket(src: &[u8], i: usize) -> Option<usize> {
    if src.get(i) != Some(&b'[') {
        return None;
    }
    let level = src[i + 1..].iter().take_while(|&&b| b == b'=').count();
    (src.get(i + 1 + level) == Some(&b'[')).then_some(level)
}

/// The body of the long bracket opening at `i` and the index just past its close.
fn long_body(src: &[u8], i: usize, level: usize) -> Option<(&[u8], usize)> {
    let open = i + level + 2;
    let mut close = Vec::with_capacity(level + 2);
    close.push(b']');
    close.extend(std::iter::repeat_n(b'=', level));
    close.push(b']');
    let rest = src.get(open..)?;
    let at = rest
        .windows(close.len())
        .position(|w| w == close.as_slice())?;
    Some((&rest[..at], open + at + close.len()))
}

/// A quoted string opening at `i`: its unescaped bytes, the index past its closing
/// quote, and how many lines it spans (a `\` newline continues it).
fn quoted(src: &[u8], i: usize) -> Option<(Vec<u8>, usize, usize)> {
    let quote = *src.get(i)?;
    let mut out = Vec::new();
    let mut lines = 0;
    let mut j = i + 1;
    loop {
        let c = *src.get(j)?;
        match c {
            b'\n' => return None,
            c if c == quote => return Some((out, j + 1, lines)),
            b'\\' => {
                let e = *src.get(j + 1)?;
                j += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'v' => out.push(11),
                    b'\n' => {
                        out.push(b'\n');
                        lines += 1;
                    }
                    d if d.is_ascii_digit() => {
                        let mut value = u32::from(d - b'0');
                        for _ in 0..2 {
                            match src.get(j) {
                                Some(&d) if d.is_ascii_digit() => {
                                    value = value * 10 + u32::from(d - b'0');
                                    j += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(value).unwrap_or(u8::MAX));
                    }
                    other => out.push(other),
                }
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
}
