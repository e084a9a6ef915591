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

mod lex;

use std::collections::HashMap;
use std::sync::Mutex;

use super::policy::{self, Arg, Origin, Reason, Refusal};
use lex::{Kind, Token, lex};

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
mod tests;
