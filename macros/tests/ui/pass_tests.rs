// Compiled with `--test` against the fake `weir` and run: all five tests
// must be picked up by the harness and pass.

#[weir::test]
async fn plain() {
    assert_eq!(async { 2 }.await, 2);
}

#[weir::test(flavor = "multi_thread", worker_threads = 3)]
async fn multi_thread() -> Result<(), std::num::ParseIntError> {
    let v: u8 = "7".parse()?;
    assert_eq!(v, 7);
    Ok(())
}

#[weir::test]
#[should_panic(expected = "boom")]
async fn panics() {
    panic!("boom");
}

#[weir::test(crate = "weir")]
async fn explicit_crate() {}

mod nested {
    #[weir::test(flavor = "current_thread", crate = "::weir")]
    pub(crate) async fn in_module() {}
}

#[weir::test]
#[ignore = "ignored tests keep their attribute"]
async fn ignored() {
    panic!("must not run");
}
