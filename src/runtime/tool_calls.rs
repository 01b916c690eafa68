//! A tool call that ended, recorded once: the `toolCompleted` event the host sees and the
//! [`ToolCallRecord`] the task's result lists always agree (same id, name, status and output).

use serde_json::Value;

use crate::protocol::event::ToolCompleted;
use crate::protocol::result::{ToolCallRecord, ToolStatus};

/// Records the completed call `(id, name, input)` with its `(status, output)` in `records` and
/// returns its event (with no `vendor` member: a runtime that has one sets it). A `null` output
/// is recorded as no output.
pub fn complete(
    records: &mut Vec<ToolCallRecord>,
    (id, name, input): (String, String, Value),
    (status, output): (ToolStatus, Value),
    duration_ms: u64,
) -> ToolCompleted {
    let event = ToolCompleted {
        tool_call_id: id.clone(),
        name: name.clone(),
        status,
        output: output.clone(),
        vendor: None,
    };
    records.push(ToolCallRecord {
        id,
        name,
        input,
        output: (!output.is_null()).then_some(output),
        status,
        duration_ms,
    });
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_event_and_the_record_agree() {
        let mut records = vec![];
        let ev = complete(
            &mut records,
            ("t1".into(), "Bash".into(), json!({"command": "ls"})),
            (ToolStatus::Error, json!("exit 2")),
            7,
        );
        assert_eq!((ev.tool_call_id.as_str(), ev.name.as_str()), ("t1", "Bash"));
        assert_eq!(
            (ev.status, &ev.output),
            (ToolStatus::Error, &json!("exit 2"))
        );
        assert_eq!(
            records,
            vec![ToolCallRecord {
                id: "t1".into(),
                name: "Bash".into(),
                input: json!({"command": "ls"}),
                output: Some(json!("exit 2")),
                status: ToolStatus::Error,
                duration_ms: 7,
            }]
        );
        complete(
            &mut records,
            ("t2".into(), "x".into(), Value::Null),
            (ToolStatus::Ok, Value::Null),
            0,
        );
        assert_eq!(records[1].output, None, "null is no output");
    }
}
