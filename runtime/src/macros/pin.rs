//! `pin!`: pins futures to the stack, shadowing the variables that held them.

/// Pins each named variable in place, shadowing it with a `Pin<&mut T>`; or declares and pins
/// in one step (`pin! { let fut = make(); }`). The value can never be moved again, so it may be
/// polled by reference (`(&mut fut).await`, or in a `select!` loop).
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let fut = async { 7 };
/// weir_runtime::pin!(fut);
/// assert_eq!((&mut fut).await, 7);
/// weir_runtime::pin! { let other = async { 8 }; }
/// assert_eq!(other.await, 8);
/// # });
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => {
        $( let mut $name = ::core::pin::pin!($name); )*
    };
    ($( let $name:ident = $init:expr; )*) => {
        $( let mut $name = ::core::pin::pin!($init); )*
    };
}
