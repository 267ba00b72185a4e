//! `weir-probe`: lists, prints and runs the bpftrace scripts shipped with weir.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("probes") => print!("{}", weir_probes::table::markdown()),
        _ => {
            eprintln!("usage: weir-probe probes");
            std::process::exit(2);
        }
    }
}
