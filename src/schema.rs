//! The JSON Schema of the whole protocol, generated from the wire types.
//! `agent-runtime-kit schema` prints it; `protocol/schema/protocol.schema.json` is its committed
//! copy, and a test fails when the two differ.

use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use crate::protocol::methods::{all_methods, Direction, Method, MethodVisitor};
use crate::protocol::{ErrorCode, PROTOCOL_VERSION};

struct Collect {
    generator: SchemaGenerator,
    methods: Map<String, Value>,
}

impl MethodVisitor for Collect {
    fn visit<M: Method>(&mut self) {
        let direction = match M::DIRECTION {
            Direction::HostRequest => "hostRequest",
            Direction::ServerRequest => "serverRequest",
            Direction::ServerNotification => "serverNotification",
        };
        let params = self.generator.subschema_for::<M::Params>();
        let mut entry = json!({ "direction": direction, "params": params });
        if M::DIRECTION != Direction::ServerNotification {
            entry["result"] = self.generator.subschema_for::<M::Result>().to_value();
        }
        self.methods.insert(M::NAME.to_string(), entry);
    }
}

/// The protocol bundle: methods, error codes and every type under `$defs`.
pub fn protocol_schema() -> Value {
    let settings = SchemaSettings::draft2020_12();
    let mut c = Collect {
        generator: settings.into_generator(),
        methods: Map::new(),
    };
    all_methods(&mut c);
    // Types a host handles directly, named in `$defs` even where no method refers to them by name.
    let _ = c.generator.subschema_for::<crate::protocol::EventBody>();
    let _ = c
        .generator
        .subschema_for::<crate::runtime::fixture::Script>();
    let errors: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| json!({ "code": c.code(), "kind": c.kind() }))
        .collect();
    let defs = c.generator.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "agent-runtime-kit protocol",
        "protocolVersion": PROTOCOL_VERSION,
        "methods": c.methods,
        "errors": errors,
        "$defs": defs,
    })
}
