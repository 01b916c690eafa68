//! The shipped binary is linked like any `cargo build --release`: a position-independent
//! executable (so its image is address-randomized), with RELRO (relocated data made read-only) and
//! a non-executable stack. The sidecar parses untrusted vendor output; these are its defaults to
//! keep. Read from the ELF header and program headers of the binary cargo built for this test.
#![cfg(target_os = "linux")]

/// `e_type` of a position-independent executable (and of a shared object).
const ET_DYN: u16 = 3;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const PF_X: u32 = 1;

struct Elf {
    kind: u16,
    /// (p_type, p_flags) of each program header.
    segments: Vec<(u32, u32)>,
}

/// The few fields needed from a 64-bit little-endian ELF file.
fn read_elf(bytes: &[u8]) -> Elf {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
    assert_eq!(bytes[5], 1, "not a little-endian ELF file");
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let phoff = u64_at(0x20) as usize;
    let phentsize = u16_at(0x36) as usize;
    let phnum = u16_at(0x38) as usize;
    let segments = (0..phnum)
        .map(|i| {
            let at = phoff + i * phentsize;
            (u32_at(at), u32_at(at + 4))
        })
        .collect();
    Elf {
        kind: u16_at(0x10),
        segments,
    }
}

#[test]
fn the_binary_is_a_pie_with_relro_and_a_non_executable_stack() {
    let path = env!("CARGO_BIN_EXE_agent-runtime-kit");
    let elf = read_elf(&std::fs::read(path).expect("the built binary is readable"));
    assert_eq!(elf.kind, ET_DYN, "{path} is not position-independent");
    assert!(
        elf.segments.iter().any(|&(t, _)| t == PT_GNU_RELRO),
        "{path} has no PT_GNU_RELRO segment"
    );
    let stack = elf
        .segments
        .iter()
        .find(|&&(t, _)| t == PT_GNU_STACK)
        .expect("a PT_GNU_STACK segment (without one the stack may be executable)");
    assert_eq!(stack.1 & PF_X, 0, "{path} asks for an executable stack");
}
