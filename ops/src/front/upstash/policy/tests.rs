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
