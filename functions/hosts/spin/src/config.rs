//! Configuration through `wasi:config/store@0.2.0-draft-2024-09-27`, then the environment.
//!
//! Measured (Spin 4.1.0-pre, wasmtime 49.0.3, spin-sdk 7.0.0): Spin backs that draft version
//! with the application's variables, so `SPIN_VARIABLE_*`, `spin up --variable`, secret
//! providers (Vault, Azure Key Vault) and SpinKube `SpinApp.spec.variables` all arrive here;
//! `wasmtime serve -S config -S config-var=name=value` offers the identical interface as
//! `0.2.0-rc.1`, and each host refuses the other's label (wasmtime: "component imports
//! instance `wasi:config/store@0.2.0-draft-2024-09-27`, but a matching implementation was not
//! found in the linker"). So for `wasmtime serve` the build plugs `ot-config-adapter`, which
//! exports the draft from `SPIN_VARIABLE_*` environment variables as Spin's environment
//! provider does, into this unchanged component (`scripts/build-wasm.sh`).
//!
//! Names: a Spin variable is the config key in lower case (`JWT_SECRET` → `jwt_secret`),
//! through [`shared::config::Key::spin_name`], the one place that maps them. Spin answers
//! `Ok(None)` for an upper-case name rather than an error, so a missing mapping would read as
//! "every variable unset".
//!
//! Fallback: a key that is unset or empty in wasi:config is read from the process environment
//! (`spin up --env`, `[component] environment`, `wasmtime serve --env`), so existing command
//! lines keep working. Secrets belong in variables: environment values show in `ps` and in
//! the manifest. A store error (an unreachable secret provider) is logged and leaves the key
//! unset, without an environment fallback, so a required key answers 503 `CONFIG_INVALID`
//! naming it instead of running on a stale value.

// The generated ABI glue is `unsafe`: allowed here only (the crate denies it elsewhere).
#[allow(unsafe_code)]
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        runtime_path: "spin_sdk::wit_bindgen::rt",
        world: "config",
        path: "wit",
        generate_all,
    });
}

use bindings::wasi::config::store;

/// The value of config key `name` (an environment-style name such as `UPSTASH_REDIS_REST_URL`).
pub fn lookup(name: &str) -> Option<String> {
    // Every key `Config::from_lookup` reads is in `KEYS` (checked by shared's config tests).
    let Some(key) = shared::config::keys::key(name) else {
        return std::env::var(name).ok();
    };
    match store::get(&key.spin_name()) {
        Ok(Some(value)) if !value.trim().is_empty() => Some(value),
        Ok(_) => std::env::var(name).ok(),
        Err(e) => {
            let (kind, message) = match e {
                store::Error::Upstream(m) => ("upstream", m),
                store::Error::Io(m) => ("io", m),
            };
            // The key's name and the provider's message only: never a value. A JSON error
            // line like every other (there is no request id yet: configuration comes first).
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let msg = format!(
                "wasi:config get {} failed ({kind}): {message}",
                key.spin_name()
            );
            eprintln!("{}", functions::logs::error_line(now_ms, &msg, None));
            None
        }
    }
}
