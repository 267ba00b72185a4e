#[weir::main]
async fn main(argc: i32) {
    let _ = argc;
}
