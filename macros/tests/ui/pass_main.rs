// Compiled as a binary against the fake `weir` and run.

/// Docs stay on the function.
#[weir::main(worker_threads = 2)]
async fn main() -> Result<(), String> {
    let n: u32 = "41".parse().map_err(|e| format!("{e}"))?;
    println!("body: {}", answer(n).await);
    Ok(())
}

async fn answer(n: u32) -> u32 {
    n + 1
}
