//! Links the `compose` binary with packed relative relocations (`-z pack-relative-relocs`,
//! DT_RELR) where the linker and the C library support them: a position-independent
//! executable as large as this one carries ~2 MB of `R_X86_64_RELATIVE` entries in
//! `.rela.dyn`, which the dynamic loader reads at every start and which then stay
//! resident; packed, they are a few KiB (docs/benchmarks.md, "Serving HTTP": resident
//! memory). ASLR is kept. glibc supports DT_RELR since 2.36 and GNU ld writes it since
//! 2.38; the probe below links a trivial program with the flag and leaves it out when
//! that fails, so an older toolchain builds as before.

use std::process::{Command, Stdio};

const FLAG: &str = "-Wl,-z,pack-relative-relocs";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") && target.ends_with("-gnu") && links_with(FLAG) {
        println!("cargo:rustc-link-arg-bins={FLAG}");
    }
}

/// Whether the C compiler links a program with `flag` into one that runs.
fn links_with(flag: &str) -> bool {
    let Ok(dir) = std::env::var("OUT_DIR") else {
        return false;
    };
    let source = format!("{dir}/relr-probe.c");
    let program = format!("{dir}/relr-probe");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let linked = Command::new(compiler)
        .args(["-pie", "-fPIE", flag, &source, "-o", &program])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // A loader without DT_RELR support refuses the program (glibc before 2.36).
    linked && Command::new(&program).status().is_ok_and(|s| s.success())
}
