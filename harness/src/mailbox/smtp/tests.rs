//! Tests of the SMTP sink: mails sent by a real SMTP client (lettre) over loopback must come back
//! from `poll` as a reader sees them, and the protocol's error answers are checked on a raw
//! socket.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, MessageBuilder, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::*;

const TO: &str = "ops@example.com";

fn message(subject: &str) -> MessageBuilder {
    Message::builder()
        .from(
            "AWS Notifications <no-reply@sns.amazonaws.com>"
                .parse()
                .unwrap(),
        )
        .to(TO.parse().unwrap())
        .subject(subject)
}

/// Sends with a fresh lettre transport (one connection per mail, no TLS).
async fn send(sink: &SmtpSink, message: Message) {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.addr().ip().to_string())
        .port(sink.addr().port())
        .build()
        .send(message)
        .await
        .unwrap();
}

/// The one mail the sink holds, checking the raw message contains `wire` (so the test really
/// exercises the encoding it claims to). Bodies are compared without trailing line ends: SMTP
/// and lettre's MIME layout each end the text with one more CRLF.
async fn only_mail(sink: &mut SmtpSink, epoch: Instant, wire: &str) -> MailReceived {
    {
        let inbox = sink.inbox.lock().unwrap();
        let raw = String::from_utf8_lossy(&inbox[0].raw);
        assert!(raw.contains(wire), "{wire:?} not in\n{raw}");
    }
    let mut mails = sink.poll(epoch).await.unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    mails.pop().unwrap()
}

#[tokio::test]
async fn multipart_alternative_gives_the_text_part() {
    let mut sink = SmtpSink::start().unwrap();
    let epoch = Instant::now();
    let parts = MultiPart::alternative_plain_html(
        String::from("plain alert\nsecond line"),
        String::from("<p>html alert</p>"),
    );
    send(&sink, message("Upload").multipart(parts).unwrap()).await;
    let mail = only_mail(&mut sink, epoch, "multipart/alternative").await;
    assert_eq!(mail.to, [TO]);
    assert_eq!(mail.subject, "Upload");
    assert_eq!(mail.body.trim_end(), "plain alert\nsecond line");
    assert!(mail.at_ms < 10_000, "{}", mail.at_ms);
}

#[tokio::test]
async fn quoted_printable_non_ascii_body_is_decoded() {
    let mut sink = SmtpSink::start().unwrap();
    let text = format!("Größe: 5 bytes ✓\nKey: {}\n", "ä".repeat(60));
    let body = Body::new_with_encoding(text.clone(), ContentTransferEncoding::QuotedPrintable);
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body.unwrap());
    send(&sink, message("QP").singlepart(part).unwrap()).await;
    // `=\r\n` is a soft line break: the long line was folded on the wire.
    let mail = only_mail(&mut sink, Instant::now(), "=\r\n").await;
    assert_eq!(mail.body.trim_end(), text.trim_end());
}

#[tokio::test]
async fn encoded_word_subject_is_decoded() {
    let mut sink = SmtpSink::start().unwrap();
    let subject = "[SECURITY] Unverschlüsselt: café.txt";
    let mail = message(subject).body(String::from("alert")).unwrap();
    send(&sink, mail).await;
    let mail = only_mail(&mut sink, Instant::now(), "=?utf-8?b?").await;
    assert_eq!(mail.subject, subject);
}

#[tokio::test]
async fn every_envelope_recipient_is_in_to() {
    let mut sink = SmtpSink::start().unwrap();
    let mail = message("Many")
        .to("Second <second@example.com>".parse().unwrap())
        .cc("cc@example.com".parse().unwrap())
        .bcc("hidden@example.com".parse().unwrap())
        .body(String::from("alert"))
        .unwrap();
    send(&sink, mail).await;
    let mut mail = only_mail(&mut sink, Instant::now(), "To: ").await;
    mail.to.sort();
    // The Bcc recipient is only in the envelope, so `to` comes from RCPT TO.
    let want = [
        "cc@example.com",
        "hidden@example.com",
        TO,
        "second@example.com",
    ];
    assert_eq!(mail.to, want);
}

#[tokio::test]
async fn two_mails_are_each_returned_once() {
    let mut sink = SmtpSink::start().unwrap();
    let epoch = Instant::now();
    for subject in ["first", "second"] {
        send(&sink, message(subject).body(String::from("x")).unwrap()).await;
    }
    let mails = sink.poll(epoch).await.unwrap();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["first", "second"]);
    assert!(mails[0].at_ms <= mails[1].at_ms);
    assert!(sink.poll(epoch).await.unwrap().is_empty());
    send(&sink, message("third").body(String::from("x")).unwrap()).await;
    let mails = sink.poll(epoch).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "third");
}

#[tokio::test]
async fn lines_starting_with_a_dot_are_unstuffed() {
    let mut sink = SmtpSink::start().unwrap();
    let text = "first\n.hidden\n..two dots\n.\nlast";
    send(&sink, message("Dots").body(String::from(text)).unwrap()).await;
    let mail = only_mail(&mut sink, Instant::now(), "\r\n.hidden\r\n").await;
    assert_eq!(mail.body.trim_end(), text);
}

/// A raw client: sends a line and returns the full (possibly multi-line) reply.
struct Raw {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(sink: &SmtpSink) -> (Self, String) {
        let (read, write) = TcpStream::connect(sink.addr()).await.unwrap().into_split();
        let mut raw = Self {
            read: BufReader::new(read),
            write,
        };
        let greeting = raw.reply().await;
        (raw, greeting)
    }

    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            assert!(self.read.read_line(&mut line).await.unwrap() > 0, "closed");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    async fn say(&mut self, line: &str) -> String {
        self.write
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn protocol_errors_are_answered_and_the_session_goes_on() {
    let mut sink = SmtpSink::start_with_limit(16).unwrap();
    let (mut raw, greeting) = Raw::connect(&sink).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    let mut expect = async |line: &str, code: &str| {
        let reply = raw.say(line).await;
        assert!(reply.starts_with(code), "{line:?} got {reply:?}");
    };
    expect("VRFY root", "502").await;
    expect("STARTTLS", "502").await;
    expect("DATA", "503").await;
    expect("RCPT TO:<a@example.com>", "503").await;
    expect("EHLO client", "250-").await;
    expect("MAIL FROM:<>", "250").await;
    expect("MAIL FROM:<>", "503").await;
    expect("DATA", "503").await;
    expect("RCPT TO:<>", "501").await;
    expect("rcpt to:<a@example.com> NOTIFY=NEVER", "250").await;
    expect("DATA", "354").await;
    expect(
        "Subject: far more than sixteen bytes\r\n\r\nbody\r\n.",
        "552",
    )
    .await;
    expect("NOOP", "250").await;
    expect("RSET", "250").await;
    expect("QUIT", "221").await;
    assert!(sink.poll(Instant::now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn dropping_the_sink_stops_the_server() {
    let sink = SmtpSink::start().unwrap();
    let addr = sink.addr();
    let (mut raw, _) = Raw::connect(&sink).await;
    drop(sink);
    // The open session is aborted with the server, and nobody listens any more.
    let mut rest = String::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), raw.read.read_line(&mut rest))
        .await
        .expect("the session outlived the sink");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?} {rest:?}");
    assert!(TcpStream::connect(addr).await.is_err());
}
