//! A tiny SMTP sink on loopback that keeps every mail for [`Mailbox::poll`].
//!
//! Where SNS email goes out over SMTP (LocalStack Pro, a relay), the harness needs a server to
//! receive it so the oracle can read the real MIME the recipient would get. No well-kept async
//! SMTP server crate exists to build on, so this is a deliberately small one: it speaks the
//! subset of RFC 5321 a submitting client needs (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
//! answers everything else with 502, never relays and never authenticates. It is bounded: lines,
//! recipients and message size are capped ([`MAX_MESSAGE_BYTES`] → 552) and idle connections
//! are closed. The MIME is read by [`parse_mail`](super::mime::parse_mail) (mailparse).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::Mailbox;
use super::mime::parse_mail;
use crate::oracle::MailReceived;

/// The largest message accepted; a bigger one is read to its end, answered 552 and dropped.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Recipients per message (RFC 5321 §4.5.3.1.8 asks servers to take at least 100).
const MAX_RECIPIENTS: usize = 100;

/// The longest command line (RFC 5321 allows 512 octets; extensions may add parameters). Longer
/// lines inside DATA are fine: they are read in pieces of this size.
const MAX_LINE_BYTES: usize = 4096;

/// A connection silent this long is closed with 421.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How the sink introduces itself.
const NAME: &str = "harness-smtp-sink";

/// One accepted message.
#[derive(Debug)]
struct Received {
    /// The RCPT TO addresses, without angle brackets.
    recipients: Vec<String>,
    /// The message as delivered: dot-unstuffed, CRLF line ends, without the final `.` line.
    raw: Vec<u8>,
    at: Instant,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// An SMTP server on `127.0.0.1` (ephemeral port) that accepts any mail and keeps it until
/// [`Mailbox::poll`] returns it.
///
/// It is where the harness reads email alerts when they travel as real SMTP: LocalStack Pro
/// configured to deliver to it (its `SMTP_HOST` setting set to [`SmtpSink::addr`]), or any SMTP
/// relay told to forward there. Unlike LocalStack Community's SES introspection, the harness then
/// sees the real MIME (encoded-word subjects, quoted-printable or base64 bodies, alternatives)
/// and checks what a recipient would read.
///
/// Each mail's `to` is the envelope (every RCPT TO, Bcc included), its time is when DATA
/// completed. A mail that cannot be parsed stays in the sink and fails every poll, so the run
/// stops with the reason instead of losing the mail. Dropping the sink stops the server and
/// closes its connections. Start it inside a Tokio runtime.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Inbox,
    server: JoinHandle<()>,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and starts serving connections, each concurrently.
    pub fn start() -> io::Result<Self> {
        Self::start_with_limit(MAX_MESSAGE_BYTES)
    }

    fn start_with_limit(max_message: usize) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let inbox = Inbox::default();
        let server = tokio::spawn(serve(listener, inbox.clone(), max_message));
        Ok(Self {
            addr,
            inbox,
            server,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Dropping the server's future drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

impl Mailbox for SmtpSink {
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        let mails = inbox
            .iter()
            .map(|r| {
                let at_ms = r.at.saturating_duration_since(epoch).as_millis() as u64;
                let mut mail = parse_mail(&r.raw, at_ms).map_err(|e| {
                    format!(
                        "mail to {:?} at the SMTP sink {}: {e}",
                        r.recipients, self.addr
                    )
                })?;
                mail.to = r.recipients.clone();
                Ok(mail)
            })
            .collect::<Result<Vec<_>, String>>()?;
        inbox.clear();
        Ok(mails)
    }
}

/// Accepts connections until aborted; finished sessions are reaped as they end.
async fn serve(listener: TcpListener, inbox: Inbox, max_message: usize) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(stream, inbox.clone(), max_message));
                }
                // Out of descriptors or an aborted handshake: wait a little instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// One SMTP conversation; an I/O error or an idle timeout ends it.
async fn session(mut stream: TcpStream, inbox: Inbox, max_message: usize) -> io::Result<()> {
    let (read, mut write) = stream.split();
    let mut read = BufReader::new(read);
    match converse(&mut read, &mut write, &inbox, max_message).await {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            reply(&mut write, "421 4.4.2 Idle too long, closing").await
        }
        other => other,
    }
}

/// The command loop: one reply per command, until QUIT, the end of the stream or an error.
async fn converse<R, W>(read: &mut R, write: &mut W, inbox: &Inbox, max: usize) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    reply(write, &format!("220 {NAME} ESMTP ready")).await?;
    // The transaction in progress: MAIL given, and its recipients.
    let mut mail_from = false;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        if !read_piece(read, &mut line).await? {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            return reply(write, "500 5.5.2 Line too long").await;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let answer = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" => {
                (mail_from, recipients) = (false, Vec::new());
                if verb.eq_ignore_ascii_case("EHLO") {
                    format!("250-{NAME}\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250 SMTPUTF8")
                } else {
                    format!("250 {NAME}")
                }
            }
            "MAIL" if mail_from => "503 5.5.1 Nested MAIL command".into(),
            "MAIL" => match path(arg, "FROM:") {
                Some(_) => {
                    mail_from = true;
                    "250 2.1.0 OK".into()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" if !mail_from => "503 5.5.1 MAIL first".into(),
            "RCPT" if recipients.len() >= MAX_RECIPIENTS => "452 4.5.3 Too many recipients".into(),
            "RCPT" => match path(arg, "TO:").filter(|a| !a.is_empty()) {
                Some(address) => {
                    recipients.push(address.to_owned());
                    "250 2.1.5 OK".into()
                }
                None => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
            },
            "DATA" if recipients.is_empty() => "503 5.5.1 RCPT first".into(),
            "DATA" => {
                reply(write, "354 End data with <CR><LF>.<CR><LF>").await?;
                let data = read_data(read, max).await?;
                let recipients = std::mem::take(&mut recipients);
                mail_from = false;
                match data {
                    Some(raw) => {
                        let mail = Received {
                            recipients,
                            raw,
                            at: Instant::now(),
                        };
                        inbox
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(mail);
                        "250 2.0.0 OK: queued".into()
                    }
                    None => format!("552 5.3.4 Message exceeds {max} bytes"),
                }
            }
            "RSET" => {
                (mail_from, recipients) = (false, Vec::new());
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => return reply(write, &format!("221 2.0.0 {NAME} closing")).await,
            _ => "502 5.5.1 Command not implemented".into(),
        };
        reply(write, &answer).await?;
    }
}

/// The message after `354`, up to the line holding a single `.`: dot-unstuffed, or `None` when
/// it exceeded `max` bytes (it is still read to its end, so the session can go on).
async fn read_data<R: AsyncBufRead + Unpin>(
    read: &mut R,
    max: usize,
) -> io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_big = false;
    let mut line_start = true;
    let mut piece = Vec::new();
    loop {
        if !read_piece(read, &mut piece).await? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if line_start && matches!(piece.as_slice(), b".\r\n" | b".\n") {
            return Ok((!too_big).then_some(message));
        }
        let content = match piece.strip_prefix(b".") {
            Some(unstuffed) if line_start => unstuffed,
            _ => &piece[..],
        };
        too_big |= message.len() + content.len() > max;
        if !too_big {
            message.extend_from_slice(content);
        }
        line_start = piece.ends_with(b"\n");
    }
}

/// Reads up to and including the next LF, at most [`MAX_LINE_BYTES`]; false at end of stream.
async fn read_piece<R: AsyncBufRead + Unpin>(
    read: &mut R,
    piece: &mut Vec<u8>,
) -> io::Result<bool> {
    piece.clear();
    let mut limited = read.take(MAX_LINE_BYTES as u64);
    match tokio::time::timeout(IDLE_TIMEOUT, limited.read_until(b'\n', piece)).await {
        Ok(n) => Ok(n? > 0),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Writes one reply (a multi-line one already joined by CRLF) and flushes it.
async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> io::Result<()> {
    write.write_all(format!("{text}\r\n").as_bytes()).await?;
    write.flush().await
}

/// The address in `FROM:<address> params` or `TO:<address> params` (`<>` gives ""); the keyword
/// is case-insensitive and a bare address without brackets is taken too.
fn path<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = arg
        .get(..keyword.len())
        .filter(|k| k.eq_ignore_ascii_case(keyword))
        .map(|_| arg[keyword.len()..].trim_start())?;
    match rest.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>').map(|(address, _)| address),
        None => rest.split_whitespace().next(),
    }
}

#[cfg(test)]
mod tests;
