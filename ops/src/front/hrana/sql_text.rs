//! Just enough SQL lexing for the Hrana front to answer questions the public
//! libSQL API does not: does a text hold no, one or several statements
//! (`execute` must run exactly one, as `sqld` enforces), and what is its first
//! keyword (for `describe`'s `is_explain` / `is_readonly`).
//!
//! It understands quotes (`'…'`, `"…"`, `` `…` ``, `[…]`) and comments
//! (`-- …`, `/* … */`), nothing more; it is not a parser.

/// How many statements a SQL text holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// Only whitespace, comments or semicolons.
    Empty,
    /// Exactly one statement (trailing `;` allowed).
    One,
    /// More than one statement.
    Many,
}

/// Count the statements in `sql`. A `CREATE TRIGGER` counts as one statement
/// even though its body holds semicolons.
pub(super) fn shape(sql: &str) -> Shape {
    let words = leading_words(sql, 4);
    if words.first().is_some_and(|w| w == "CREATE") && words.iter().any(|w| w == "TRIGGER") {
        return Shape::One;
    }
    let mut statements = 0usize;
    let mut current_has_token = false;
    for tok in tokens(sql) {
        match tok {
            Tok::Semicolon => {
                if current_has_token {
                    statements += 1;
                }
                current_has_token = false;
            }
            Tok::Other(_) => current_has_token = true,
        }
    }
    if current_has_token {
        statements += 1;
    }
    match statements {
        0 => Shape::Empty,
        1 => Shape::One,
        _ => Shape::Many,
    }
}

/// The first `n` bare words of `sql`, upper-cased (quoted text and comments
/// skipped).
pub(super) fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for tok in tokens(sql) {
        if out.len() >= n {
            break;
        }
        match tok {
            Tok::Other(w) if w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                out.push(w.to_ascii_uppercase());
            }
            Tok::Other(_) => {}
            Tok::Semicolon => break,
        }
    }
    out
}

/// A best-effort answer to "does this statement leave the database as is",
/// following `sqlite3_stmt_readonly` for the common cases.
pub(super) fn looks_readonly(sql: &str) -> bool {
    let words = leading_words(sql, usize::MAX);
    let writes = ["INSERT", "UPDATE", "DELETE", "REPLACE"];
    match words.first().map(String::as_str) {
        Some("SELECT" | "VALUES" | "EXPLAIN") => true,
        Some("BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE") => true,
        Some("WITH") => !words.iter().any(|w| writes.contains(&w.as_str())),
        Some("PRAGMA") => !sql.contains('='),
        _ => false,
    }
}

enum Tok<'a> {
    Semicolon,
    Other(&'a str),
}

/// Split into words/punctuation, dropping whitespace and comments; a quoted
/// run is one token.
fn tokens(sql: &str) -> impl Iterator<Item = Tok<'_>> {
    let bytes = sql.as_bytes();
    let mut i = 0usize;
    std::iter::from_fn(move || {
        loop {
            let &c = bytes.get(i)?;
            let next = bytes.get(i + 1).copied();
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
                return Some(Tok::Semicolon);
            } else if matches!(c, b'\'' | b'"' | b'`' | b'[') {
                let close = if c == b'[' { b']' } else { c };
                let start = i;
                i += 1;
                while bytes.get(i).is_some_and(|&b| b != close) {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                return Some(Tok::Other(sql.get(start..i).unwrap_or("")));
            } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
                {
                    i += 1;
                }
                return Some(Tok::Other(sql.get(start..i).unwrap_or("")));
            } else {
                let start = i;
                i += 1;
                return Some(Tok::Other(sql.get(start..i).unwrap_or("")));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statements() {
        assert_eq!(shape(""), Shape::Empty);
        assert_eq!(
            shape("  -- only a comment\n /* and this */ ;"),
            Shape::Empty
        );
        assert_eq!(shape("SELECT 1"), Shape::One);
        assert_eq!(shape("SELECT ';' ; -- trailing"), Shape::One);
        assert_eq!(shape("SELECT 1; SELECT 2"), Shape::Many);
        assert_eq!(
            shape("INSERT INTO \"a;b\" VALUES ('x;y') /* ; */"),
            Shape::One
        );
        assert_eq!(
            shape("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = 1; END"),
            Shape::One
        );
    }

    #[test]
    fn classifies_first_keyword() {
        assert_eq!(
            leading_words(" /*x*/ explain select 1", 2),
            vec!["EXPLAIN", "SELECT"]
        );
        assert!(looks_readonly("select * from t"));
        assert!(looks_readonly("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!looks_readonly(
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"
        ));
        assert!(!looks_readonly("insert into t values (1)"));
        assert!(!looks_readonly("PRAGMA foreign_keys = ON"));
    }
}
