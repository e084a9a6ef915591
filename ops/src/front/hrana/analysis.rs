//! Which statements `sqld` accepts, and what it learns from them before they
//! run: a port of the statement classification of `libsql-server`'s
//! `query_analysis.rs` (`StmtKind::kind`, `pragma_kind`, `is_iud`,
//! `is_insert`; read at tag `libsql-server-v0.24.33`), driven by leading
//! keywords instead of a full parser.
//!
//! `sqld` refuses, as "unsupported statement", every statement its classifier
//! has no kind for: `VACUUM`, `ANALYZE`, `ATTACH` of anything but a bare or
//! double-quoted name, `TEMP` tables, views and triggers, and PRAGMAs outside
//! its list (or a listed connection PRAGMA given a value). `ATTACH name` is
//! classified, but then refused at authorization because no namespace allows
//! attaching here (`check_program_auth`, `allow_attach` defaults to false).
//! `DETACH` is accepted and fails in the engine (nothing can be attached).
//! Not ported: the refusal of writes to `_litestream_*` and
//! `libsql_wasm_func_table` tables.

use super::sql_text::{is_word, leading_words, statement_tokens};

/// What `sqld` knows about an accepted statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Analyzed {
    /// An INSERT, UPDATE or DELETE (also behind `WITH`): it reports
    /// `affected_row_count`.
    pub(super) is_iud: bool,
    /// An INSERT (or REPLACE): it reports `last_insert_rowid`, even when it
    /// inserted nothing.
    pub(super) is_insert: bool,
    /// `ATTACH name …`: the namespace it would attach (always refused).
    pub(super) attach: Option<String>,
}

/// Classify one statement; `None` when `sqld` would refuse it as unsupported.
pub(super) fn analyze(stmt: &str) -> Option<Analyzed> {
    let words = leading_words(stmt, 8);
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let plain = Analyzed::default();
    match word(0) {
        "EXPLAIN" if word(1) == "PRAGMA" => pragma(stmt).then_some(plain),
        "EXPLAIN" | "SELECT" | "VALUES" => Some(plain),
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" => Some(plain),
        "INSERT" | "REPLACE" => Some(Analyzed {
            is_iud: true,
            is_insert: true,
            attach: None,
        }),
        "UPDATE" | "DELETE" => Some(Analyzed {
            is_iud: true,
            ..plain
        }),
        "WITH" => with_statement(stmt),
        "CREATE" => create(stmt).then_some(plain),
        "DROP" => matches!(word(1), "TABLE" | "INDEX" | "TRIGGER" | "VIEW").then_some(plain),
        "ALTER" | "REINDEX" | "DETACH" => Some(plain),
        "PRAGMA" => pragma(stmt).then_some(plain),
        "ATTACH" => attach(stmt).map(|name| Analyzed {
            attach: Some(name),
            ..plain
        }),
        _ => None,
    }
}

/// `WITH … SELECT|INSERT|UPDATE|DELETE`: the verb after the CTEs decides.
fn with_statement(stmt: &str) -> Option<Analyzed> {
    let mut depth = 0i32;
    for tok in statement_tokens(stmt).into_iter().skip(1) {
        match tok {
            "(" => depth += 1,
            ")" => depth -= 1,
            w if depth == 0 && is_word(w) => match w.to_ascii_uppercase().as_str() {
                "SELECT" | "VALUES" => return Some(Analyzed::default()),
                "INSERT" | "REPLACE" => {
                    return Some(Analyzed {
                        is_iud: true,
                        is_insert: true,
                        attach: None,
                    });
                }
                "UPDATE" | "DELETE" => {
                    return Some(Analyzed {
                        is_iud: true,
                        ..Analyzed::default()
                    });
                }
                _ => {}
            },
            _ => {}
        }
    }
    None
}

/// `CREATE` of a persistent table, virtual table, index, trigger or view.
/// `sqld` refuses TEMP objects (bound to one connection), including a table
/// named `TEMP.x` (its check is case-sensitive, so is this one).
fn create(stmt: &str) -> bool {
    let toks = statement_tokens(stmt);
    let upper: Vec<String> = toks.iter().map(|t| t.to_ascii_uppercase()).collect();
    match upper.get(1).map(String::as_str) {
        Some("TABLE") => {
            // CREATE TABLE [IF NOT EXISTS] [schema .] name
            let name_at = if upper.get(2).is_some_and(|w| w == "IF") {
                5
            } else {
                2
            };
            !(toks.get(name_at) == Some(&"TEMP") && toks.get(name_at + 1) == Some(&"."))
        }
        Some("VIRTUAL" | "INDEX" | "UNIQUE" | "TRIGGER" | "VIEW") => true,
        _ => false,
    }
}

/// `ATTACH [DATABASE] name AS alias`: the namespace name when the attached
/// expression is a bare or double-quoted identifier (anything else, such as a
/// file name string, is unsupported).
fn attach(stmt: &str) -> Option<String> {
    let toks = statement_tokens(stmt);
    let at = if toks
        .get(1)
        .is_some_and(|t| t.eq_ignore_ascii_case("DATABASE"))
    {
        2
    } else {
        1
    };
    let expr = *toks.get(at)?;
    let name = if is_word(expr) {
        expr
    } else {
        expr.strip_prefix('"')?.strip_suffix('"')?
    };
    // The expression must be the identifier alone, followed by `AS`.
    let followed_by_as = toks
        .get(at + 1)
        .is_some_and(|t| t.eq_ignore_ascii_case("AS"));
    (!name.is_empty() && followed_by_as).then(|| name.to_string())
}

/// `[EXPLAIN] PRAGMA [schema.]name [= value | (value)]`: `sqld`'s
/// `pragma_kind`.
fn pragma(stmt: &str) -> bool {
    let toks = statement_tokens(stmt);
    let start = toks
        .iter()
        .position(|t| t.eq_ignore_ascii_case("PRAGMA"))
        .map_or(toks.len(), |p| p + 1);
    let rest = toks.get(start..).unwrap_or_default();
    let (name, after) = match rest {
        [_, ".", name, after @ ..] => (*name, after),
        [name, after @ ..] => (*name, after),
        [] => return false,
    };
    let has_body = !after.is_empty();
    match name.to_ascii_lowercase().as_str() {
        "table_list" | "index_list" | "table_info" | "table_xinfo" | "index_info"
        | "index_xinfo" | "pragma_list" | "compile_options" | "database_list" | "function_list"
        | "module_list" | "encoding" => true,
        "schema_version" => !has_body,
        "defer_foreign_keys" | "foreign_keys" | "foreign_key_list" | "foreign_key_check"
        | "collation_list" | "data_version" | "freelist_count" | "integrity_check"
        | "legacy_file_format" | "page_count" | "quick_check" | "stats" | "user_version" => true,
        "analysis_limit"
        | "application_id"
        | "auto_vacuum"
        | "automatic_index"
        | "busy_timeout"
        | "cache_size"
        | "cache_spill"
        | "cell_size_check"
        | "checkpoint_fullfsync"
        | "fullfsync"
        | "hard_heap_limit"
        | "journal_mode"
        | "journal_size_limit"
        | "legacy_alter_table"
        | "locking_mode"
        | "max_page_count"
        | "mmap_size"
        | "page_size"
        | "query_only"
        | "read_uncommitted"
        | "recursive_triggers"
        | "reverse_unordered_selects"
        | "secure_delete"
        | "soft_heap_limit"
        | "synchronous"
        | "temp_store"
        | "threads"
        | "trusted_schema"
        | "wal_autocheckpoint" => !has_body,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_sqld_has_no_kind_for() {
        for sql in [
            "VACUUM",
            "ANALYZE",
            "ATTACH 'other.db' AS o",
            "ATTACH DATABASE 'x' AS o",
            "CREATE TEMP TABLE t (a)",
            "CREATE TEMPORARY VIEW v AS SELECT 1",
            "CREATE TABLE TEMP.t (a)",
            "PRAGMA journal_mode = WAL",
            "PRAGMA wal_checkpoint",
            "PRAGMA optimize",
        ] {
            assert_eq!(analyze(sql), None, "{sql}");
        }
    }

    #[test]
    fn accepts_and_classifies_the_rest() {
        let insert = analyze("REPLACE INTO t VALUES (1)").expect("accepted");
        assert!(insert.is_insert && insert.is_iud);
        let update = analyze("WITH x AS (SELECT 1) UPDATE t SET a = 1").expect("accepted");
        assert!(update.is_iud && !update.is_insert);
        let read = analyze("WITH x AS (INSERT INTO t VALUES (1)) SELECT 1").expect("accepted");
        assert!(!read.is_iud);
        for sql in [
            "PRAGMA foreign_keys = ON",
            "PRAGMA defer_foreign_keys = ON",
            "PRAGMA main.table_info(t)",
            "PRAGMA journal_mode",
            "CREATE TABLE IF NOT EXISTS temp_x (a)",
            "CREATE UNIQUE INDEX i ON t (a)",
            "DETACH other",
            "ROLLBACK TO s",
        ] {
            assert!(analyze(sql).is_some(), "{sql}");
        }
        assert_eq!(
            analyze("ATTACH \"other-db\" AS o").and_then(|a| a.attach),
            Some("other-db".to_string())
        );
    }
}
