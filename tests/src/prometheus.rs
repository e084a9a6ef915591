//! A real Prometheus (the Debian `prometheus` package, from `scripts/setup.sh`) scraping the
//! release builds, loaded with `ops/prometheus/alerts.yml`, and what the tests ask it: PromQL
//! through `/api/v1/query`, the loaded rules through `/api/v1/rules`, and the vector selectors
//! an expression names, so a rule or panel naming a series the API does not export fails.

use crate::{Proc, free_port, root, unique};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The rules file every deployment loads.
pub fn rules_file() -> PathBuf {
    root().join("ops/prometheus/alerts.yml")
}

/// The Grafana dashboard.
pub fn dashboard_file() -> PathBuf {
    root().join("ops/grafana/onlineticket.json")
}

/// Runs `promtool` with `args` in `ops/prometheus/` and returns (success, stdout + stderr).
pub fn promtool(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new("promtool")
        .args(args)
        .current_dir(root().join("ops/prometheus"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool: {e} (run scripts/setup.sh)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A running Prometheus; killed (by its process group) on drop.
pub struct Prometheus {
    pub url: String,
    http: reqwest::Client,
    _proc: Proc,
}

impl Prometheus {
    /// Starts Prometheus scraping `/metrics` of each `(job, base_url)` every second with the
    /// bearer `token`, evaluating the rules every second. Config, data and log go to
    /// `target/e2e-logs/<unique>/`.
    pub async fn start(jobs: &[(&str, &str)], token: &str) -> Prometheus {
        let dir = root().join("target/e2e-logs").join(unique("prometheus"));
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n",
            rules_file().display()
        );
        for (job, base_url) in jobs {
            let target = base_url.trim_start_matches("http://");
            config.push_str(&format!(
                "  - job_name: {job}\n    metrics_path: /metrics\n    authorization:\n      credentials: {token}\n    static_configs:\n      - targets: ['{target}']\n"
            ));
        }
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, config).expect("prometheus config");
        let port = free_port();
        let args = [
            format!("--config.file={}", config_file.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = dir.join("prometheus.log");
        let proc = Proc::spawn("prometheus", &args, &[], &log);
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            _proc: proc,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = prometheus.http.get(prometheus.api("/-/ready")).send().await
                && r.status().is_success()
            {
                return prometheus;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not become ready; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn get_data(&self, path: &str, form: &[(&str, &str)]) -> Result<Value, String> {
        let response = self
            .http
            .post(self.api(path))
            .form(form)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let body: Value = response.json().await.map_err(|e| format!("{path}: {e}"))?;
        if body["status"] != "success" {
            return Err(format!("{path}: {body}"));
        }
        Ok(body["data"].clone())
    }

    /// Evaluates `expr` now: the result vector, or Prometheus's error.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self.get_data("/api/v1/query", &[("query", expr)]).await?;
        match &data["result"] {
            Value::Array(series) => Ok(series.clone()),
            other => Err(format!("{expr} answered a {}: {other}", data["resultType"])),
        }
    }

    /// Polls `expr` until it returns series (rates need two scrapes, recording rules one
    /// evaluation after that) or `within` passes; the last answer either way.
    pub async fn query_until_series(
        &self,
        expr: &str,
        within: Duration,
    ) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.query(expr).await;
            if matches!(&answer, Ok(series) if !series.is_empty()) || Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The rule groups Prometheus loaded (`/api/v1/rules`).
    pub async fn rule_groups(&self) -> Vec<Value> {
        let response = self
            .http
            .get(self.api("/api/v1/rules"))
            .send()
            .await
            .expect("rules request");
        let body: Value = response.json().await.expect("rules JSON");
        body["data"]["groups"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// The series names of `series` (`[{metric: {job: …}}]`) for one label, sorted.
pub fn label_values(series: &[Value], label: &str) -> Vec<String> {
    let mut values: Vec<String> = series
        .iter()
        .filter_map(|s| s["metric"][label].as_str().map(str::to_owned))
        .collect();
    values.sort();
    values.dedup();
    values
}

/// An alert's measured part: `expr` is `<measure> <op> <number>` and this is `<measure>`;
/// `None` when the alert has another shape.
pub fn measured(expr: &str) -> Option<&str> {
    let mut parts = expr.trim().rsplitn(3, ' ');
    let (number, op, measure) = (parts.next()?, parts.next()?, parts.next()?);
    let is_op = matches!(op, ">" | "<" | ">=" | "<=" | "==" | "!=");
    (is_op && number.parse::<f64>().is_ok()).then_some(measure.trim())
}

/// A dashboard target's expression with Grafana's variables made concrete.
pub fn concrete(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$job", ".+")
}

/// The vector selectors `expr` names (`name`, `name{matchers}`, `{matchers}`), in order: what
/// must exist for the expression to mean anything. A small scanner, not a parser: it skips
/// strings, range and subquery brackets, the label lists of `by`/`without`/`on`/`ignoring`/
/// `group_left`/`group_right`, and function and aggregation names.
pub fn selectors(expr: &str) -> Vec<String> {
    const AGGREGATIONS: &[&str] = &[
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    const WORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan"];
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut labels_next = false;
    let mut i = 0;
    // The index just past the bracket closing the one at `open` (strings inside skipped).
    let close = |open: usize, end: char| -> usize {
        let mut j = open + 1;
        while j < chars.len() && chars[j] != end {
            if matches!(chars[j], '"' | '\'' | '`') {
                let quote = chars[j];
                j += 1;
                while j < chars.len() && chars[j] != quote {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
            }
            j += 1;
        }
        (j + 1).min(chars.len())
    };
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = close(i, c);
        } else if c == '[' {
            i = close(i, ']');
        } else if c == '(' && labels_next {
            labels_next = false;
            i = close(i, ')');
        } else if c == '{' {
            let end = close(i, '}');
            found.push(chars[i..end].iter().collect());
            i = end;
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let follows = chars.get(next).copied();
            let named = !(WORDS.contains(&word.as_str())
                || AGGREGATIONS.contains(&word.as_str())
                || follows == Some('('));
            if LABEL_LISTS.contains(&word.as_str()) {
                labels_next = true;
            } else if !named {
                // A function, an aggregation or an operator word.
            } else if follows == Some('{') {
                let end = close(next, '}');
                found.push(format!(
                    "{word}{}",
                    chars[next..end].iter().collect::<String>()
                ));
                i = end;
            } else {
                found.push(word);
            }
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_selectors_and_skips_the_rest() {
        let expr = r#"sum by (job, le) (rate(http_requests_total{status=~"5.."}[5m])) or sum by (job) (rate(http_requests_total[5m])) * 0 / on (job) group_left up > bool 0.02"#;
        assert_eq!(
            selectors(expr),
            [
                r#"http_requests_total{status=~"5.."}"#,
                "http_requests_total",
                "up"
            ]
        );
        assert_eq!(
            selectors("histogram_quantile(0.99, sum by (le) (rate(x_bucket{a=\"}\"}[1m])))"),
            [r#"x_bucket{a="}"}"#]
        );
        assert_eq!(
            selectors("job:a:rate5m / job:b:rate5m"),
            ["job:a:rate5m", "job:b:rate5m"]
        );
    }

    #[test]
    fn strips_the_threshold_of_an_alert() {
        assert_eq!(measured("job:x:max > 50"), Some("job:x:max"));
        assert_eq!(measured("min by (job) (up) < 1"), Some("min by (job) (up)"));
        assert_eq!(measured("a and b"), None);
    }
}
