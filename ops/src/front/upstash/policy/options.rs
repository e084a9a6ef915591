//! The option rules: 7.0+ (and REST-only) options of commands Upstash has, read from the
//! arguments that are known.

use super::table::{BLOCKING, REDIS_7_0, REDIS_7_2};
use super::{Arg, Refusal};

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
pub(super) fn option_rule(name: &str, args: &[Arg<'_>]) -> Option<Refusal> {
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
