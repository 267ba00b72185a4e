#[weir::main(flavor = "current_thread")]
async fn main() {
    let n: u32 = "not a number";
    let _ = n;
}
