//! Embeds the npm `jsqr` QR decoder into the scanner page's assets when the pages are compiled
//! in (feature `embedded-pages`, the Spin build; Workers serves the same file as a static asset,
//! `scripts/worker-assets.mjs`). It is installed by `scripts/setup.sh` (npm); a checkout
//! without `node_modules` (e.g. a plain `cargo check`) gets a stub, and the page then relies on
//! the browser's `BarcodeDetector`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_EMBEDDED_PAGES").is_none() {
        return;
    }
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let source = manifest.join("../node_modules/jsqr/dist/jsQR.js");
    println!("cargo:rerun-if-changed={}", source.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("jsQR.js");
    let text = std::fs::read_to_string(&source).unwrap_or_else(|_| {
        "/* jsqr is not installed (run scripts/setup.sh); BarcodeDetector only. */\n".to_owned()
    });
    if let Err(e) = std::fs::write(&out, text) {
        panic!("cannot write {}: {e}", out.display());
    }
}
