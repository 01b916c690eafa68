//! Process supervision against fake vendors that fight back: grandchildren, their own sessions,
//! ignored SIGTERM, stderr floods.

use std::time::{Duration, Instant};

use agent_runtime_kit::process::{descendants, Supervised};
use tokio::process::Command;

fn sh(script: &str) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(script);
    c
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

async fn wait_for_descendants(pid: i32, n: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = descendants(pid);
        if d.len() >= n || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn terminate_kills_grandchildren_that_ignore_sigterm_and_left_the_group() {
    // A child that ignores SIGTERM, with a grandchild in the group and one in its own session.
    let script = "trap '' TERM; sleep 300 & setsid sh -c \"trap '' TERM; sleep 301\" & while true; do sleep 1; done";
    let mut child = Supervised::spawn(sh(script), "fake-vendor").unwrap();
    let tree = wait_for_descendants(child.pid(), 3).await;
    assert!(tree.len() >= 3, "the fake vendor forked: {tree:?}");
    let began = Instant::now();
    let (exit, forced) = child.terminate(Duration::from_millis(300)).await;
    assert!(forced, "SIGTERM was ignored, so SIGKILL was needed");
    assert_eq!(exit.signal, Some(9));
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        began.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let survivors: Vec<_> = tree.iter().copied().filter(|p| alive(*p)).collect();
    assert!(survivors.is_empty(), "no process survives: {survivors:?}");
}

#[tokio::test]
async fn a_polite_child_exits_on_sigterm_without_sigkill() {
    let mut child = Supervised::spawn(
        sh("trap 'exit 7' TERM; while true; do sleep 0.05; done"),
        "polite",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (exit, forced) = child.terminate(Duration::from_secs(5)).await;
    assert!(!forced);
    assert_eq!(exit.code, Some(7));
}

#[tokio::test]
async fn dropping_a_supervised_child_kills_its_tree() {
    let child = Supervised::spawn(sh("trap '' TERM; sleep 302 & sleep 303"), "dropped").unwrap();
    let tree = wait_for_descendants(child.pid(), 2).await;
    let pid = child.pid();
    drop(child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!alive(pid));
    assert!(
        tree.iter().all(|p| !alive(*p)),
        "grandchildren killed on drop"
    );
}

#[tokio::test]
async fn a_stderr_flood_does_not_block_the_child_and_keeps_a_bounded_tail() {
    // 100 MB to stderr: with an undrained pipe the child would block at 64 KiB and never exit.
    let mut child = Supervised::spawn(
        sh("head -c 100000000 /dev/zero | tr '\\0' 'e'; echo; echo last-line >&2; exit 3"),
        "flood",
    )
    .unwrap();
    // stdout must be read too, or the child blocks on it instead.
    let mut out = child.take_stdout(1024).unwrap();
    let reader = tokio::spawn(async move {
        use futures::StreamExt;
        while out.next().await.is_some() {}
    });
    let mut flood = Supervised::spawn(
        sh("head -c 100000000 /dev/zero | tr '\\0' 'e' >&2; echo >&2; echo last-line >&2; exit 3"),
        "flood2",
    )
    .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(60), flood.wait())
        .await
        .expect("the flooding child was never blocked");
    assert_eq!(exit.code, Some(3));
    assert_eq!(
        exit.stderr_tail.last().map(String::as_str),
        Some("last-line")
    );
    assert!(
        exit.stderr_tail.iter().all(|l| l.len() <= 4096),
        "long lines are cut"
    );
    let exit = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap();
    assert_eq!(exit.code, Some(3));
    reader.await.unwrap();
}

#[tokio::test]
async fn children_die_with_the_sidecar_process() {
    // A stand-in for the sidecar: this test binary re-executes itself as a parent that spawns a
    // supervised child, then is SIGKILLed. PR_SET_PDEATHSIG must take the child down.
    if std::env::var("ARK_PDEATHSIG_PARENT").is_ok() {
        return;
    }
    // A unique sleep duration marks the grandchild's command line.
    let marker = format!("1000.{}", std::process::id());
    let parent = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "exec {} --exact children_die_with_the_sidecar_process_helper --nocapture",
            std::env::current_exe().unwrap().display()
        ))
        .env("ARK_PDEATHSIG_MARKER", &marker)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let child_pid = loop {
        let found = find_cmdline(&marker);
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "the helper spawned its child");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut parent = parent;
    unsafe { libc::kill(parent.id() as i32, libc::SIGKILL) };
    let _ = parent.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(child_pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(child_pid), "the child died with its parent");
}

#[tokio::test]
async fn children_die_with_the_sidecar_process_helper() {
    let Ok(marker) = std::env::var("ARK_PDEATHSIG_MARKER") else {
        return; // only meaningful when run by the test above
    };
    let _child = Supervised::spawn(sh(&format!("exec sleep {marker}")), "orphan").unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
}

fn find_cmdline(needle: &str) -> Option<i32> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid: i32 = match e.file_name().to_str().and_then(|s| s.parse().ok()) {
            Some(p) => p,
            None => continue,
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.starts_with("sleep") && cmd.contains(needle) {
                return Some(pid);
            }
        }
    }
    None
}
