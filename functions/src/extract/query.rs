//! Query strings.

use shared::error::Error;
use std::str::FromStr;

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=x%20y`.
    pub fn parse(query: Option<&str>) -> Self {
        Query(
            query
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    /// The first value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` parsed as `T`.
    ///
    /// # Errors
    /// 400 naming the parameter when it does not parse.
    pub fn parse_opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, Error> {
        self.get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| Error::invalid(name, format!("{v:?} is not valid here")))
            })
            .transpose()
    }
}
