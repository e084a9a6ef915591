//! Bounded human text (titles, venues, names, labels): the one rule set the catalog newtypes
//! share, so "what counts as a character" and "which characters are allowed" are decided once.

/// Whether line breaks and tabs are allowed (descriptions) or not (titles, labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    Single,
    Multi,
}

/// Trims `s` and checks it holds `min..=max` characters (Unicode scalar values, not bytes, so
/// the limit means the same in every script) and no control characters.
///
/// # Errors
/// A message saying what is wrong.
pub(crate) fn bounded(s: &str, min: usize, max: usize, lines: Lines) -> Result<String, String> {
    let trimmed = s.trim();
    let count = trimmed.chars().count();
    if count < min {
        return Err(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if count > max {
        return Err(format!("must be at most {max} characters"));
    }
    let allowed = |c: char| !c.is_control() || (lines == Lines::Multi && matches!(c, '\n' | '\t'));
    // `\r\n` is normal in text from browsers on Windows; a lone `\r` is not worth a rejection.
    if let Some(bad) = trimmed.chars().find(|&c| c != '\r' && !allowed(c)) {
        return Err(format!("must not contain the control character {bad:?}"));
    }
    if lines == Lines::Single && trimmed.contains('\r') {
        return Err("must be a single line".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Declares a newtype over [`bounded`] text: private field, `parse`, `as_str`, `AsRef<str>`.
macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $lines:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted text, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks the text.
            ///
            /// # Errors
            /// A message saying what is wrong.
            pub fn parse(s: &str) -> Result<Self, String> {
                $crate::domain::text::bounded(s, $min, $max, $lines).map($name)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use text_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded("  Hé  ", 1, 2, Lines::Single), Ok("Hé".to_owned()));
        assert!(bounded("Héé", 1, 2, Lines::Single).is_err());
        assert!(bounded("   ", 1, 2, Lines::Single).is_err());
        assert_eq!(bounded("", 0, 2, Lines::Single), Ok(String::new()));
    }

    #[test]
    fn line_breaks_only_where_allowed() {
        assert!(bounded("a\nb", 1, 9, Lines::Single).is_err());
        assert!(bounded("a\r\nb", 1, 9, Lines::Single).is_err());
        assert_eq!(
            bounded("a\r\n\tb", 1, 9, Lines::Multi),
            Ok("a\r\n\tb".to_owned())
        );
        assert!(bounded("a\u{0}b", 1, 9, Lines::Multi).is_err());
        assert!(bounded("a\u{1b}b", 1, 9, Lines::Multi).is_err());
    }
}
