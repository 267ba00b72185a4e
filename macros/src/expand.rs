//! What the rewritten function looks like, as a plan over plain Rust types.
//!
//! The macro entry points follow the plan with real token trees; the unit
//! tests render it to text.

use crate::args::{Args, Flavor};
use crate::item::FnShape;
use crate::model::Kind;

/// The attribute put in front of a `#[weir::test]` function.
pub(crate) const TEST_ATTR: &str = "#[::core::prelude::v1::test]";

/// The message of the panic when the runtime cannot be built.
pub(crate) const BUILD_FAILED: &str = "weir: failed to build the runtime";

/// One step of the rewritten item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Out {
    /// Source text, emitted with call-site spans.
    Code(&'static str),
    /// The input token at this index, unchanged (spans included).
    Keep(usize),
    /// The new body: a brace group, with the span of the original body,
    /// holding [`body_pieces`].
    NewBody,
}

/// The rewritten item: the test attribute if wanted, then every input token
/// except `async`, with the body replaced.
pub(crate) fn item_plan(shape: &FnShape, kind: Kind, len: usize) -> Vec<Out> {
    let mut out = Vec::with_capacity(len + 1);
    if shape.wants_test_attr(kind) {
        out.push(Out::Code(TEST_ATTR));
    }
    for i in 0..len {
        if i == shape.async_idx {
            continue;
        }
        out.push(if i == shape.body_idx {
            Out::NewBody
        } else {
            Out::Keep(i)
        });
    }
    out
}

/// One piece of the new body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Generated source text; always balanced in its delimiters so that it
    /// can be parsed into a token stream on its own.
    Code(String),
    /// The path to the weir crate (`::weir` unless `crate = "..."` is given).
    CratePath,
    /// The original body group, unchanged.
    Body,
}

/// The builder calls after the crate path, e.g.
/// `::runtime::Builder::new_multi_thread().worker_threads(4).enable_all()
/// .build().expect("weir: failed to build the runtime")`.
pub(crate) fn builder_chain(flavor: Flavor, worker_threads: Option<usize>, paused: bool) -> String {
    let mut s = format!("::runtime::Builder::new_{}()", flavor.builder());
    if let Some(n) = worker_threads {
        s.push_str(&format!(".worker_threads({n})"));
    }
    s.push_str(".enable_all()");
    if paused {
        s.push_str(".start_paused(true)");
    }
    s.push_str(&format!(".build().expect({BUILD_FAILED:?})"));
    s
}

/// The new body's contents:
///
/// ```text
/// let body = async move ORIGINAL_BODY;
/// #[allow(clippy::expect_used)]
/// let runtime = CRATE::runtime::Builder::new_FLAVOR()[.worker_threads(N)]
///     .enable_all()[.start_paused(true)].build().expect("weir: failed to build the runtime");
/// runtime.block_on(body)
/// ```
///
/// With `flavor = "local"` the last line is
/// `CRATE::task::LocalSet::new().block_on(&runtime, body)`.
pub(crate) fn body_pieces<S>(args: &Args<S>) -> Vec<Piece> {
    let chain = builder_chain(args.flavor, args.worker_threads, args.start_paused);
    let mut pieces = vec![
        Piece::Code("let body = async move".to_owned()),
        Piece::Body,
        Piece::Code(";\n#[allow(clippy::expect_used)]\nlet runtime =".to_owned()),
        Piece::CratePath,
    ];
    if args.flavor == Flavor::Local {
        pieces.push(Piece::Code(format!("{chain};\n")));
        pieces.push(Piece::CratePath);
        pieces.push(Piece::Code(
            "::task::LocalSet::new().block_on(&runtime, body)".to_owned(),
        ));
    } else {
        pieces.push(Piece::Code(format!("{chain};\nruntime.block_on(body)")));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse_args, CratePath};
    use crate::item::fn_shape;
    use crate::lex::lex;
    use crate::model::{Delim, Tok, TokKind};

    /// Renders a model token back to source text.
    fn render(tok: &Tok<usize>, out: &mut String) {
        match &tok.kind {
            TokKind::Ident(i) => {
                out.push_str(i);
                out.push(' ');
            }
            TokKind::Punct { ch, joint } => {
                out.push(*ch);
                if !joint {
                    out.push(' ');
                }
            }
            TokKind::Literal(l) => {
                out.push_str(l);
                out.push(' ');
            }
            TokKind::Group { delim, inner, .. } => {
                let (open, close) = match delim {
                    Delim::Paren => ("(", ")"),
                    Delim::Brace => ("{", "}"),
                    Delim::Bracket => ("[", "]"),
                    Delim::None => ("", ""),
                };
                out.push_str(open);
                for t in inner {
                    render(t, out);
                }
                out.push_str(close);
                out.push(' ');
            }
        }
    }

    /// Expands `item` under `#[weir::main(args)]` / `#[weir::test(args)]`
    /// the way the macro entry points do, into source text.
    fn expand(kind: Kind, args: &str, item: &str) -> String {
        let args = parse_args(&lex(args), kind).unwrap();
        let toks = lex(item);
        let shape = fn_shape(&toks, kind, 0).unwrap();
        let crate_path = args
            .crate_path
            .clone()
            .unwrap_or_else(|| CratePath::default_at(0))
            .render();
        let mut out = String::new();
        for step in item_plan(&shape, kind, toks.len()) {
            match step {
                Out::Code(code) => out.push_str(code),
                Out::Keep(i) => {
                    // `render` adds the spacing itself (none after a joint
                    // punctuation character).
                    render(&toks[i], &mut out);
                    continue;
                }
                Out::NewBody => {
                    out.push('{');
                    for piece in body_pieces(&args) {
                        match piece {
                            Piece::Code(code) => out.push_str(&code),
                            Piece::CratePath => out.push_str(&crate_path),
                            Piece::Body => render(&toks[shape.body_idx], &mut out),
                        }
                        out.push(' ');
                    }
                    out.push('}');
                }
            }
            out.push(' ');
        }
        out
    }

    /// Asserts that two sources have the same tokens.
    fn assert_same_tokens(actual: &str, expected: &str) {
        assert_eq!(
            lex(actual),
            lex(expected),
            "\n actual: {actual}\n expected: {expected}"
        );
    }

    #[test]
    fn builder_chains() {
        assert_eq!(
            builder_chain(Flavor::MultiThread, None, false),
            "::runtime::Builder::new_multi_thread().enable_all().build()\
             .expect(\"weir: failed to build the runtime\")"
        );
        assert_eq!(
            builder_chain(Flavor::MultiThread, Some(3), false),
            "::runtime::Builder::new_multi_thread().worker_threads(3).enable_all().build()\
             .expect(\"weir: failed to build the runtime\")"
        );
        assert_eq!(
            builder_chain(Flavor::CurrentThread, None, false),
            "::runtime::Builder::new_current_thread().enable_all().build()\
             .expect(\"weir: failed to build the runtime\")"
        );
    }

    #[test]
    fn code_pieces_are_balanced() {
        // Each `Piece::Code` is parsed into a token stream on its own, so it
        // must lex (the test lexer panics on unbalanced delimiters).
        for args in [
            "",
            "worker_threads = 2",
            r#"flavor = "current_thread", crate = "weir_runtime""#,
            r#"flavor = "local", start_paused = true"#,
        ] {
            let args = parse_args(&lex(args), Kind::Main).unwrap();
            for piece in body_pieces(&args) {
                if let Piece::Code(code) = piece {
                    lex(&code);
                }
            }
        }
        lex(TEST_ATTR);
    }

    #[test]
    fn main_default_expansion() {
        let out = expand(Kind::Main, "", "async fn main() { println!(\"hello\"); }");
        assert_same_tokens(
            &out,
            r#"fn main() {
                let body = async move { println!("hello"); };
                #[allow(clippy::expect_used)]
                let runtime = ::weir::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("weir: failed to build the runtime");
                runtime.block_on(body)
            }"#,
        );
    }

    #[test]
    fn main_keeps_attributes_visibility_and_return_type() {
        let out = expand(
            Kind::Main,
            r#"flavor = "multi_thread", worker_threads = 8, crate = "weir_runtime""#,
            r#"#[doc = " Docs."]
            #[allow(unused_variables)]
            pub(crate) async fn serve() -> Result<(), Box<dyn std::error::Error>> {
                let x = 1;
                Ok(())
            }"#,
        );
        assert_same_tokens(
            &out,
            r#"#[doc = " Docs."]
            #[allow(unused_variables)]
            pub(crate) fn serve() -> Result<(), Box<dyn std::error::Error>> {
                let body = async move { let x = 1; Ok(()) };
                #[allow(clippy::expect_used)]
                let runtime = weir_runtime::runtime::Builder::new_multi_thread()
                    .worker_threads(8)
                    .enable_all()
                    .build()
                    .expect("weir: failed to build the runtime");
                runtime.block_on(body)
            }"#,
        );
    }

    #[test]
    fn test_default_expansion() {
        let out = expand(
            Kind::Test,
            "",
            "#[should_panic] async fn it_fails() { panic!() }",
        );
        assert_same_tokens(
            &out,
            r#"#[::core::prelude::v1::test]
            #[should_panic]
            fn it_fails() {
                let body = async move { panic!() };
                #[allow(clippy::expect_used)]
                let runtime = ::weir::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("weir: failed to build the runtime");
                runtime.block_on(body)
            }"#,
        );
    }

    #[test]
    fn test_multi_thread_expansion() {
        let out = expand(
            Kind::Test,
            r#"flavor = "multi_thread", worker_threads = 2, crate = "::my::weir""#,
            "async fn t() -> std::io::Result<()> { Ok(()) }",
        );
        assert_same_tokens(
            &out,
            r#"#[::core::prelude::v1::test]
            fn t() -> std::io::Result<()> {
                let body = async move { Ok(()) };
                #[allow(clippy::expect_used)]
                let runtime = ::my::weir::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("weir: failed to build the runtime");
                runtime.block_on(body)
            }"#,
        );
    }

    #[test]
    fn test_paused_and_local_expansion() {
        let out = expand(Kind::Test, "start_paused = true", "async fn t() {}");
        assert_same_tokens(
            &out,
            r#"#[::core::prelude::v1::test]
            fn t() {
                let body = async move {};
                #[allow(clippy::expect_used)]
                let runtime = ::weir::runtime::Builder::new_current_thread()
                    .enable_all()
                    .start_paused(true)
                    .build()
                    .expect("weir: failed to build the runtime");
                runtime.block_on(body)
            }"#,
        );
        let out = expand(Kind::Main, r#"flavor = "local""#, "async fn main() {}");
        assert_same_tokens(
            &out,
            r#"fn main() {
                let body = async move {};
                #[allow(clippy::expect_used)]
                let runtime = ::weir::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("weir: failed to build the runtime");
                ::weir::task::LocalSet::new().block_on(&runtime, body)
            }"#,
        );
    }

    #[test]
    fn test_with_parameters_gets_no_test_attribute() {
        let out = expand(Kind::Test, "", "async fn t(x: u8) {}");
        assert!(!out.contains("test"), "{out}");
        assert!(out.starts_with("fn t"), "{out}");
    }
}
