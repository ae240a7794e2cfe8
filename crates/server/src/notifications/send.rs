//! Sending one notice to one channel: HTTP for webhooks, Alertmanager and Slack (no
//! redirects followed, a timeout on every send), SMTP through lettre for email.

use std::time::Duration;

use jiff::Timestamp;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use slod_store::{Channel, ChannelKind};

use super::message::{self, Notice};

/// How long one send may take, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How a send went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Accepted (`status`: the HTTP status; `None` for SMTP).
    Accepted { status: Option<u16> },
    /// Failed, and worth trying again (a 5xx, 408, 429, a timeout, a refused connection).
    Retry { status: Option<u16>, error: String },
    /// Refused for good (any other 4xx, a redirect, an invalid address): retrying would
    /// only repeat it.
    Refused { status: Option<u16>, error: String },
}

/// The HTTP client notifications are sent with: redirects are not followed (a receiver that
/// moved must be configured with its new URL, and a redirect cannot leak a signed body
/// elsewhere), and every request ends within [`SEND_TIMEOUT`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .user_agent(concat!("slod/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS roots load")
}

/// Sends notices. Cheap to clone (the HTTP client is shared).
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    /// Seconds between alert evaluations: a firing alert sent to Alertmanager ends four of
    /// them later.
    alerts_interval: u64,
}

impl Sender {
    /// A sender over `http` (see [`client`]) whose firing Alertmanager alerts last four
    /// `alerts_interval` seconds.
    pub fn new(http: reqwest::Client, alerts_interval: u64) -> Self {
        Sender {
            http,
            alerts_interval,
        }
    }

    /// Sends `notice` to `channel` at `now` under `idempotency_key`.
    pub async fn send(
        &self,
        channel: &Channel,
        notice: &Notice,
        idempotency_key: &str,
        now: Timestamp,
    ) -> Sent {
        match channel.kind {
            ChannelKind::Webhook => {
                let body = serde_json::to_vec(&message::webhook_body(notice))
                    .expect("a notice always encodes");
                let mut request = self
                    .http
                    .post(&channel.url)
                    .header("Content-Type", "application/json")
                    .header("Idempotency-Key", idempotency_key);
                if let Some(secret) = &channel.secret {
                    request = request.header(
                        message::SIGNATURE_HEADER,
                        message::signature(secret, now, &body),
                    );
                }
                self.http_send(request.body(body)).await
            }
            ChannelKind::Alertmanager => {
                let until = message::firing_until(now, self.alerts_interval);
                let body =
                    serde_json::Value::Array(vec![message::alertmanager_alert(notice, until)]);
                self.alertmanager(&channel.url, &body).await
            }
            ChannelKind::Slack => {
                let request = self
                    .http
                    .post(&channel.url)
                    .header("Idempotency-Key", idempotency_key)
                    .json(&message::slack_body(notice));
                self.http_send(request).await
            }
            ChannelKind::Email => self.email(channel, notice, idempotency_key).await,
        }
    }

    /// Posts `alerts` (an array) to Alertmanager at `base`.
    pub async fn alertmanager(&self, base: &str, alerts: &serde_json::Value) -> Sent {
        let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
        self.http_send(self.http.post(url).json(alerts)).await
    }

    async fn http_send(&self, request: reqwest::RequestBuilder) -> Sent {
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                let code = Some(status.as_u16());
                if status.is_success() {
                    Sent::Accepted { status: code }
                } else if status.is_server_error()
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                {
                    Sent::Retry {
                        status: code,
                        error: status.to_string(),
                    }
                } else if status.is_redirection() {
                    Sent::Refused {
                        status: code,
                        error: format!("{status}: redirects are not followed; use the final URL"),
                    }
                } else {
                    Sent::Refused {
                        status: code,
                        error: status.to_string(),
                    }
                }
            }
            Err(e) => Sent::Retry {
                status: None,
                error: describe(&e),
            },
        }
    }

    async fn email(&self, channel: &Channel, notice: &Notice, idempotency_key: &str) -> Sent {
        let refused = |error: String| Sent::Refused {
            status: None,
            error,
        };
        let Some(from) = channel.email_from.as_deref() else {
            return refused("the channel has no emailFrom".into());
        };
        let from: Mailbox = match from.parse() {
            Ok(from) => from,
            Err(e) => return refused(format!("emailFrom: {e}")),
        };
        let mut builder = Message::builder()
            .from(from)
            .subject(message::subject(notice))
            .message_id(Some(format!("<{idempotency_key}@slod>")))
            .header(ContentType::TEXT_PLAIN);
        for to in &channel.email_to {
            match to.parse::<Mailbox>() {
                Ok(to) => builder = builder.to(to),
                Err(e) => return refused(format!("emailTo: {e}")),
            }
        }
        let email = match builder.body(message::email_body(notice)) {
            Ok(email) => email,
            Err(e) => return refused(e.to_string()),
        };
        let transport = match smtp_transport(&channel.url, channel.secret.as_deref()) {
            Ok(transport) => transport,
            Err(e) => return refused(e),
        };
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(email)).await {
            Ok(Ok(_)) => Sent::Accepted { status: None },
            Ok(Err(e)) if e.is_permanent() => refused(e.to_string()),
            Ok(Err(e)) => Sent::Retry {
                status: None,
                error: e.to_string(),
            },
            Err(_) => Sent::Retry {
                status: None,
                error: format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
            },
        }
    }
}

/// The SMTP transport of `url` (`smtp://[user@]host[:port]`: STARTTLS when offered, required
/// when there is a password; `smtps://...`: TLS from the start), with `password` for `user`.
fn smtp_transport(
    url: &str,
    password: Option<&str>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| format!("url: {e}"))?;
    if let Some(password) = password {
        if !parsed.username().is_empty() {
            parsed
                .set_password(Some(password))
                .map_err(|()| "url: cannot carry a password".to_owned())?;
        }
    }
    let mut text = parsed.to_string();
    if parsed.scheme() == "smtp" && parsed.query().is_none() {
        // A password never crosses the network in clear: with one, STARTTLS is required.
        text.push_str(if password.is_some() {
            "?tls=required"
        } else {
            "?tls=opportunistic"
        });
    }
    let builder =
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&text).map_err(|e| e.to_string())?;
    Ok(builder.timeout(Some(SEND_TIMEOUT)).build())
}

/// A transport error in a few words (the cause chain, without the URL's query).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        format!("no answer within {} s", SEND_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        what
    } else {
        format!("{what}: {}", causes.join(": "))
    }
}
