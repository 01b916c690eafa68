use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use agent_runtime_kit::cli::{self, Cli, CliError, Command};
use agent_runtime_kit::core::Core;
use agent_runtime_kit::server::{self, ServeConfig};
use agent_runtime_kit::{hygiene, process, runtime};

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
        .unwrap_or_else(|_| EnvFilter::new(&args.global.log_level))
        // rmcp logs every request and response whole at debug, a tool call's arguments before the
        // tool has learned the secrets in them: its logs stop at info, whatever RUST_LOG says.
        .add_directive("rmcp=info".parse().expect("a valid directive"));
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
    let code = rt.block_on(async {
        let code = async_main(args).await;
        // Vendors answered early and still winding down (flushing their session files).
        process::background::finish(std::time::Duration::from_secs(8)).await;
        code
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}

/// Runs the command; the process's exit code. Errors are reported the command line's one way
/// (`error: …`, `fix: …`), never as a Debug dump or a backtrace.
async fn async_main(args: Cli) -> i32 {
    match dispatch(args).await {
        Ok(code) => code,
        Err(e) => cli::report(e),
    }
}

async fn dispatch(args: Cli) -> Result<i32, CliError> {
    let registry = runtime::builtin(&args.global.runtime_config());
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(format!("cannot read the current directory: {e}")))?;
    let core = Arc::new(Core::new(
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
                core,
                config,
                shutdown_signal(),
            )
            .await;
            Ok(0)
        }
        Command::Run(run) => cli::run_once(core, run, args.global.record).await,
        Command::Mcp(mcp) => {
            let policy = cli::mcp_policy(&mcp)?;
            agent_runtime_kit::mcp::serve_stdio(core, mcp.runtime, policy, shutdown_signal())
                .await
                .map_err(|e| CliError::failed(format!("the MCP server failed: {e}")))?;
            Ok(0)
        }
        Command::Capabilities { runtime } => cli::capabilities_once(&core, runtime.as_deref()),
        Command::Diagnose(diagnose) => cli::diagnose_once(&core, diagnose).await,
        Command::Completions { shell } => Ok(cli::completions_once(shell)),
        Command::Man => cli::man_once(),
        Command::Schema => Ok(cli::schema_once()),
    }
}

/// Resolves on the first SIGTERM or SIGINT; a second one kills every vendor process and exits.
/// The handlers are installed now, not when the future is first polled: a signal that arrives
/// before the server's loop runs must not take the default action (death, with no answers).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
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
}
