//! Which Redis commands and options the front refuses, and why.
//!
//! The front runs on a real `redis-server` 7.0, which happily answers commands and
//! options that the production service does not: Upstash documents Redis
//! compatibility up to 6.2, and its REST API serves only part of that. A command that
//! works here and fails on Upstash is a bug the tests should catch, so the front
//! refuses, before Redis sees it, every command and option in the tables below.
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

use std::fmt;

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

const BLOCKING: Reason = Reason::NotOverRest("blocking commands");
const SUBSCRIPTIONS: Reason =
    Reason::NotOverRest("subscriptions (only PUBLISH and PUBSUB are commands)");
const TRANSACTION: Reason =
    Reason::NotOverRest("transaction commands (use the /multi-exec endpoint)");
const CONNECTION: Reason = Reason::NotOverRest("connection commands other than PING and ECHO");
const MONITOR: Reason = Reason::NotOverRest("MONITOR (a separate /monitor event stream)");
const CLUSTER: Reason = Reason::NotOnUpstash("cluster commands");
const ADMIN: Reason = Reason::NotOnUpstash("server administration");
const SCRIPT_ADMIN: Reason =
    Reason::NotOnUpstash("SCRIPT subcommands other than LOAD, EXISTS and FLUSH");
const REDIS_7_0: Reason = Reason::Since("7.0");
const REDIS_7_2: Reason = Reason::Since("7.2");
const REDIS_7_4: Reason = Reason::Since("7.4");
const REDIS_8_0: Reason = Reason::Since("8.0");

/// Whole commands refused, by upper-case name. A command with two reasons lists the
/// version one (BLMPOP is both blocking and 7.0): scripts see that one too.
const COMMANDS: &[(&str, Reason)] = &[
    // Blocking (REST table: List and SortedSet rows).
    ("BLPOP", BLOCKING),
    ("BRPOP", BLOCKING),
    ("BRPOPLPUSH", BLOCKING),
    ("BLMOVE", BLOCKING),
    ("BZPOPMIN", BLOCKING),
    ("BZPOPMAX", BLOCKING),
    // Pub/sub (REST table: only PUBLISH and PUBSUB).
    ("SUBSCRIBE", SUBSCRIPTIONS),
    ("PSUBSCRIBE", SUBSCRIPTIONS),
    ("UNSUBSCRIBE", SUBSCRIPTIONS),
    ("PUNSUBSCRIBE", SUBSCRIPTIONS),
    ("MONITOR", MONITOR),
    // Transactions (REST table: WATCH/UNWATCH/DISCARD; MULTI/EXEC are /multi-exec).
    ("MULTI", TRANSACTION),
    ("EXEC", TRANSACTION),
    ("DISCARD", TRANSACTION),
    ("WATCH", TRANSACTION),
    ("UNWATCH", TRANSACTION),
    // Connection (REST table: only PING and ECHO).
    ("AUTH", CONNECTION),
    ("HELLO", CONNECTION),
    ("QUIT", CONNECTION),
    ("RESET", CONNECTION),
    ("SELECT", CONNECTION),
    ("CLIENT", CONNECTION),
    // Cluster (both tables).
    ("CLUSTER", CLUSTER),
    ("ASKING", CLUSTER),
    ("READONLY", CLUSTER),
    ("READWRITE", CLUSTER),
    // Server administration (not in the compatibility page's Server/Generic rows).
    ("CONFIG", ADMIN),
    ("DEBUG", ADMIN),
    ("SAVE", ADMIN),
    ("BGSAVE", ADMIN),
    ("BGREWRITEAOF", ADMIN),
    ("SHUTDOWN", ADMIN),
    ("REPLICAOF", ADMIN),
    ("SLAVEOF", ADMIN),
    ("FAILOVER", ADMIN),
    ("SYNC", ADMIN),
    ("PSYNC", ADMIN),
    ("MODULE", ADMIN),
    ("MIGRATE", ADMIN),
    ("MOVE", ADMIN),
    ("SWAPDB", ADMIN),
    ("WAIT", ADMIN),
    ("SLOWLOG", ADMIN),
    ("MEMORY", ADMIN),
    // New in Redis 7.0 (COMMAND DOCS `since`).
    ("BLMPOP", REDIS_7_0),
    ("BZMPOP", REDIS_7_0),
    ("LMPOP", REDIS_7_0),
    ("ZMPOP", REDIS_7_0),
    ("SINTERCARD", REDIS_7_0),
    ("ZINTERCARD", REDIS_7_0),
    ("EXPIRETIME", REDIS_7_0),
    ("PEXPIRETIME", REDIS_7_0),
    ("LCS", REDIS_7_0),
    ("SORT_RO", REDIS_7_0),
    ("EVAL_RO", REDIS_7_0),
    ("EVALSHA_RO", REDIS_7_0),
    ("FCALL", REDIS_7_0),
    ("FCALL_RO", REDIS_7_0),
    ("FUNCTION", REDIS_7_0),
    ("SPUBLISH", REDIS_7_0),
    ("SSUBSCRIBE", REDIS_7_0),
    ("SUNSUBSCRIBE", REDIS_7_0),
    // Later releases (redis.io "Available since").
    ("WAITAOF", REDIS_7_2),
    ("HEXPIRE", REDIS_7_4),
    ("HPEXPIRE", REDIS_7_4),
    ("HEXPIREAT", REDIS_7_4),
    ("HPEXPIREAT", REDIS_7_4),
    ("HTTL", REDIS_7_4),
    ("HPTTL", REDIS_7_4),
    ("HEXPIRETIME", REDIS_7_4),
    ("HPEXPIRETIME", REDIS_7_4),
    ("HPERSIST", REDIS_7_4),
    ("HGETDEL", REDIS_8_0),
    ("HGETEX", REDIS_8_0),
    ("HSETEX", REDIS_8_0),
];

/// Subcommands refused where the command itself is fine.
const SUBCOMMANDS: &[(&str, &str, Reason)] = &[
    ("ACL", "DRYRUN", REDIS_7_0),
    ("COMMAND", "DOCS", REDIS_7_0),
    ("COMMAND", "LIST", REDIS_7_0),
    ("COMMAND", "GETKEYSANDFLAGS", REDIS_7_0),
    ("LATENCY", "HISTOGRAM", REDIS_7_0),
    ("PUBSUB", "SHARDCHANNELS", REDIS_7_0),
    ("PUBSUB", "SHARDNUMSUB", REDIS_7_0),
    ("SCRIPT", "KILL", SCRIPT_ADMIN),
    ("SCRIPT", "DEBUG", SCRIPT_ADMIN),
];

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

/// True if the argument is known and equals `word` (ASCII case-insensitive).
fn is(arg: Option<&Arg<'_>>, word: &str) -> bool {
    matches!(arg, Some(Some(a)) if a.eq_ignore_ascii_case(word.as_bytes()))
}

/// True if a known argument from index `from` on equals one of `words`.
fn any_from(args: &[Arg<'_>], from: usize, words: &[&str]) -> bool {
    args.iter()
        .skip(from)
        .any(|a| words.iter().any(|w| is(Some(a), w)))
}

/// The 7.0+ (and REST-only) options of commands Upstash has.
fn option_rule(name: &str, args: &[Arg<'_>]) -> Option<Refusal> {
    let refuse = |what: String, reason| Some(Refusal::option(what, reason));
    match name {
        // SET key value [NX|XX] [GET] …: GET arrived in 6.2, with NX only in 7.0
        // (XX GET is fine in 6.2).
        "SET" if any_from(args, 3, &["NX"]) && any_from(args, 3, &["GET"]) => {
            refuse("SET with both NX and GET".into(), REDIS_7_0)
        }
        "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT"
            if any_from(args, 3, &["NX", "XX", "GT", "LT"]) =>
        {
            refuse(format!("{name} with NX, XX, GT or LT"), REDIS_7_0)
        }
        // BITCOUNT key [start end [BYTE|BIT]], BITPOS key bit [start [end [BYTE|BIT]]].
        "BITCOUNT" if any_from(args, 4, &["BYTE", "BIT"]) => {
            refuse("BITCOUNT with BYTE or BIT".into(), REDIS_7_0)
        }
        "BITPOS" if any_from(args, 5, &["BYTE", "BIT"]) => {
            refuse("BITPOS with BYTE or BIT".into(), REDIS_7_0)
        }
        "XADD" if xadd_partial_auto_id(args) => {
            refuse("XADD with an explicit <ms>-* id".into(), REDIS_7_0)
        }
        "XGROUP"
            if (is(args.get(1), "CREATE") || is(args.get(1), "SETID"))
                && any_from(args, 2, &["ENTRIESREAD"]) =>
        {
            refuse("XGROUP with ENTRIESREAD".into(), REDIS_7_0)
        }
        "XSETID" if any_from(args, 3, &["ENTRIESADDED", "MAXDELETEDID"]) => {
            refuse("XSETID with ENTRIESADDED or MAXDELETEDID".into(), REDIS_7_0)
        }
        "INFO" if args.len() > 2 => refuse("INFO with several sections".into(), REDIS_7_0),
        "COMMAND" if is(args.get(1), "INFO") && args.len() == 2 => {
            refuse("COMMAND INFO without command names".into(), REDIS_7_0)
        }
        "GEORADIUS" | "GEORADIUS_RO" if uppercase_unit(args.get(5)) => {
            refuse(format!("{name} with an uppercase unit"), REDIS_7_0)
        }
        "GEORADIUSBYMEMBER" | "GEORADIUSBYMEMBER_RO" if uppercase_unit(args.get(4)) => {
            refuse(format!("{name} with an uppercase unit"), REDIS_7_0)
        }
        "GEOSEARCH" | "GEOSEARCHSTORE" if geosearch_uppercase_unit(args) => {
            refuse(format!("{name} with an uppercase unit"), REDIS_7_0)
        }
        "ZRANK" | "ZREVRANK" if any_from(args, 3, &["WITHSCORE"]) => {
            refuse(format!("{name} with WITHSCORE"), REDIS_7_2)
        }
        // XREAD [COUNT n] [BLOCK ms] STREAMS …: only the options before STREAMS count
        // (a stream could be named "block").
        "XREAD" | "XREADGROUP" if blocking_stream_read(args) => {
            refuse(format!("{name} with BLOCK"), BLOCKING)
        }
        _ => None,
    }
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] id field value…`
/// with an id of the 7.0 form `<ms>-*`.
fn xadd_partial_auto_id(args: &[Arg<'_>]) -> bool {
    let mut i = 2;
    loop {
        let Some(Some(arg)) = args.get(i) else {
            // Unknown or missing: the id cannot be found.
            return false;
        };
        if arg.eq_ignore_ascii_case(b"NOMKSTREAM") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"MAXLEN") || arg.eq_ignore_ascii_case(b"MINID") {
            i += 1;
            if is(args.get(i), "=") || is(args.get(i), "~") {
                i += 1;
            }
            i += 1;
            if is(args.get(i), "LIMIT") {
                i += 2;
            }
        } else {
            return arg.len() > 2 && arg.ends_with(b"-*");
        }
    }
}

/// A GEO unit given in upper case (`KM`, `Ft`): Redis 6.2 knows only `m km ft mi`.
fn uppercase_unit(arg: Option<&Arg<'_>>) -> bool {
    matches!(arg, Some(Some(unit))
        if ["m", "km", "ft", "mi"].iter().any(|u| unit.eq_ignore_ascii_case(u.as_bytes()))
            && unit.iter().any(u8::is_ascii_uppercase))
}

/// `GEOSEARCH … BYRADIUS r unit | BYBOX w h unit …` with an uppercase unit.
fn geosearch_uppercase_unit(args: &[Arg<'_>]) -> bool {
    args.iter().enumerate().any(|(i, a)| {
        (is(Some(a), "BYRADIUS") && uppercase_unit(args.get(i + 2)))
            || (is(Some(a), "BYBOX") && uppercase_unit(args.get(i + 3)))
    })
}

fn blocking_stream_read(args: &[Arg<'_>]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| !is(Some(a), "STREAMS"))
        .any(|a| is(Some(a), "BLOCK"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(words: &[&str]) -> Result<(), Refusal> {
        let args: Vec<Arg<'_>> = words.iter().map(|w| Some(w.as_bytes())).collect();
        check(&args, Origin::Rest)
    }

    #[test]
    fn refuses_commands_by_name_in_any_case() {
        let refusal = rest(&["expiretime", "k"]).err();
        assert_eq!(
            refusal.map(|r| r.message()),
            Some(
                "ERR Command is not available: 'EXPIRETIME' (new in Redis 7.0; Upstash documents Redis 6.2)"
                    .to_owned()
            )
        );
        assert!(rest(&["BLPOP", "q", "0"]).is_err());
        assert!(rest(&["Function", "LIST"]).is_err());
        assert!(rest(&["PUBSUB", "shardchannels"]).is_err());
        assert!(rest(&["SCRIPT", "KILL"]).is_err());
        assert!(rest(&["GET", "k"]).is_ok());
        assert!(rest(&["PUBSUB", "CHANNELS"]).is_ok());
        assert!(rest(&["SCRIPT", "LOAD", "return 1"]).is_ok());
    }

    #[test]
    fn refuses_the_7_0_options_and_keeps_the_6_2_ones() {
        for refused in [
            &["SET", "k", "v", "NX", "GET"][..],
            &["SET", "k", "v", "get", "PX", "10", "nx"],
            &["EXPIRE", "k", "10", "NX"],
            &["PEXPIRE", "k", "10", "GT"],
            &["EXPIREAT", "k", "10", "XX"],
            &["PEXPIREAT", "k", "10", "LT"],
            &["BITCOUNT", "k", "0", "1", "BIT"],
            &["BITPOS", "k", "1", "0", "1", "BYTE"],
            &["XADD", "s", "MAXLEN", "~", "10", "17-*", "f", "v"],
            &["XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "3"],
            &["XSETID", "s", "1-1", "ENTRIESADDED", "3"],
            &["INFO", "server", "clients"],
            &["COMMAND", "INFO"],
            &[
                "GEOSEARCH",
                "g",
                "FROMLONLAT",
                "1",
                "2",
                "BYRADIUS",
                "5",
                "KM",
            ],
            &["GEORADIUS", "g", "1", "2", "5", "Mi"],
            &["ZRANK", "z", "m", "WITHSCORE"],
            &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "$"],
        ] {
            assert!(rest(refused).is_err(), "{refused:?} must be refused");
        }
        for allowed in [
            &["SET", "k", "v", "XX", "GET"][..],
            &["SET", "k", "v", "NX", "PX", "100"],
            &["SET", "k", "v", "GET"],
            &["EXPIRE", "k", "10"],
            &["BITCOUNT", "k", "0", "1"],
            &["XADD", "s", "*", "f", "v"],
            &["XADD", "s", "17-1", "f", "v"],
            &["INFO", "server"],
            &["COMMAND", "INFO", "GET"],
            &[
                "GEOSEARCH",
                "g",
                "FROMLONLAT",
                "1",
                "2",
                "BYRADIUS",
                "5",
                "km",
            ],
            &["XREAD", "STREAMS", "block", "0"],
            &["ZRANK", "z", "m"],
        ] {
            assert!(rest(allowed).is_ok(), "{allowed:?} must pass");
        }
    }

    #[test]
    fn scripts_skip_the_rest_rules_and_unknown_arguments() {
        let blpop = [Some(&b"BLPOP"[..]), None, Some(&b"0"[..])];
        assert!(check(&blpop, Origin::Script).is_ok());
        assert!(check(&blpop, Origin::Rest).is_err());
        // `redis.call('SET', k, v, ARGV[1], 'GET')`: the NX is not known, so it passes.
        let set = [Some(&b"SET"[..]), None, None, None, Some(&b"GET"[..])];
        assert!(check(&set, Origin::Script).is_ok());
        let set_nx_get = [
            Some(&b"SET"[..]),
            None,
            None,
            Some(&b"NX"[..]),
            Some(&b"GET"[..]),
        ];
        assert!(check(&set_nx_get, Origin::Script).is_err());
        assert!(check(&[None, Some(&b"k"[..])], Origin::Script).is_ok());
    }
}
