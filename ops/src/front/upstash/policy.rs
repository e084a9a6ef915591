//! Which Redis commands and options the front refuses, and why.
//!
//! The front runs on a real `redis-server` 7.0, which happily answers commands and
//! options that the production service does not: Upstash documents Redis
//! compatibility up to 6.2, and its REST API serves only part of that. A command that
//! works here and fails on Upstash is a bug the tests should catch, so the front
//! refuses, before Redis sees it, every command and option in its tables ([`table`]) and
//! option rules ([`options`]).
//!
//! Sources, one per kind of [`Reason`]:
//!
//! - [`Reason::NotOverRest`]: the "REST - Redis API Compatibility" table of Upstash's
//!   REST API page (`upstash/docs`, `redis/features/restapi.mdx`): blocking list and
//!   sorted-set commands (BLPOP, BRPOP, BRPOPLPUSH, BZPOPMAX, BZPOPMIN) are not
//!   supported; of transactions, WATCH/UNWATCH/DISCARD are not (MULTI/EXEC exist only
//!   as the `/multi-exec` endpoint); of pub/sub only PUBLISH and PUBSUB (SUBSCRIBE and
//!   MONITOR are separate server-sent-event endpoints, not commands); of connection
//!   commands only PING and ECHO; streams except the blocking XREAD/XREADGROUP. BLMOVE
//!   is refused by the same rule (it blocks) though the table does not name it.
//! - [`Reason::NotOnUpstash`]: the same table and the "Redis API Compatibility" page
//!   (`redis/overall/rediscompatibility.mdx`) mark cluster commands unsupported; that
//!   page's Server row lists only ACL, DBSIZE, FLUSHALL, FLUSHDB, TIME (later MONITOR)
//!   and its Scripting row only EVAL, EVALSHA, SCRIPT EXISTS/LOAD/FLUSH, so server
//!   administration (CONFIG, DEBUG, SAVE, replication, modules, MOVE/MIGRATE/SWAPDB of
//!   a one-database service, WAIT) and SCRIPT KILL/DEBUG are refused too. Public code
//!   quoting the live service shows its wording for such a command,
//!   `ERR Command is not available: 'SLOWLOG'` (also for `MEMORY STATS`), which
//!   [`Refusal::message`] copies.
//! - [`Reason::Since`]: the `since` and `history` fields of Redis's own command docs
//!   (`COMMAND DOCS` of the redis-server 7.0.15 used here, i.e. Redis's
//!   `src/commands/*.json`): every command and subcommand new in 7.0, and the 7.0
//!   options of existing commands (SET with both NX and GET; EXPIRE, PEXPIRE, EXPIREAT,
//!   PEXPIREAT with NX/XX/GT/LT; BITCOUNT/BITPOS with BYTE/BIT; XADD's `<ms>-*` id;
//!   XGROUP CREATE/SETID ENTRIESREAD; XSETID ENTRIESADDED/MAXDELETEDID; INFO with
//!   several sections; COMMAND INFO without names; uppercase GEO units). Commands of
//!   later releases that a newer server would accept are listed from redis.io's
//!   "Available since" (WAITAOF and ZRANK/ZREVRANK WITHSCORE 7.2; hash-field TTL
//!   commands 7.4; HGETDEL/HGETEX/HSETEX 8.0).
//!
//! Upstash has since added some 7.x commands (its page lists LMPOP, ZMPOP, SINTERCARD,
//! EXPIRETIME… while still saying 6.2, and a later version says 8.2). The project's
//! contract (DESIGN.md) is the documented 6.2 level, so those stay refused here: code
//! that passes this front runs on any Upstash database.
//!
//! Left out on purpose: changes a refusal cannot express (XAUTOCLAIM's third reply
//! element, new fields in CLIENT LIST / XINFO), and ACL SETUSER selectors.

mod options;
mod table;

use std::fmt;

use options::option_rule;
use table::{COMMANDS, SUBCOMMANDS};

/// One argument as far as it is known: the bytes of a command sent over REST, or of a
/// string literal in a script's `redis.call`; `None` when a script computes it at run
/// time.
pub(super) type Arg<'a> = Option<&'a [u8]>;

/// Where a command comes from: the rules about the REST transport do not apply to the
/// commands a script runs inside Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// A command of a REST request (single, pipeline or transaction).
    Rest,
    /// A `redis.call`/`redis.pcall` in a script's text.
    Script,
}

/// Why a command or option is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    /// Upstash's REST API does not serve this kind of command.
    NotOverRest(&'static str),
    /// Upstash does not offer this kind of command at all.
    NotOnUpstash(&'static str),
    /// New in this Redis version, above the 6.2 level Upstash documents.
    Since(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotOverRest(kind) => write!(f, "{kind}: not served by Upstash's REST API"),
            Reason::NotOnUpstash(kind) => write!(f, "{kind}: not offered by Upstash"),
            Reason::Since(version) => {
                write!(f, "new in Redis {version}; Upstash documents Redis 6.2")
            }
        }
    }
}

/// A refused command or option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    /// What was refused: `EXPIRETIME`, `PUBSUB SHARDCHANNELS`, `SET with both NX and GET`.
    pub(super) what: String,
    /// Why.
    pub(super) reason: Reason,
    /// An option of a command Upstash has, rather than a whole command.
    pub(super) option: bool,
}

impl Refusal {
    fn command(what: impl Into<String>, reason: Reason) -> Refusal {
        Refusal {
            what: what.into(),
            reason,
            option: false,
        }
    }

    fn option(what: impl Into<String>, reason: Reason) -> Refusal {
        Refusal {
            what: what.into(),
            reason,
            option: true,
        }
    }

    /// The Redis error text of the refusal. A command is worded as Upstash words one it
    /// does not serve (`ERR Command is not available: 'X'`); an option as the syntax
    /// error Redis 6.2 answers; both followed by the reason, for whoever reads the test
    /// failure.
    pub(super) fn message(&self) -> String {
        if self.option {
            format!("ERR syntax error: {} ({})", self.what, self.reason)
        } else {
            format!(
                "ERR Command is not available: '{}' ({})",
                self.what, self.reason
            )
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

/// Checks one command (`args[0]` is its name) against the tables and option rules.
///
/// Arguments a script computes (`None`) are never guessed at: a rule that needs one
/// lets the command through. The REST-transport rules apply to [`Origin::Rest`] only.
///
/// # Errors
/// The first rule the command breaks.
pub(super) fn check(args: &[Arg<'_>], origin: Origin) -> Result<(), Refusal> {
    let Some(Some(name)) = args.first() else {
        return Ok(());
    };
    let name = upper(name);
    let applies =
        |reason: &Reason| origin == Origin::Rest || !matches!(reason, Reason::NotOverRest(_));
    if let Some((_, reason)) = COMMANDS.iter().find(|(n, _)| *n == name)
        && applies(reason)
    {
        return Err(Refusal::command(name, *reason));
    }
    if let Some(Some(sub)) = args.get(1) {
        let sub = upper(sub);
        if let Some((_, _, reason)) = SUBCOMMANDS.iter().find(|(n, s, _)| *n == name && *s == sub)
            && applies(reason)
        {
            return Err(Refusal::command(format!("{name} {sub}"), *reason));
        }
    }
    match option_rule(&name, args) {
        Some(refusal) if applies(&refusal.reason) => Err(refusal),
        _ => Ok(()),
    }
}

fn upper(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_ascii_uppercase()
}

#[cfg(test)]
mod tests;
