//! `GET /v1/events`: the public catalog (published events only), filtered, sorted and paged.
//!
//! The query is parsed into [`ListQuery`] and re-printed in one canonical form that keys the
//! cache, so `?q=Jazz&page=1` and `?page=1&q=jazz` share one entry and junk parameters
//! cannot multiply entries.

use super::record::{EVENT_COLUMNS, EventRecord};
use crate::cache::cached_json;
use crate::call::Call;
use crate::extract::{Page, Query};
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use shared::domain::Timestamp;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{SqlValue, Statement};

/// Longest search text.
const MAX_Q_CHARS: usize = 100;

/// The list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    StartsAt,
    StartsAtDesc,
    CreatedAt,
    CreatedAtDesc,
}

impl Sort {
    const NAMES: [(&'static str, Sort); 4] = [
        ("startsAt", Sort::StartsAt),
        ("-startsAt", Sort::StartsAtDesc),
        ("createdAt", Sort::CreatedAt),
        ("-createdAt", Sort::CreatedAtDesc),
    ];

    fn parse(s: &str) -> Option<Sort> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("startsAt", |(n, _)| n)
    }

    /// `ORDER BY`; the id breaks ties so pages never overlap or skip.
    fn order_by(self) -> &'static str {
        match self {
            Sort::StartsAt => "starts_at ASC, id ASC",
            Sort::StartsAtDesc => "starts_at DESC, id DESC",
            Sort::CreatedAt => "created_at ASC, id ASC",
            Sort::CreatedAtDesc => "created_at DESC, id DESC",
        }
    }
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListQuery {
    /// Events starting at or after this instant.
    from: Option<Timestamp>,
    /// Events starting before this instant (half-open, so adjacent ranges do not overlap).
    to: Option<Timestamp>,
    /// Search text, ASCII-lower-cased: SQLite's `lower()` folds ASCII only, so folding the
    /// same way here keeps both sides of the comparison consistent.
    q: Option<String>,
    sort: Sort,
    page: Page,
}

impl ListQuery {
    fn parse(query: &Query) -> Result<Self, Error> {
        let time = |name: &str| -> Result<Option<Timestamp>, Error> {
            query
                .parse_opt::<i64>(name)?
                .map(|ms| Timestamp::from_ms(ms).map_err(|m| Error::invalid(name, m)))
                .transpose()
        };
        let (from, to) = (time("from")?, time("to")?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Error::invalid("to", "must not be before from"));
        }
        let q = query.get("q").map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > MAX_Q_CHARS) {
            return Err(Error::invalid(
                "q",
                format!("must be at most {MAX_Q_CHARS} characters"),
            ));
        }
        let sort = match query.get("sort") {
            None => Sort::StartsAt,
            Some(s) => Sort::parse(s).ok_or_else(|| {
                Error::invalid(
                    "sort",
                    "must be one of startsAt, -startsAt, createdAt, -createdAt",
                )
            })?,
        };
        Ok(ListQuery {
            from,
            to,
            q: q.map(str::to_ascii_lowercase),
            sort,
            page: Page::from_query(query)?,
        })
    }

    /// The canonical query string: every parameter, in a fixed order.
    fn cache_field(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        let opt = |t: Option<Timestamp>| t.map(|t| t.ms().to_string()).unwrap_or_default();
        out.append_pair("from", &opt(self.from))
            .append_pair("to", &opt(self.to))
            .append_pair("q", self.q.as_deref().unwrap_or_default())
            .append_pair("sort", self.sort.name())
            .append_pair("page", &self.page.page.to_string())
            .append_pair("pageSize", &self.page.page_size.to_string());
        out.finish()
    }

    /// `WHERE …` and its arguments.
    fn filter(&self) -> (String, Vec<SqlValue>) {
        let mut clauses = vec!["status = 'published'".to_owned()];
        let mut args = Vec::new();
        if let Some(from) = self.from {
            clauses.push("starts_at >= ?".into());
            args.push(from.ms().into());
        }
        if let Some(to) = self.to {
            clauses.push("starts_at < ?".into());
            args.push(to.ms().into());
        }
        if let Some(q) = &self.q {
            // instr, not LIKE: `%` and `_` in the search text are plain characters.
            clauses.push("(instr(lower(title), ?) > 0 OR instr(lower(venue), ?) > 0)".into());
            args.push(q.as_str().into());
            args.push(q.as_str().into());
        }
        (format!("WHERE {}", clauses.join(" AND ")), args)
    }
}

fn with_args(sql: String, args: &[SqlValue]) -> Statement {
    args.iter()
        .cloned()
        .fold(Statement::new(sql), |statement, arg| statement.bind(arg))
}

/// `GET /v1/events`.
///
/// # Errors
/// 400 naming the parameter (`from`, `to`, `q`, `sort`, `page`, `pageSize`); 503/500.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let query = &ListQuery::parse(&call.query)?;
    cached_json(
        services,
        call.request,
        keys::list_cache(services),
        &query.cache_field(),
        || async move {
            let (filter, args) = query.filter();
            let count = with_args(format!("SELECT count(*) AS n FROM events {filter}"), &args);
            let page = with_args(
                format!(
                    "SELECT {EVENT_COLUMNS} FROM events {filter} ORDER BY {} LIMIT ? OFFSET ?",
                    query.sort.order_by()
                ),
                &args,
            )
            .bind(query.page.page_size)
            .bind(query.page.offset());
            // Two reads in parallel: one round trip of latency.
            let (count, page) =
                futures::join!(services.sql().execute(count), services.sql().execute(page));
            let total = count?.count()?;
            let items = page?
                .iter()
                .map(|row| EventRecord::from_row(&row).map(|e| e.to_json()))
                .collect::<Result<Vec<_>, Error>>()?;
            let paged = query.page.paged(items, total);
            serde_json::to_value(paged).map_err(|e| Error::Internal(e.to_string()))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<ListQuery, Error> {
        ListQuery::parse(&Query::parse(Some(q)))
    }

    fn field_of(q: &str) -> Option<String> {
        match parse(q) {
            Err(Error::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn defaults_and_canonical_cache_field() {
        let query = parse("").expect("valid");
        assert_eq!(query.sort, Sort::StartsAt);
        assert_eq!(
            query.cache_field(),
            "from=&to=&q=&sort=startsAt&page=1&pageSize=20"
        );
        let a = parse("q=Jazz+Club&page=2&junk=1&sort=-createdAt").expect("valid");
        let b = parse("sort=-createdAt&page=2&q=jazz%20club").expect("valid");
        assert_eq!(a.cache_field(), b.cache_field());
        assert_eq!(
            a.cache_field(),
            "from=&to=&q=jazz+club&sort=-createdAt&page=2&pageSize=20"
        );
    }

    #[test]
    fn bad_parameters_name_themselves() {
        assert_eq!(field_of("from=abc").as_deref(), Some("from"));
        assert_eq!(field_of("to=-5").as_deref(), Some("to"));
        assert_eq!(field_of("from=10&to=5").as_deref(), Some("to"));
        assert_eq!(field_of("sort=title").as_deref(), Some("sort"));
        assert_eq!(field_of("pageSize=101").as_deref(), Some("pageSize"));
        assert_eq!(
            field_of(&format!("q={}", "x".repeat(101))).as_deref(),
            Some("q")
        );
    }

    #[test]
    fn filter_binds_what_was_asked() {
        let (sql, args) = parse("from=5&to=9&q=Hall").expect("valid").filter();
        assert_eq!(
            sql,
            "WHERE status = 'published' AND starts_at >= ? AND starts_at < ? AND \
             (instr(lower(title), ?) > 0 OR instr(lower(venue), ?) > 0)"
        );
        assert_eq!(
            args,
            vec![
                SqlValue::Integer(5),
                SqlValue::Integer(9),
                SqlValue::Text("hall".into()),
                SqlValue::Text("hall".into())
            ]
        );
    }
}
