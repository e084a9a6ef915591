//! The gate every command passes before it reaches Redis: the command policy, the
//! script checks, and the count of refusals served at `GET /__stats`.
//!
//! The first time each distinct refusal happens it is also written to stderr: a
//! caller that ignores a command's error (a best-effort `EXPIRE` in a pipeline) would
//! otherwise never show that Upstash refuses it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use redis::Value;

use super::super::stats::UpstashMeter;
use super::policy::{self, Arg, Origin};
use super::script::{self, ScriptBook};

/// What the guard needs to hear about a command it let through, once Redis answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pass {
    /// Nothing.
    Plain,
    /// A `SCRIPT LOAD` of a script that is refused when run: the SHA Redis answers
    /// must be remembered with this refusal, so `EVALSHA` of it is refused too.
    RememberScript(String),
}

/// The policy of the front, shared by all requests.
#[derive(Debug)]
pub(super) struct Guard {
    scripts: ScriptBook,
    meter: Arc<UpstashMeter>,
    /// Refusals already written to stderr.
    logged: Mutex<HashSet<String>>,
}

/// Most distinct refusals written to stderr, so a client looping over generated
/// commands cannot flood the log.
const LOG_LIMIT: usize = 1_000;

impl Guard {
    /// A guard that counts its refusals in `meter`.
    pub(super) fn new(meter: Arc<UpstashMeter>) -> Guard {
        Guard {
            scripts: ScriptBook::default(),
            meter,
            logged: Mutex::default(),
        }
    }

    /// Checks one command (`args[0]` is its name) before it is sent.
    ///
    /// # Errors
    /// The Redis error text of the refusal; the refusal is counted.
    pub(super) fn admit(&self, args: &[Vec<u8>]) -> Result<Pass, String> {
        let verdict = self.verdict(args);
        if let Err(message) = &verdict {
            self.meter.refused.add(1);
            self.log_once(message);
        }
        verdict
    }

    fn log_once(&self, message: &str) {
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        if logged.len() < LOG_LIMIT && logged.insert(message.to_owned()) {
            eprintln!("upstash front: refused a command Upstash would not run: {message}");
        }
    }

    fn verdict(&self, args: &[Vec<u8>]) -> Result<Pass, String> {
        let known: Vec<Arg<'_>> = args.iter().map(|a| Some(a.as_slice())).collect();
        policy::check(&known, Origin::Rest).map_err(|r| r.message())?;
        let word = |i: usize| args.get(i).map(|a| a.to_ascii_uppercase());
        match word(0).as_deref() {
            Some(b"EVAL") => match args.get(1).and_then(|body| script::scan(body)) {
                Some(finding) => Err(finding.message()),
                None => Ok(Pass::Plain),
            },
            Some(b"EVALSHA") => match args.get(1).and_then(|sha| self.scripts.refusal(sha)) {
                Some(message) => Err(message),
                None => Ok(Pass::Plain),
            },
            Some(b"SCRIPT") if word(1).as_deref() == Some(b"LOAD") => {
                match args.get(2).and_then(|body| script::scan(body)) {
                    // Redis 6.2 would not even compile it.
                    Some(finding) if finding.at_load => Err(finding.message()),
                    // Upstash would load it and fail when it runs: so does the front.
                    Some(finding) => Ok(Pass::RememberScript(finding.message())),
                    None => Ok(Pass::Plain),
                }
            }
            _ => Ok(Pass::Plain),
        }
    }

    /// Hears Redis's reply to a command [`Guard::admit`] let through.
    pub(super) fn answered(&self, pass: Pass, reply: &Value) {
        if let (Pass::RememberScript(message), Value::BulkString(sha)) = (pass, reply) {
            self.scripts.remember(sha, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn refuses_and_counts_and_remembers_loaded_scripts() {
        let meter = Arc::new(UpstashMeter::default());
        let guard = Guard::new(meter.clone());
        let body = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET')";
        assert!(guard.admit(&args(&["EVAL", body, "1", "k", "v"])).is_err());
        assert!(guard.admit(&args(&["GET", "k"])).is_ok());
        let pass = guard.admit(&args(&["script", "load", body]));
        let Ok(pass @ Pass::RememberScript(_)) = pass else {
            panic!("SCRIPT LOAD of a runtime finding is let through to be remembered: {pass:?}");
        };
        guard.answered(pass, &Value::BulkString(b"ABC123".to_vec()));
        let refused = guard.admit(&args(&["EVALSHA", "abc123", "1", "k", "v"]));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("SET with both NX and GET")),
            "{refused:?}"
        );
        assert!(
            guard
                .admit(&args(&["SCRIPT", "LOAD", "#!lua\nreturn 1"]))
                .is_err()
        );
        assert_eq!(meter.read_stats().refused, 3);
    }
}
