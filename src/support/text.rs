//! Untrusted text made safe to echo in error descriptions.

/// A short, safe rendering of untrusted text for error descriptions.
pub fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(64).collect();
    if text.chars().count() > 64 {
        format!("{clean}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_strips_controls_and_truncates() {
        assert_eq!(printable("a\nb"), "ab");
        assert_eq!(printable(&"x".repeat(100)).chars().count(), 65);
    }
}
