//! Sets `weir_usdt` where the `usdt` feature can emit notes: Linux on x86_64 or aarch64 (the
//! emitter's `asm!` exists for those; elsewhere the feature compiles to nothing).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(weir_usdt)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let usdt = std::env::var_os("CARGO_FEATURE_USDT").is_some();
    if usdt && os == "linux" && (arch == "x86_64" || arch == "aarch64") {
        println!("cargo::rustc-cfg=weir_usdt");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
