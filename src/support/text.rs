//! Untrusted text: made safe to echo in error descriptions, and the rules admin text obeys.

/// A short, safe rendering of untrusted text for error descriptions.
pub fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(64).collect();
    if text.chars().count() > 64 {
        format!("{clean}…")
    } else {
        clean
    }
}

/// Whether `c` is a bidirectional formatting character (Unicode TR9), which can make a name
/// read differently from what it is (`U+202E` turns "exe.txt" around).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` shows nothing: white space and the zero-width and format characters.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_bidi_control(c)
        || matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Whether admin text is free of control characters (a line break only where `multiline`) and
/// of bidirectional formatting characters.
pub fn is_clean(text: &str, multiline: bool) -> bool {
    !text
        .chars()
        .any(|c| (c.is_control() && !(multiline && c == '\n')) || is_bidi_control(c))
}

/// Whether text has at least one character that shows.
pub fn is_visible(text: &str) -> bool {
    text.chars().any(|c| !is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_strips_controls_and_truncates() {
        assert_eq!(printable("a\nb"), "ab");
        assert_eq!(printable(&"x".repeat(100)).chars().count(), 65);
    }

    #[test]
    fn admin_text_has_no_controls_or_bidi_overrides_and_shows_something() {
        assert!(is_clean("Billing exporter", false));
        assert!(is_clean("two\nlines", true) && !is_clean("two\nlines", false));
        assert!(!is_clean("tab\there", true));
        assert!(!is_clean("invoice\u{202E}fdp.exe", false));
        assert!(!is_clean("\u{2067}x", true));
        assert!(is_visible(" a "));
        assert!(!is_visible("\u{200B}\u{FEFF} \u{2060}"));
    }
}
