#[weir::main]
pub fn main() {}
