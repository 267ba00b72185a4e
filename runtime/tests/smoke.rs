use weir_runtime::runtime::Builder;

#[test]
fn smoke() {
    for rt in [
        Builder::new_current_thread().enable_all().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ] {
        let out = rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..1000u64 {
                hs.push(weir_runtime::spawn(async move {
                    weir_runtime::task::yield_now().await;
                    weir_runtime::time::sleep(std::time::Duration::from_millis(i % 5)).await;
                    i
                }));
            }
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(out, 999 * 1000 / 2);
    }
}
