//! The `event` notification line, written by hand for output deltas: the per-token path of
//! every relay, where `serde_json`'s generic serializer (and its byte-at-a-time string escaping)
//! was a large share of the cost. Unit tests hold it to the bytes `serde_json` writes.

use crate::protocol::methods::{self, Method};
use crate::runtime::json_scan;
use crate::runtime::{EventData, OutEvent};

/// `event` notification lines (each with its newline), as `serde_json` would write
/// `{"jsonrpc":"2.0","method":"event","params":event}` for each. An output delta's line is
/// written as bytes around the escaped text: the per-token path of every relay. The deltas of a
/// burst share their task, time and type, so what follows `seq` is written once per burst.
pub fn write_notifications(buf: &mut Vec<u8>, events: &[OutEvent<'_>]) -> serde_json::Result<()> {
    #[derive(serde::Serialize)]
    struct Notification<'a, 'b> {
        jsonrpc: &'static str,
        method: &'static str,
        params: &'a OutEvent<'b>,
    }
    // `,"taskId":…,"time":…,"type":…}}` and the newline, and the event it was written for.
    let mut tail = Vec::new();
    let mut tail_of: Option<&OutEvent<'_>> = None;
    let same = |a: &str, b: &str| a.as_ptr() == b.as_ptr() && a.len() == b.len();
    for event in events {
        let EventData::Text { text } = &event.data else {
            serde_json::to_writer(
                &mut *buf,
                &Notification {
                    jsonrpc: "2.0",
                    method: methods::EventNotification::NAME,
                    params: event,
                },
            )?;
            buf.push(b'\n');
            continue;
        };
        let reuse = tail_of.is_some_and(|t| {
            same(t.task_id, event.task_id) && same(t.time, event.time) && same(t.kind, event.kind)
        });
        if !reuse {
            tail.clear();
            tail.extend_from_slice(br#","taskId":"#);
            write_json_str(&mut tail, event.task_id);
            // An RFC 3339 time has nothing to escape.
            tail.extend_from_slice(br#","time":""#);
            tail.extend_from_slice(event.time.as_bytes());
            tail.extend_from_slice(br#"","type":"#);
            write_json_str(&mut tail, event.kind);
            tail.extend_from_slice(b"}}\n");
            tail_of = Some(event);
        }
        buf.extend_from_slice(br#"{"jsonrpc":"2.0","method":""#);
        buf.extend_from_slice(methods::EventNotification::NAME.as_bytes());
        buf.extend_from_slice(br#"","params":{"data":{"text":"#);
        write_json_str(buf, text);
        buf.extend_from_slice(br#"},"seq":"#);
        buf.extend_from_slice(itoa::Buffer::new().format(event.seq).as_bytes());
        buf.extend_from_slice(&tail);
    }
    Ok(())
}

/// `s` as a JSON string literal, escaped exactly as `serde_json` escapes it (`"`, `\\`, the
/// short escapes for \b \f \n \r \t, `\u00XX` for other control characters; nothing else):
/// runs of bytes that need nothing are found sixteen at a time and copied whole.
pub fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    let mut copied = 0;
    loop {
        let i = json_scan::find_special(bytes, copied);
        buf.extend_from_slice(&bytes[copied..i]);
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0x08 => buf.extend_from_slice(b"\\b"),
            0x0C => buf.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[(b >> 4) as usize]);
                buf.push(HEX[(b & 0xF) as usize]);
            }
        }
        copied = i + 1;
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every: String = (0u8..0x80).map(char::from).collect();
        every.push_str("é 😀 \u{2028} \u{fffd}");
        let mut cases = vec![every.clone(), String::new(), "plain text".into()];
        // Each special byte at every offset around the sixteen- and eight-byte steps.
        for at in 0..40 {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', '\u{7f}'] {
                let mut s: String = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"[..at].into();
                s.push(special);
                s.push_str("uvwxyz0123");
                cases.push(s);
            }
        }
        for s in cases {
            let mut ours = vec![];
            write_json_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    /// The hand-written output-delta lines are the lines `serde_json` writes for the same
    /// events, in a burst that changes task, time and type midway and has other events in it.
    #[test]
    fn output_delta_lines_are_what_serde_writes() {
        let (one, other) = (String::from("task-\"1\""), String::from("task-2"));
        let (t1, t2) = ("2026-11-28T01:17:08.123Z", "2026-11-28T01:17:09.456Z");
        let texts = ["token 1 ", "", "q\"uote\\ \n\t\u{1} é 😀 \u{2028}"];
        let mut events = vec![];
        for (i, (task_id, time)) in [(&one, t1), (&one, t1), (&other, t1), (&other, t2)]
            .into_iter()
            .enumerate()
        {
            for (j, text) in texts.iter().enumerate() {
                let event = |data, kind| OutEvent {
                    data,
                    seq: (i * 10 + j) as u64,
                    task_id,
                    time,
                    kind,
                };
                events.push(event(
                    EventData::Text {
                        text: Cow::Borrowed(text),
                    },
                    "agent.output.delta",
                ));
                if j == 1 {
                    events.push(event(EventData::Value(json!({ "n": i })), "agent.note"));
                    events.push(event(
                        EventData::Text {
                            text: Cow::Borrowed(text),
                        },
                        "agent.other",
                    ));
                }
            }
        }
        let mut ours = vec![];
        write_notifications(&mut ours, &events).unwrap();
        let generic: String = events
            .iter()
            .map(|e| {
                let data = match &e.data {
                    EventData::Text { text } => json!({ "text": text }),
                    EventData::Value(v) => v.clone(),
                };
                let params = json!({"data": data, "seq": e.seq, "taskId": e.task_id, "time": e.time, "type": e.kind});
                format!("{}\n", json!({"jsonrpc": "2.0", "method": "event", "params": params}))
            })
            .collect();
        assert_eq!(String::from_utf8(ours).unwrap(), generic);
    }
}
