//! Link settings for the `agent-runtime-kit` binary on Linux that make it start with fewer pages.
//! Only the binary gets them (`rustc-link-arg-bins`): the library, tests and benches keep the
//! platform defaults. Figures in docs/benchmarks.md.
//!
//! Non-PIE (`-no-pie`). A PIE must be relocated at every start: the loader reads ~21,700 relative
//! relocations (`.rela.dyn`, 0.5 MB) and writes every page of `.data.rel.ro` (0.4 MB of vtables
//! and string tables), which copies each of those pages into private memory. A non-PIE executable
//! has its addresses fixed at link time: none of that happens, `.data.rel.ro` stays shared with
//! the page cache and only the pages actually used are mapped (~90 fewer page faults, ~1 MiB less
//! idle RSS). The price is that the executable image is not address-randomized (the shared
//! libraries, heap and stacks still are). The dependencies' code is compiled position-independent
//! as usual, which a non-PIE link accepts (the linker relaxes the GOT accesses).
//!
//! Start-up code first (`link/startup.ld`). The kernel maps code in whole page-cache folios
//! (64-128 KiB) per fault, and the ~850 functions a start runs were spread over 9 MB of code: a
//! start mapped ~5 MiB of it. The script groups them (matched by name without the build-specific
//! hash, so it survives rebuilds) in one section before `.text`; `link/startup-order.py`
//! regenerates it. GNU ld and lld both take it (`INSERT BEFORE` keeps the default layout).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
        let script = format!("{dir}/link/startup.ld");
        println!("cargo:rerun-if-changed={script}");
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
    }
}
