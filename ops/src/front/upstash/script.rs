//! Scripts: what an `EVAL`/`EVALSHA` body would do that Upstash's Redis 6.2 cannot.
//!
//! A script runs inside Redis, where the front cannot see its commands, so the front
//! reads the script's text instead. Best effort, by design: a light Lua lexer (strings,
//! long strings and comments understood, so a commented-out call or a call inside a
//! string is not one) finds every `redis.call(...)`/`redis.pcall(...)` whose first
//! argument is a string literal, and checks it with [`policy::check`] using the other
//! arguments that are literals (`redis.call('SET', KEYS[1], v, 'NX', 'GET')` is
//! refused; a command or option held in a variable, or built by concatenation, is not
//! seen). The REST-only rules are not applied there: inside a script Redis itself
//! decides about blocking and pub/sub commands.
//!
//! It also refuses the 7.0+ parts of the scripting API that the text shows (the Redis
//! Lua API reference, `redis/docs` `lua-api.md`, gives each one's "Since version"):
//! a `#!` shebang line with script flags (7.0; Redis 6.2's Lua 5.1 cannot compile it,
//! so even `SCRIPT LOAD` fails there), `redis.REDIS_VERSION`/`REDIS_VERSION_NUM`,
//! `redis.acl_check_cmd` and `redis.register_function` (7.0), and the `os` library
//! (7.4). `redis.setresp` (6.0) and `redis.set_repl` (3.2) are fine.
//!
//! `EVALSHA` carries no text, so [`ScriptBook`] remembers the SHA that `SCRIPT LOAD`
//! answered for a script with a finding; a script with one never reaches Redis through
//! `EVAL`, so its SHA can only come from `SCRIPT LOAD`. A script loaded behind the
//! front's back (another client on the same Redis, or before the front restarted) is
//! not known and runs.

use std::collections::HashMap;
use std::sync::Mutex;

use super::policy::{self, Arg, Origin, Reason, Refusal};

/// What the text of a script does that Upstash's Redis 6.2 would not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    /// 1-based line of the script where it is.
    pub(super) line: usize,
    /// What and why.
    pub(super) refusal: Refusal,
    /// True if Redis 6.2 would already fail to compile the script (so `SCRIPT LOAD`
    /// is refused too); otherwise it would fail, or behave differently, when run.
    pub(super) at_load: bool,
}

impl Finding {
    /// The Redis error text of a script refused for this finding.
    pub(super) fn message(&self) -> String {
        format!(
            "ERR script refused by the local Upstash front, line {}: {}",
            self.line, self.refusal
        )
    }
}

/// The first finding in a script's text, if any.
pub(super) fn scan(source: &[u8]) -> Option<Finding> {
    if source.starts_with(b"#!") {
        return Some(Finding {
            line: 1,
            refusal: refusal("a #! shebang line (script flags)", Reason::Since("7.0")),
            at_load: true,
        });
    }
    let tokens = lex(source);
    (0..tokens.len()).find_map(|i| finding_at(&tokens, i))
}

fn refusal(what: &str, reason: Reason) -> Refusal {
    Refusal {
        what: what.to_owned(),
        reason,
        option: false,
    }
}

/// The `redis.*` fields new after 6.2.
const REDIS_API_7: &[&str] = &[
    "REDIS_VERSION",
    "REDIS_VERSION_NUM",
    "acl_check_cmd",
    "register_function",
];

/// A finding that starts at token `i`: `redis.call(…)`, `redis.<7.0 field>`, `os.…`.
fn finding_at(tokens: &[Token<'_>], i: usize) -> Option<Finding> {
    let at = |k: usize| tokens.get(i + k).map(|t| &t.kind);
    let line = tokens.get(i)?.line;
    let found = |refusal| {
        Some(Finding {
            line,
            refusal,
            at_load: false,
        })
    };
    match (at(0)?, at(1), at(2)) {
        (Kind::Name(b"redis"), Some(Kind::Punct(b'.')), Some(Kind::Name(field))) => {
            if *field == b"call" || *field == b"pcall" {
                let args = call_args(tokens, i + 3)?;
                let args: Vec<Arg<'_>> = args.iter().map(|a| a.as_deref()).collect();
                match policy::check(&args, Origin::Script) {
                    Err(refused) => found(refused),
                    Ok(()) => None,
                }
            } else if let Some(name) = REDIS_API_7.iter().find(|n| n.as_bytes() == *field) {
                found(refusal(&format!("redis.{name}"), Reason::Since("7.0")))
            } else {
                None
            }
        }
        (Kind::Name(b"os"), Some(Kind::Punct(b'.')), _) => {
            found(refusal("the os library", Reason::Since("7.4")))
        }
        _ => None,
    }
}

/// The arguments of the call whose argument list starts at token `start`: `(a, b)`,
/// or Lua's one-string form `f 'x'`. Each is its bytes if it is a single string
/// literal, else `None` (computed at run time). `None` overall if the list does not
/// end (the script does not compile; Redis will say so).
fn call_args(tokens: &[Token<'_>], start: usize) -> Option<Vec<Option<Vec<u8>>>> {
    match &tokens.get(start)?.kind {
        Kind::Str(s) => return Some(vec![Some(s.clone())]),
        Kind::Punct(b'(') => {}
        _ => return Some(Vec::new()),
    }
    let mut args = Vec::new();
    let mut current: Vec<&Kind<'_>> = Vec::new();
    let mut depth = 0usize;
    for token in tokens.iter().skip(start + 1) {
        match token.kind {
            Kind::Punct(b'(' | b'[' | b'{') => depth += 1,
            Kind::Punct(b')') if depth == 0 => {
                if !current.is_empty() {
                    args.push(literal(&current));
                }
                return Some(args);
            }
            Kind::Punct(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            Kind::Punct(b',') if depth == 0 => {
                args.push(literal(&current));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(&token.kind);
    }
    None
}

fn literal(tokens: &[&Kind<'_>]) -> Option<Vec<u8>> {
    match tokens {
        [Kind::Str(s)] => Some(s.clone()),
        _ => None,
    }
}

/// One Lua token, as far as this scan needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind<'a> {
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
struct Token<'a> {
    kind: Kind<'a>,
    line: usize,
}

/// Splits Lua source into tokens, skipping comments. Stops at an unterminated string
/// or comment (Redis will refuse to compile the script anyway).
fn lex(src: &[u8]) -> Vec<Token<'_>> {
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

/// Most scripts remembered: the book only keeps scripts with a finding, which are
/// few; the cap bounds a client that loads endless distinct ones.
const BOOK_LIMIT: usize = 10_000;

/// The SHA1 → refusal of scripts loaded with `SCRIPT LOAD` that have a finding, so
/// their `EVALSHA` is refused as their `EVAL` is.
#[derive(Debug, Default)]
pub(super) struct ScriptBook {
    refused: Mutex<HashMap<String, String>>,
}

impl ScriptBook {
    /// Remember that the script Redis named `sha` is refused with `message`.
    pub(super) fn remember(&self, sha: &[u8], message: String) {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        let mut book = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if book.len() < BOOK_LIMIT || book.contains_key(&sha) {
            book.insert(sha, message);
        }
    }

    /// The refusal of the script named `sha`, if it has one.
    pub(super) fn refusal(&self, sha: &[u8]) -> Option<String> {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        let book = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        book.get(&sha).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(source: &str) -> Option<(usize, String, bool)> {
        scan(source.as_bytes()).map(|f| (f.line, f.refusal.what, f.at_load))
    }

    #[test]
    fn finds_7_0_calls_with_literal_options() {
        assert_eq!(
            what("local old = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET')"),
            Some((1, "SET with both NX and GET".into(), false))
        );
        assert_eq!(
            what("local a = 1\n\nreturn redis.pcall(\"expiretime\", KEYS[1])"),
            Some((3, "EXPIRETIME".into(), false))
        );
        assert_eq!(
            what("redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 60, 'GT')"),
            Some((1, "EXPIRE with NX, XX, GT or LT".into(), false))
        );
        assert_eq!(
            what("return redis.call([[LMPOP]], 1, KEYS[1], 'LEFT')"),
            Some((1, "LMPOP".into(), false))
        );
    }

    #[test]
    fn finds_7_0_scripting_features() {
        assert_eq!(
            what("#!lua flags=no-writes\nreturn 1"),
            Some((1, "a #! shebang line (script flags)".into(), true))
        );
        assert_eq!(
            what("return redis.REDIS_VERSION"),
            Some((1, "redis.REDIS_VERSION".into(), false))
        );
        assert_eq!(
            what("local t = os.clock()"),
            Some((1, "the os library".into(), false))
        );
    }

    #[test]
    fn ignores_comments_strings_and_6_2_forms() {
        for ok in [
            "-- redis.call('EXPIRETIME', KEYS[1])\nreturn 1",
            "--[[ redis.call('LMPOP')\n]] return redis.call('GET', KEYS[1])",
            "local s = \"redis.call('EXPIRETIME', k)\"; return s",
            "local s = [==[ redis.call('FCALL') ]==] return s",
            "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')",
            "redis.call('SET', KEYS[1], ARGV[1], 'XX', 'GET')",
            "redis.call('SET', KEYS[1], ARGV[1], ARGV[3], 'GET')",
            "local cmd = 'EXPIRETIME'; return redis.call(cmd, KEYS[1])",
            "redis.setresp(3); return redis.call('PEXPIRE', KEYS[1], 10)",
            "return redis.call('ZADD', KEYS[1], 'NX', 0, 'm')",
            "return redis.call('SET', 'k', \"it's\")",
        ] {
            assert_eq!(what(ok), None, "{ok}");
        }
    }

    #[test]
    fn unescapes_string_literals() {
        assert_eq!(
            what("redis.call('\\83ET', KEYS[1], 'v', 'N\\x', \"\\71ET\", 'NX')"),
            Some((1, "SET with both NX and GET".into(), false))
        );
    }

    #[test]
    fn the_book_remembers_refused_shas_in_any_case() {
        let book = ScriptBook::default();
        book.remember(b"ABCDEF", "ERR no".into());
        assert_eq!(book.refusal(b"abcdef"), Some("ERR no".into()));
        assert_eq!(book.refusal(b"0123"), None);
    }

    /// Every script the project ships passes: none of them needs more than Redis 6.2
    /// as far as their text shows.
    #[test]
    fn the_project_scripts_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/src/scripts");
        let entries = std::fs::read_dir(&dir).map(|d| d.flatten().collect::<Vec<_>>());
        let entries = entries.unwrap_or_default();
        let scripts: Vec<_> = entries
            .iter()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "lua"))
            .collect();
        assert!(!scripts.is_empty(), "no scripts under {}", dir.display());
        for path in scripts {
            let source = std::fs::read(&path).unwrap_or_default();
            assert_eq!(
                scan(&source).map(|f| f.message()),
                None,
                "{}",
                path.display()
            );
        }
    }
}
