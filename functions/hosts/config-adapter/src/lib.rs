//! Lets `wasmtime serve` run the very component that Spin runs.
//!
//! The Spin host shell (`ot-spin`) reads its configuration through
//! `wasi:config/store@0.2.0-draft-2024-09-27`, the version Spin backs with its application
//! variables. wasmtime 49 offers the same interface only as `wasi:config/store@0.2.0-rc.1`
//! (`wasmtime serve -S config -S config-var=name=value`), and each host refuses a component
//! that imports the other's label. wasmtime's `-S` options are also split at every comma, so a
//! list value (`cors_allowed_origins`, `qr_secrets`, `swap_base_tokens`, …) cannot be passed
//! as a config var at all (measured: "unknown option: 0x…").
//!
//! So this component exports the draft itself, backed by the environment exactly as Spin's
//! default variables provider is: the value of `jwt_secret` is `SPIN_VARIABLE_JWT_SECRET`.
//! `scripts/build-wasm.sh` plugs it into `ot_spin.wasm` with `wac plug`; the core component
//! inside the composition is byte-for-byte the one deployed to Spin, and the same
//! `SPIN_VARIABLE_*` names configure both.

// Generated ABI glue is `unsafe`; the workspace forbids it elsewhere, this crate only denies it
// so that the two generated modules below may allow it.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "adapter",
        path: "wit",
        generate_all,
    });
}

use bindings::exports::wasi::config::store::{Error, Guest};

/// Spin's environment provider reads `SPIN_VARIABLE_<NAME IN UPPER CASE>`.
const PREFIX: &str = "SPIN_VARIABLE_";

struct Adapter;

/// Spin's rule for variable names: lower-case letters, digits and single underscores, starting
/// with a letter and not ending with an underscore.
fn is_spin_name(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && !key.ends_with('_')
        && !key.contains("__")
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Guest for Adapter {
    fn get(key: String) -> Result<Option<String>, Error> {
        // Spin answers `Ok(None)` for a name that is not a variable name (upper case, say);
        // so does this, so that a component asking for `JWT_SECRET` fails here as it would
        // there.
        if !is_spin_name(&key) {
            return Ok(None);
        }
        Ok(std::env::var(format!("{PREFIX}{}", key.to_ascii_uppercase())).ok())
    }

    fn get_all() -> Result<Vec<(String, String)>, Error> {
        Ok(std::env::vars()
            .filter_map(|(name, value)| {
                let key = name.strip_prefix(PREFIX)?.to_ascii_lowercase();
                Some((key, value))
            })
            .collect())
    }
}

#[allow(unsafe_code)]
mod export {
    use super::{Adapter, bindings};
    bindings::export!(Adapter with_types_in bindings);
}
