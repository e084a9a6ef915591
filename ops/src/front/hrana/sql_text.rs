//! Just enough SQL lexing for the Hrana front to answer questions the engine's
//! public API does not: where does each statement of a text start and end
//! (`sqld` parses a whole request before running any of it, and `execute`
//! must hold exactly one statement), and what are a statement's leading
//! keywords (for the statement kinds `sqld` accepts, see `analysis`).
//!
//! It understands quotes (`'…'`, `"…"`, `` `…` ``, `[…]`), comments
//! (`-- …`, `/* … */`) and the `BEGIN … END` body of `CREATE TRIGGER`, nothing
//! more; it is not a parser. Syntax is checked by the engine itself.

/// The statements of `sql`, each without its terminating `;`, in order.
/// Semicolons inside a `CREATE TRIGGER` body (`BEGIN … END`, with `CASE … END`
/// nested in it) do not end the statement.
pub(super) fn split_statements(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut words: Vec<String> = Vec::new();
    let mut body_depth = 0usize;
    for (at, tok) in tokens(sql) {
        match tok {
            Tok::Semicolon if body_depth == 0 => {
                if let Some(s) = start.take() {
                    out.push(sql.get(s..at).unwrap_or(""));
                }
                words.clear();
            }
            Tok::Semicolon => {}
            Tok::Other(w) => {
                start.get_or_insert(at);
                let upper = w.to_ascii_uppercase();
                if words.len() < 4 {
                    words.push(upper.clone());
                }
                if is_trigger(&words) {
                    match upper.as_str() {
                        "BEGIN" | "CASE" if body_depth > 0 || upper == "BEGIN" => body_depth += 1,
                        "END" if body_depth > 0 => body_depth -= 1,
                        _ => {}
                    }
                }
            }
        }
    }
    if let Some(s) = start {
        out.push(sql.get(s..).unwrap_or(""));
    }
    out
}

/// `CREATE [TEMP|TEMPORARY] TRIGGER …`
fn is_trigger(words: &[String]) -> bool {
    words.first().is_some_and(|w| w == "CREATE") && words.iter().take(3).any(|w| w == "TRIGGER")
}

/// The first `n` tokens of `sql` that are bare words, upper-cased (quoted
/// text, punctuation and comments skipped), up to the first `;`.
pub(super) fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (_, tok) in tokens(sql) {
        if out.len() >= n {
            break;
        }
        match tok {
            Tok::Other(w) if is_word(w) => out.push(w.to_ascii_uppercase()),
            Tok::Other(_) => {}
            Tok::Semicolon => break,
        }
    }
    out
}

/// Every token of the first statement of `sql`, as written (quotes kept),
/// with punctuation as one-character tokens.
pub(super) fn statement_tokens(sql: &str) -> Vec<&str> {
    tokens(sql)
        .map_while(|(_, tok)| match tok {
            Tok::Other(w) => Some(w),
            Tok::Semicolon => None,
        })
        .collect()
}

/// True for a bare identifier or keyword (not quoted, not punctuation).
pub(super) fn is_word(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
}

enum Tok<'a> {
    Semicolon,
    Other(&'a str),
}

/// Split into words/punctuation with their byte offsets, dropping whitespace
/// and comments; a quoted run is one token.
fn tokens(sql: &str) -> impl Iterator<Item = (usize, Tok<'_>)> {
    let bytes = sql.as_bytes();
    let mut i = 0usize;
    std::iter::from_fn(move || {
        loop {
            let &c = bytes.get(i)?;
            let next = bytes.get(i + 1).copied();
            let start = i;
            if c.is_ascii_whitespace() {
                i += 1;
            } else if c == b'-' && next == Some(b'-') {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            } else if c == b'/' && next == Some(b'*') {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            } else if c == b';' {
                i += 1;
                return Some((start, Tok::Semicolon));
            } else if matches!(c, b'\'' | b'"' | b'`' | b'[') {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while bytes.get(i).is_some_and(|&b| b != close) {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                return Some((start, Tok::Other(sql.get(start..i).unwrap_or(""))));
            } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
                while bytes
                    .get(i)
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
                {
                    i += 1;
                }
                return Some((start, Tok::Other(sql.get(start..i).unwrap_or(""))));
            } else {
                i += 1;
                return Some((start, Tok::Other(sql.get(start..i).unwrap_or(""))));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statements() {
        let count = |sql| split_statements(sql).len();
        assert_eq!(count(""), 0);
        assert_eq!(count("  -- only a comment\n /* and this */ ;"), 0);
        assert_eq!(count("SELECT 1"), 1);
        assert_eq!(count("SELECT ';' ; -- trailing"), 1);
        assert_eq!(count("SELECT 1; SELECT 2"), 2);
        assert_eq!(count("INSERT INTO \"a;b\" VALUES ('x;y') /* ; */"), 1);
        assert_eq!(
            count("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = 1; END"),
            1
        );
    }

    #[test]
    fn splits_scripts_keeping_trigger_bodies_whole() {
        let script = "CREATE TABLE a (n); CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN \
                      UPDATE a SET n = CASE WHEN n > 1 THEN 0 ELSE 1 END; SELECT 1; END; \
                      INSERT INTO a VALUES (';');";
        let parts = split_statements(script);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[0], "CREATE TABLE a (n)");
        assert!(parts[1].ends_with("SELECT 1; END"), "{}", parts[1]);
        assert_eq!(parts[2], "INSERT INTO a VALUES (';')");
    }

    #[test]
    fn classifies_first_keyword() {
        assert_eq!(
            leading_words(" /*x*/ explain select 1", 2),
            vec!["EXPLAIN", "SELECT"]
        );
        assert_eq!(
            statement_tokens("ATTACH \"x\" AS y; SELECT"),
            vec!["ATTACH", "\"x\"", "AS", "y"]
        );
    }
}
