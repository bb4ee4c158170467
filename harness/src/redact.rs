//! Secrets in URLs are never printed or written: an endpoint given as
//! `http://user:secret@host` keeps working for the connections the harness makes, but every
//! text meant for people (progress, errors, replay commands, reports) shows it as
//! `http://user:***@host`. [`secrets`] is applied where such text is made from an endpoint
//! (target descriptions, replay flags, connection errors) and once more at the edges that print
//! or write (the binary's error line, the report files), so a URL quoted inside a library's
//! error text is caught too.

use std::borrow::Cow;

/// `text` with the password (or the whole user info when it has no `:`) of every
/// `scheme://user:password@host` URL in it replaced by `***`.
pub fn secrets(text: &str) -> Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the first `/`, `?`, `#` or character that cannot be in a URL.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || "\"'<>()`".contains(c)
            })
            .unwrap_or(after.len());
        let (authority, tail) = after.split_at(end);
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.split_once(':') {
                    Some((user, _password)) => out.push_str(&format!("{user}:***")),
                    None => out.push_str("***"),
                }
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = tail;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_in_urls_are_hidden() {
        assert_eq!(
            secrets("http://user:s3cret@ls:4566/_localstack/health"),
            "http://user:***@ls:4566/_localstack/health"
        );
        assert_eq!(secrets("https://tok3n@host"), "https://***@host");
        assert_eq!(
            secrets("error sending request for url (http://a:b@h:1/x): refused; see http://c:d@e"),
            "error sending request for url (http://a:***@h:1/x): refused; see http://c:***@e"
        );
        // Mail addresses and URLs without user info are left as they are.
        assert_eq!(secrets("alerts+run@example.com"), "alerts+run@example.com");
        assert_eq!(
            secrets("http://127.0.0.1:4566/path@x"),
            "http://127.0.0.1:4566/path@x"
        );
        assert!(matches!(secrets("no url here"), Cow::Borrowed(_)));
    }
}
