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
