//! The two wire protocols: parsing client messages and writing server frames.

use async_graphql::http::WebSocketProtocols;
use serde_json::Value;

use super::Out;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the `graphql-ws` library).
    Transport,
    /// `graphql-ws` (the legacy subscriptions-transport-ws).
    Legacy,
}

impl From<WebSocketProtocols> for Protocol {
    fn from(p: WebSocketProtocols) -> Self {
        match p {
            WebSocketProtocols::GraphQLWS => Protocol::Transport,
            WebSocketProtocols::SubscriptionsTransportWS => Protocol::Legacy,
        }
    }
}

#[derive(Debug)]
pub enum ClientMessage {
    Init(Value),
    Subscribe {
        id: String,
        request: Box<async_graphql::Request>,
    },
    Complete(String),
    Ping(Option<Value>),
    Pong,
    Terminate,
}

/// Parses a client message; None when it is not one of the protocol's messages.
pub fn parse(protocol: Protocol, raw: &[u8]) -> Option<ClientMessage> {
    let mut msg: serde_json::Map<String, Value> = serde_json::from_slice(raw).ok()?;
    let ty = msg.get("type")?.as_str()?.to_owned();
    let payload = msg.remove("payload");
    let id = || msg.get("id").and_then(Value::as_str).map(str::to_owned);
    Some(match (protocol, ty.as_str()) {
        (_, "connection_init") => ClientMessage::Init(match payload {
            Some(Value::Object(o)) => Value::Object(o),
            _ => Value::Object(Default::default()),
        }),
        (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
            ClientMessage::Subscribe {
                id: id()?,
                request: serde_json::from_value(payload?).ok()?,
            }
        }
        (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => {
            ClientMessage::Complete(id()?)
        }
        (Protocol::Transport, "ping") => ClientMessage::Ping(payload),
        (Protocol::Transport, "pong") => ClientMessage::Pong,
        (Protocol::Legacy, "connection_terminate") => ClientMessage::Terminate,
        _ => return None,
    })
}

pub fn ack(protocol: Protocol) -> Vec<String> {
    let mut frames = vec![r#"{"type":"connection_ack"}"#.to_string()];
    if protocol == Protocol::Legacy {
        frames.push(keep_alive());
    }
    frames
}

pub fn connection_error(message: &str) -> String {
    serde_json::json!({ "type": "connection_error", "payload": { "message": message } }).to_string()
}

pub fn keep_alive() -> String {
    r#"{"type":"ka"}"#.to_string()
}

pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(p) => format!(r#"{{"type":"pong","payload":{p}}}"#),
        None => r#"{"type":"pong"}"#.to_string(),
    }
}

/// Frames for one output. `id_json` is the id already encoded as a JSON string, so shared
/// payloads are copied into each frame without being serialized again.
pub fn frames(protocol: Protocol, id_json: &str, out: &Out) -> Vec<String> {
    let next = match protocol {
        Protocol::Transport => "next",
        Protocol::Legacy => "data",
    };
    match out {
        Out::Next(payload) => vec![format!(
            r#"{{"id":{id_json},"type":"{next}","payload":{payload}}}"#
        )],
        Out::Error(errors) => {
            let mut frames = vec![format!(
                r#"{{"id":{id_json},"type":"error","payload":{errors}}}"#
            )];
            // Legacy clients also expect `complete` after an error.
            if protocol == Protocol::Legacy {
                frames.push(format!(r#"{{"id":{id_json},"type":"complete"}}"#));
            }
            frames
        }
        Out::Complete => vec![format!(r#"{{"id":{id_json},"type":"complete"}}"#)],
    }
}

pub fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_dialects() {
        let sub = br#"{"id":"1","type":"subscribe","payload":{"query":"subscription { marketState { isOpen } }"}}"#;
        assert!(matches!(
            parse(Protocol::Transport, sub),
            Some(ClientMessage::Subscribe { .. })
        ));
        assert!(parse(Protocol::Legacy, sub).is_none());
        let start = br#"{"id":"1","type":"start","payload":{"query":"{ __typename }"}}"#;
        assert!(matches!(
            parse(Protocol::Legacy, start),
            Some(ClientMessage::Subscribe { .. })
        ));
        assert!(parse(Protocol::Transport, b"not json").is_none());
        assert!(parse(Protocol::Transport, br#"{"type":"subscribe","payload":{}}"#).is_none());
    }

    #[test]
    fn frames_embed_the_shared_payload_verbatim() {
        let out = Out::Next(r#"{"data":{"x":1}}"#.into());
        let id = json_string("a\"b");
        assert_eq!(
            frames(Protocol::Transport, &id, &out),
            vec![r#"{"id":"a\"b","type":"next","payload":{"data":{"x":1}}}"#.to_string()]
        );
        assert!(frames(Protocol::Legacy, &id, &out)[0].contains(r#""type":"data""#));
    }
}
