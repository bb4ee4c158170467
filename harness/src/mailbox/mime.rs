//! Raw RFC 822 / MIME mail to [`MailReceived`], shared by the mailboxes that see real mail.
//!
//! The SMTP sink and the S3 mailbox both hold the bytes a mail server delivered; the oracle wants
//! what a reader sees: the recipients, the Subject (RFC 2047 encoded-words decoded) and the text
//! body (transfer encoding and charset decoded). All MIME work is done by `mailparse`; this
//! module only decides which part is "the body": the first text/plain part that is not an
//! attachment (so a multipart/alternative mail gives its plain-text alternative), else the first
//! text part of any kind (an HTML-only mail gives its HTML).

use mailparse::{DispositionType, MailAddr, MailHeaderMap, ParsedMail};

use crate::oracle::MailReceived;

/// Why a mail could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MimeError {
    /// mailparse rejected the message or could not decode its body.
    #[error("malformed mail: {0}")]
    Malformed(#[from] mailparse::MailParseError),
    /// The message has no text part to read the alert from.
    #[error("mail has no text part (its type is {0})")]
    NoTextPart(String),
}

/// Parses one raw mail (the bytes of RFC 822 headers and body, as delivered by SMTP or stored by
/// SES in S3) received `at_ms` milliseconds after the run's epoch.
///
/// `to` holds the bare addresses of the To: headers; a mailbox that knows the envelope (the SMTP
/// sink) replaces them with the envelope recipients. A To: header that is not a valid address
/// list is kept as its decoded text, so a sloppy header never loses a mail. Line ends of the body
/// are normalized to `\n` (SMTP carries them as CRLF); trailing ones are kept as delivered (SMTP
/// and MIME layout may add one each, which the line-oriented oracle ignores).
pub fn parse_mail(raw: &[u8], at_ms: u64) -> Result<MailReceived, MimeError> {
    let mail = mailparse::parse_mail(raw)?;
    let part =
        body_part(&mail).ok_or_else(|| MimeError::NoTextPart(mail.ctype.mimetype.clone()))?;
    Ok(MailReceived {
        to: recipients(&mail),
        subject: mail.headers.get_first_value("Subject").unwrap_or_default(),
        body: part.get_body()?.replace("\r\n", "\n"),
        at_ms,
    })
}

/// The part a reader sees: the first inline text/plain part, else the first inline text part.
fn body_part<'a>(mail: &'a ParsedMail<'a>) -> Option<&'a ParsedMail<'a>> {
    let texts: Vec<&ParsedMail> = mail
        .parts()
        .filter(|p| p.ctype.mimetype.starts_with("text/"))
        .filter(|p| p.get_content_disposition().disposition != DispositionType::Attachment)
        .collect();
    texts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .or(texts.first())
        .copied()
}

/// The addresses of every To: header, groups flattened.
fn recipients(mail: &ParsedMail) -> Vec<String> {
    let mut to = Vec::new();
    for header in mail.headers.get_all_headers("To") {
        match mailparse::addrparse_header(header) {
            Ok(list) => {
                for addr in list.iter() {
                    match addr {
                        MailAddr::Single(single) => to.push(single.addr.clone()),
                        MailAddr::Group(group) => {
                            to.extend(group.addrs.iter().map(|a| a.addr.clone()));
                        }
                    }
                }
            }
            Err(_) => to.push(header.get_value().trim().to_owned()),
        }
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crlf(text: &str) -> Vec<u8> {
        text.replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn multipart_alternative_gives_the_plain_text_part() {
        let raw = crlf(concat!(
            "To: \"Ops\" <ops@example.com>, dev@example.com\n",
            "Subject: =?utf-8?b?W1NFQ1VSSVRZXSBVbnZlcnNjaGzDvHNzZWx0OiBjYWbDqS50eHQ=?=\n",
            "MIME-Version: 1.0\n",
            "Content-Type: multipart/alternative; boundary=\"b1\"\n",
            "\n",
            "--b1\n",
            "Content-Type: text/html; charset=utf-8\n",
            "\n",
            "<p>html</p>\n",
            "--b1\n",
            "Content-Type: text/plain; charset=utf-8\n",
            "Content-Transfer-Encoding: quoted-printable\n",
            "\n",
            "Gr=C3=B6=C3=9Fe: 5 bytes =E2=9C=93 and a soft=\n",
            " break\n",
            "--b1--\n",
        ));
        let mail = parse_mail(&raw, 7).unwrap();
        assert_eq!(mail.to, ["ops@example.com", "dev@example.com"]);
        assert_eq!(mail.subject, "[SECURITY] Unverschlüsselt: café.txt");
        assert_eq!(mail.body, "Größe: 5 bytes ✓ and a soft break");
        assert_eq!(mail.at_ms, 7);
    }

    #[test]
    fn single_part_base64_latin1_body_is_decoded() {
        // "Größe\n" in ISO-8859-1, base64-encoded.
        let raw = crlf(concat!(
            "To: x@example.com\n",
            "Subject: plain\n",
            "Content-Type: text/plain; charset=iso-8859-1\n",
            "Content-Transfer-Encoding: base64\n",
            "\n",
            "R3L232UK\n",
        ));
        let mail = parse_mail(&raw, 0).unwrap();
        assert_eq!(mail.body, "Größe\n");
    }

    #[test]
    fn without_content_type_the_body_is_plain_text() {
        let mail = parse_mail(b"Subject: hi\r\n\r\nline 1\r\nline 2\r\n", 0).unwrap();
        assert_eq!(mail.subject, "hi");
        assert!(mail.to.is_empty());
        assert_eq!(mail.body, "line 1\nline 2\n");
    }

    #[test]
    fn html_only_mail_gives_the_html_and_attachments_are_skipped() {
        let raw = crlf(concat!(
            "Content-Type: multipart/mixed; boundary=m\n",
            "\n",
            "--m\n",
            "Content-Type: text/plain\n",
            "Content-Disposition: attachment; filename=notes.txt\n",
            "\n",
            "attached\n",
            "--m\n",
            "Content-Type: text/html\n",
            "\n",
            "<b>shown</b>\n",
            "--m--\n",
        ));
        assert_eq!(parse_mail(&raw, 0).unwrap().body, "<b>shown</b>");
    }

    #[test]
    fn groups_are_flattened_and_a_bad_to_header_is_kept_as_text() {
        let grouped = b"To: team: a@example.com, b@example.com;\r\n\r\nx\r\n";
        assert_eq!(
            parse_mail(grouped, 0).unwrap().to,
            ["a@example.com", "b@example.com"]
        );
        let sloppy = b"To: not an address\r\n\r\nx\r\n";
        assert_eq!(parse_mail(sloppy, 0).unwrap().to, ["not an address"]);
    }

    #[test]
    fn a_mail_without_text_is_an_error() {
        let raw = b"Content-Type: image/png\r\n\r\nPNG\r\n";
        let err = parse_mail(raw, 0).unwrap_err();
        assert!(
            matches!(err, MimeError::NoTextPart(ref t) if t == "image/png"),
            "{err}"
        );
    }
}
