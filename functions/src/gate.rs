//! The gate of a hot route: its rate-limit buckets and its token's revocation are checked
//! inside the route's own Lua script call (`scripts/gate_lib.lua`), so a hold, an order, a
//! queue call or a scan costs one Redis round trip instead of three.
//!
//! The router marks these routes ([`crate::router::Route::gated`]); the app then skips the
//! separate limiter call and the handler builds a [`Gate`] and runs its script through
//! [`Gate::eval`]. The limiter's verdict goes back to the app through [`Call::rate`] so the
//! response carries the same `X-RateLimit-*` headers as every other route.

use crate::call::Call;
use crate::extract::Caller;
use crate::extract::session::{self, Loaded};
use crate::keys;
use crate::rate_limit::{self, Decision};
use crate::redis_errors;
use crate::services::Services;
use serde_json::json;
use shared::domain::{Role, WalletAddress};
use shared::error::{Dependency, Error};
use shared::ports::Redis;
use shared::redis::{Script, Value};

/// A gated script: the gate's Lua, then the shared Lua libraries listed after `;` in order,
/// then the script itself as `main` (all from `functions/src/scripts/`):
/// `gated_script!("hold.lua"; "hold_lib.lua", "catalog_lib.lua")`.
#[macro_export]
macro_rules! gated_script {
    ($file:literal $(; $($lib:literal),+)?) => {
        std::sync::LazyLock::new(|| {
            shared::redis::Script::new(concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/src/scripts/gate_lib.lua"
                )),
                $($(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/scripts/", $lib)),)+)?
                "local function main()\n",
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/scripts/", $file)),
                "\nend\nreturn gate_run(main)\n"
            ))
        })
    };
}

/// The gate's spec (the last `ARGV`): how many of the last `KEYS` are bucket keys and how many
/// revocation keys, the refill rate in tokens per ms and the bucket size.
pub fn spec(buckets: usize, revocations: usize, rate_per_ms: f64, burst: u32) -> String {
    spec_json(buckets, revocations, rate_per_ms, burst).to_string()
}

/// [`spec`] before it is serialised, for [`Gate`] to add the session's fields to.
fn spec_json(
    buckets: usize,
    revocations: usize,
    rate_per_ms: f64,
    burst: u32,
) -> serde_json::Value {
    json!({ "b": buckets, "r": revocations, "rate": rate_per_ms, "burst": burst })
}

/// A script that is only the gate (also the token buckets of routes that are not gated).
pub static GATE_ONLY: std::sync::LazyLock<Script> = gated_script!("gate_only.lua");

/// What the gate said of one run.
enum Opened {
    /// Let through: the script's own reply.
    Pass(Value),
    /// Redis does not hold the caller's session (lost): read it from libSQL, run again.
    NoSession,
}

/// The rate-limit buckets and revocation keys one request must pass.
#[derive(Debug, Clone)]
pub struct Gate {
    buckets: Vec<String>,
    revocations: Vec<String>,
    rate_per_ms: f64,
    limit: u32,
    /// The caller's session (refresh family), wallet and the role its token carries.
    session: Option<(String, WalletAddress, Role)>,
    /// The session's state read from libSQL after the script found Redis had lost it.
    loaded: std::cell::RefCell<Option<Loaded>>,
    /// A request takes one token however many times its script runs (a script that had to
    /// load the catalog first runs again): set once the buckets were charged.
    charged: std::cell::Cell<bool>,
}

impl Gate {
    /// The gate of `call` for `caller` (`None`: not a wallet, e.g. a scanner): the client IP
    /// bucket of the route's group, the caller's wallet bucket, and the token's revocation.
    pub fn new<S: Services>(services: &S, call: &Call<'_>, caller: Option<&Caller>) -> Gate {
        let group = call.rate.group;
        let mut buckets = Vec::new();
        let (rate_per_ms, limit) = match rate_limit::limit_of(services, group) {
            Some(limit) => {
                // No usable client address: no IP bucket (see `crate::client_ip`).
                if let Some(ip) = rate_limit::client_ip(call.request) {
                    buckets.push(keys::rate_bucket(services, group.name(), "ip", ip));
                }
                if let Some(caller) = caller {
                    buckets.push(keys::rate_bucket(
                        services,
                        group.name(),
                        "wallet",
                        &caller.wallet.checksummed(),
                    ));
                }
                (limit.rate_per_sec / 1000.0, limit.burst)
            }
            None => (1.0, 0),
        };
        let revocations = caller.map_or_else(Vec::new, |c| {
            vec![
                keys::revoked_jti(services, &c.jti),
                keys::refresh_family(services, &c.sid),
            ]
        });
        Gate {
            buckets,
            revocations,
            rate_per_ms,
            limit,
            session: caller.map(|c| (c.sid.clone(), c.wallet, c.role)),
            loaded: std::cell::RefCell::new(None),
            charged: std::cell::Cell::new(false),
        }
    }

    /// Runs gated `script` with `keys`/`args` (the gate's keys and spec are appended) and
    /// returns the script's own reply once the gate let the request through. When Redis has
    /// lost the caller's session, reads it from libSQL and runs the script once more with it
    /// (the script caches it): one statement and one round trip more, only after a loss.
    ///
    /// # Errors
    /// 429 `RATE_LIMITED`; 401 `AUTH_TOKEN_REVOKED` / `AUTH_ROLE_CHANGED`; 503
    /// `REDIS_UNAVAILABLE` (or libSQL's, when reading a lost session); internal for a reply
    /// without the gate's frame.
    pub async fn eval<S: Services>(
        &self,
        services: &S,
        call: &Call<'_>,
        script: &Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, Error> {
        match self.eval_once(services, call, script, keys, args).await? {
            Opened::Pass(reply) => Ok(reply),
            Opened::NoSession => {
                let (Some((sid, wallet, _)), false) =
                    (self.session.as_ref(), self.loaded.borrow().is_some())
                else {
                    return Err(Error::Internal(
                        "the gate lost a session it was given".into(),
                    ));
                };
                let loaded = session::load(services, sid, wallet).await?;
                self.loaded.replace(Some(loaded));
                match self.eval_once(services, call, script, keys, args).await? {
                    Opened::Pass(reply) => Ok(reply),
                    Opened::NoSession => Err(Error::Internal(
                        "the gate lost a session it was given".into(),
                    )),
                }
            }
        }
    }

    async fn eval_once<S: Services>(
        &self,
        services: &S,
        call: &Call<'_>,
        script: &Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Opened, Error> {
        let buckets: &[String] = if self.charged.get() {
            &[]
        } else {
            &self.buckets
        };
        let spec = self.spec(buckets.len());
        let mut all_keys: Vec<&str> = keys.to_vec();
        all_keys.extend(buckets.iter().map(String::as_str));
        all_keys.extend(self.revocations.iter().map(String::as_str));
        let mut all_args: Vec<&str> = args.to_vec();
        all_args.push(&spec);
        let reply = services.redis().eval(script, &all_keys, &all_args).await?;
        self.open(call, reply, !buckets.is_empty())
    }

    /// The spec of one run: [`spec`] plus the token's role and a session read from libSQL.
    fn spec(&self, buckets: usize) -> String {
        let mut spec = spec_json(
            buckets,
            self.revocations.len(),
            self.rate_per_ms,
            self.limit,
        );
        if let Some((_, _, role)) = &self.session {
            spec["role"] = json!(role.as_str());
        }
        if let Some(loaded) = self.loaded.borrow().as_ref() {
            spec["load"] = json!(loaded.value);
            spec["px"] = json!(loaded.ttl_ms.max(1));
        }
        spec.to_string()
    }

    /// Passes the gate alone (a route whose own work needs no Redis). With Redis down, the
    /// route group's `RATE_LIMIT_ON_REDIS_ERROR` decides.
    ///
    /// # Errors
    /// As [`Gate::eval`].
    pub async fn pass<S: Services>(&self, services: &S, call: &Call<'_>) -> Result<(), Error> {
        match self.eval(services, call, &GATE_ONLY, &[], &[]).await {
            Ok(_) => Ok(()),
            // Nothing but the gate needed Redis: the group's policy decides (the token's
            // revocation goes unchecked too while Redis is down, as with any open limiter).
            Err(
                e @ Error::Unavailable {
                    dependency: Dependency::Redis,
                    ..
                },
            ) => redis_errors::ride_over(services, redis_errors::Path::Gate, call.rate.group, &e),
            Err(e) => Err(e),
        }
    }

    /// Reads the gate's frame of a reply.
    fn open(&self, call: &Call<'_>, reply: Value, limited: bool) -> Result<Opened, Error> {
        let Value::Array(mut parts) = reply else {
            return Err(Error::Internal(format!(
                "a gated script answered {reply:?}"
            )));
        };
        let Some(decision) = Decision::from_frame(&parts, self.limit) else {
            return Err(Error::Internal("a gated script answered no gate".into()));
        };
        if limited {
            call.rate.decision.set(Some(decision));
            self.charged.set(decision.allowed);
        }
        match parts.get(4).and_then(Value::as_str) {
            Some("LIMITED") => Err(decision.error()),
            Some("REVOKED") => Err(session::revoked()),
            Some("ROLE") => Err(session::role_changed()),
            Some("NOSESSION") => Ok(Opened::NoSession),
            Some("PASS") if parts.len() > 5 => Ok(Opened::Pass(parts.swap_remove(5))),
            _ => Err(Error::Internal("a gated script answered no gate".into())),
        }
    }
}
