//! Escaping for the HTML report: every piece of text in it (keys, violation texts, labels) comes
//! from outside and may hold any Unicode, markup characters or control characters, so nothing
//! reaches the page without going through [`text`].

use std::fmt::Write as _;

/// `value` safe as HTML text and as a double- or single-quoted attribute value: `& < > " '`
/// become character references, and control characters (other than tab and line feed) become
/// visible `\u{..}` escapes, so a key cannot forge markup or hide characters.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `value` as a plot label: control characters become spaces (the SVG backend escapes markup
/// itself, but not control characters) and the text is cut to `max` characters with `…`.
pub fn label(value: &str, max: usize) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_references() {
        assert_eq!(
            text(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn unicode_is_kept_and_controls_are_visible() {
        assert_eq!(text("été 日本 🎉"), "été 日本 🎉");
        assert_eq!(text("a\u{0}b\u{1b}c\rd\ne"), "a\\u{0}b\\u{1b}c\\u{d}d\ne");
        assert_eq!(text("\u{85}"), "\\u{85}");
    }

    #[test]
    fn labels_lose_controls_and_are_cut_on_characters() {
        assert_eq!(label("a\nb", 10), "a b");
        assert_eq!(label("ééééé", 3), "éé…");
        assert_eq!(label("abc", 3), "abc");
    }
}
