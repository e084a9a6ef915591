//! A code as an SVG QR image.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Renders `text` as a QR code in SVG, `module_px` pixels per module, with the standard
/// four-module quiet zone. Medium error correction: passes (~215 characters) stay at version
/// 10 or below, which phone cameras read at arm's length.
///
/// # Errors
/// When `text` is too long for any QR version.
pub fn render(text: &str, module_px: u32) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
