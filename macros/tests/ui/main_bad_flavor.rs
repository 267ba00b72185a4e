#[weir::main(flavor = "single_thread")]
async fn main() {
    println!("still compiles as main");
}
