//! protocol/schema/protocol.schema.json is the committed output of `agent-runtime-kit schema`, and
//! the client types are generated from it: this test fails when the file lags the Rust types.
//! `UPDATE_DOCS=1 cargo test --test schema_file` rewrites it (then regenerate the client types:
//! `python3 clients/python/scripts/gen_types.py` and `node clients/typescript/scripts/gen-types.mjs`).

use std::path::Path;
use std::process::Command;

#[test]
fn committed_schema_matches_the_binary() {
    let out = Command::new(env!("CARGO_BIN_EXE_agent-runtime-kit"))
        .args(["--log-level", "error", "schema"])
        .output()
        .expect("run agent-runtime-kit schema");
    assert!(out.status.success());
    let want = String::from_utf8(out.stdout).expect("UTF-8");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocol/schema/protocol.schema.json");
    if std::env::var("UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(&file, &want).expect("write the schema");
        return;
    }
    let have = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        have == want,
        "protocol/schema/protocol.schema.json is out of date: run \
         `cargo run -q -- schema > protocol/schema/protocol.schema.json`, then regenerate the client types"
    );
}
