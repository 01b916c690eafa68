use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use agent_runtime_kit::cli::{self, Cli, Command};
use agent_runtime_kit::protocol::methods::{CapabilitiesParams, DiagnoseParams};
use agent_runtime_kit::server::{self, tasks::Tasks, ServeConfig};
use agent_runtime_kit::{hygiene, process, runtime, schema};

fn main() -> anyhow::Result<()> {
    // The guardian of this sidecar's vendor processes (see process/guardian.rs): not a user command.
    let raw: Vec<String> = std::env::args().collect();
    if raw.len() == 3 && raw[1] == process::GUARDIAN_ARG {
        process::guard(&raw[2]);
        return Ok(());
    }
    process::enable_guardian();
    let args = Cli::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&args.global.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| hygiene::RedactingStderr)
        .with_ansi(false)
        .init();
    // Children get PR_SET_PDEATHSIG, which fires when the *thread* that spawned them exits:
    // spawn only from runtime worker threads, which live as long as the process.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = rt.block_on(async_main(args))?;
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}

async fn async_main(args: Cli) -> anyhow::Result<i32> {
    let registry = runtime::builtin(&args.global.runtime_config());
    let cwd = std::env::current_dir()?;
    let tasks = Arc::new(Tasks::new(
        registry,
        cwd,
        args.global.max_tasks,
        args.global.record.clone(),
    ));
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = ServeConfig {
                max_message_bytes: args.global.max_message_bytes,
            };
            server::serve(
                server::stdio::stdin(),
                server::stdio::stdout(),
                tasks,
                config,
                shutdown_signal(),
            )
            .await;
            Ok(0)
        }
        Command::Run(run) => cli::run_once(tasks, run).await,
        Command::Mcp { runtime } => {
            agent_runtime_kit::mcp::serve_stdio(tasks, runtime, shutdown_signal()).await?;
            Ok(0)
        }
        Command::Capabilities { runtime } => {
            let v = server::dispatch::capabilities(&tasks, CapabilitiesParams { runtime })
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(0)
        }
        Command::Diagnose {
            runtime,
            model,
            probe,
        } => {
            cli::diagnose_once(
                &tasks,
                DiagnoseParams {
                    runtime,
                    model,
                    probe,
                },
            )
            .await
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&schema::protocol_schema())?
            );
            Ok(0)
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT; a second one kills every vendor process and exits.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("second signal: killing every vendor process and exiting now");
        process::kill_all_now();
        std::process::exit(130);
    });
}
