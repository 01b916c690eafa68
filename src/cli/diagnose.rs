//! `diagnose`: a table for a person on a terminal, JSON for scripts (`--json`, or whenever stdout
//! is not a terminal, as before the table existed), and an exit code a script can test.

use serde_json::Value;

use super::error::{CliError, FAILED};
use super::output::{self, escape_controls};
use super::DiagnoseArgs;
use crate::core::Core;
use crate::protocol::methods::DiagnoseParams;
use crate::runtime::fixture;

pub async fn diagnose_once(core: &Core, args: DiagnoseArgs) -> Result<i32, CliError> {
    let params = DiagnoseParams {
        runtime: args.runtime.clone(),
        model: args.model,
        probe: args.probe,
    };
    let v = core.diagnose(&params).await?;
    let text = if args.json || !output::stdout_is_terminal() {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("diagnoses serialize")
        )
    } else {
        table(&v)
    };
    let printed = output::print_all(&text);
    if printed != 0 {
        return Ok(printed);
    }
    Ok(if asked_for_is_ready(&v, args.runtime.is_some()) {
        0
    } else {
        FAILED
    })
}

/// With a runtime named: that one is ready. With none: some runtime that calls a model is ready
/// (the built-in fixture always is, so it does not count).
fn asked_for_is_ready(v: &Value, named: bool) -> bool {
    let runtimes = v["runtimes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let ready = |d: &&Value| d["status"] == "ready";
    if named {
        runtimes.iter().all(|d| ready(&d))
    } else {
        runtimes
            .iter()
            .filter(|d| d["runtime"] != fixture::NAME)
            .any(|d| ready(&d))
    }
}

/// One row per runtime: ✓/✗, name, version, what diagnose found; then `fix: …` under a runtime
/// that is not ready.
fn table(v: &Value) -> String {
    let rows: Vec<[String; 4]> = v["runtimes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|d| {
            let mark = if d["status"] == "ready" { "✓" } else { "✗" };
            let version = d["binary"]["version"].as_str().unwrap_or("-");
            [
                mark.to_string(),
                clean(d["runtime"].as_str().unwrap_or("?")),
                clean(version),
                clean(d["message"].as_str().unwrap_or_default()),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (name_w, version_w) = (width(1).max(7), width(2).max(7));
    let mut out = format!(
        "  {:name_w$}  {:version_w$}  status\n",
        "runtime", "version"
    );
    for (row, d) in rows
        .iter()
        .zip(v["runtimes"].as_array().into_iter().flatten())
    {
        let [mark, name, version, message] = row;
        out.push_str(&format!(
            "{mark} {name:name_w$}  {version:version_w$}  {message}\n"
        ));
        if let Some(remedy) = d["remedy"].as_str().filter(|_| d["status"] != "ready") {
            out.push_str(&format!("  {:name_w$}  fix: {}\n", "", clean(remedy)));
        }
    }
    out
}

/// A diagnosis can quote a vendor's output: one line, no control characters.
fn clean(s: &str) -> String {
    escape_controls(&s.replace('\n', " ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diagnoses() -> Value {
        json!({"runtimes": [
            {"runtime": "fixture", "status": "ready", "message": "built in"},
            {"runtime": "claude", "status": "missingBinary", "message": "claude is not on PATH",
             "remedy": "npm install -g @anthropic-ai/claude-code"},
            {"runtime": "codex", "status": "ready", "binary": {"version": "0.50.0"},
             "message": "logged in"}
        ]})
    }

    #[test]
    fn the_table_marks_each_runtime_and_gives_the_fix() {
        let t = table(&diagnoses());
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("✓ fixture"), "{t}");
        assert!(lines[2].starts_with("✗ claude") && lines[2].contains("not on PATH"));
        assert_eq!(
            lines[3].trim(),
            "fix: npm install -g @anthropic-ai/claude-code"
        );
        assert!(lines[4].contains("0.50.0"), "{t}");
    }

    #[test]
    fn readiness_is_judged_on_what_was_asked() {
        let v = diagnoses();
        assert!(asked_for_is_ready(&v, false), "codex is ready");
        let only_claude = json!({"runtimes": [v["runtimes"][1]]});
        assert!(!asked_for_is_ready(&only_claude, true));
        let only_fixture = json!({"runtimes": [v["runtimes"][0]]});
        assert!(asked_for_is_ready(&only_fixture, true));
        assert!(
            !asked_for_is_ready(&only_fixture, false),
            "the fixture alone is not a runtime to work with"
        );
    }
}
