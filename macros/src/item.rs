//! Reading the shape of the annotated function from its top-level tokens:
//! attributes, qualifiers, `async`, `fn`, name, generics, parameters, return
//! type and body.

use crate::model::{Delim, Error, Kind, Tok, TokKind};

/// Where the interesting parts of an `async fn` item are, as indices into its
/// top-level token list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FnShape {
    /// Index of the first token after the outer attributes (`#[...]`).
    pub(crate) attrs_end: usize,
    /// Index of the `async` keyword.
    pub(crate) async_idx: usize,
    /// Index of the `fn` keyword.
    pub(crate) fn_idx: usize,
    /// The function's name.
    pub(crate) name: String,
    /// Index of the parenthesised parameter list.
    pub(crate) params_idx: usize,
    /// Whether the parameter list is empty.
    pub(crate) params_empty: bool,
    /// Index of the body, the last token, a brace group.
    pub(crate) body_idx: usize,
    /// Index of the `#` of an attribute that already marks the function as a
    /// test (`#[test]`, `#[weir::test]`, ...), if any.
    pub(crate) test_attr: Option<usize>,
}

/// Finds the shape of the function in `toks`.
///
/// Fails when the item cannot be rewritten at all: it is not a function, has
/// no body, or is not `async`. `fallback` is the span used when the item has
/// no tokens to point at.
pub(crate) fn fn_shape<S: Copy>(
    toks: &[Tok<S>],
    kind: Kind,
    fallback: S,
) -> Result<FnShape, Error<S>> {
    let not_a_fn = |span| {
        Error::new(
            span,
            format!("`{}` can only be applied to an `async fn`", kind.attr()),
        )
    };

    // Outer attributes.
    let mut i = 0;
    let mut test_attr = None;
    while let (Some(hash), Some(group)) = (toks.get(i), toks.get(i + 1)) {
        let TokKind::Group {
            delim: Delim::Bracket,
            inner,
            ..
        } = &group.kind
        else {
            break;
        };
        if !hash.is_punct('#') {
            break;
        }
        if test_attr.is_none() && is_test_attr(inner) {
            test_attr = Some(i);
        }
        i += 2;
    }
    let attrs_end = i;

    // `fn`, with the qualifiers (and `async`) before it.
    let Some(fn_idx) = (attrs_end..toks.len()).find(|&j| toks[j].is_ident("fn")) else {
        let span = toks.get(attrs_end).map_or(fallback, |t| t.span);
        return Err(not_a_fn(span));
    };
    let async_idx = (attrs_end..fn_idx).find(|&j| toks[j].is_ident("async"));

    // The name.
    let name = match toks.get(fn_idx + 1).map(|t| &t.kind) {
        Some(TokKind::Ident(name)) => name.clone(),
        _ => return Err(not_a_fn(toks[fn_idx].span)),
    };

    // Generics, then the parameters.
    let mut j = fn_idx + 2;
    if toks.get(j).is_some_and(|t| t.is_punct('<')) {
        let mut depth = 0usize;
        while let Some(t) = toks.get(j) {
            match t.kind {
                // The `>` of `->` (in `Fn() -> T` bounds) closes nothing.
                TokKind::Punct {
                    ch: '-',
                    joint: true,
                } if toks.get(j + 1).is_some_and(|n| n.is_punct('>')) => j += 1,
                TokKind::Punct { ch: '<', .. } => depth += 1,
                TokKind::Punct { ch: '>', .. } => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
    }
    let (params_idx, params_empty) = match toks.get(j) {
        Some(Tok {
            kind:
                TokKind::Group {
                    delim: Delim::Paren,
                    empty,
                    ..
                },
            ..
        }) => (j, *empty),
        _ => return Err(not_a_fn(toks[fn_idx + 1].span)),
    };

    // The body.
    let last = toks.len() - 1;
    let has_body = last > params_idx
        && matches!(
            toks[last].kind,
            TokKind::Group {
                delim: Delim::Brace,
                ..
            }
        );
    if !has_body {
        return Err(Error::new(
            toks[last].span,
            format!("`{}` needs a function with a body `{{ ... }}`", kind.attr()),
        ));
    }

    let Some(async_idx) = async_idx else {
        return Err(Error::new(
            toks[fn_idx].span,
            "the `async` keyword is missing from the function declaration",
        ));
    };

    Ok(FnShape {
        attrs_end,
        async_idx,
        fn_idx,
        name,
        params_idx,
        params_empty,
        body_idx: last,
        test_attr,
    })
}

/// Whether the contents of an attribute are a bare path ending in `test`:
/// `test`, `weir::test`, `::core::prelude::v1::test`, `tokio::test`.
fn is_test_attr<S>(inner: &[Tok<S>]) -> bool {
    inner.last().is_some_and(|t| t.is_ident("test"))
        && inner
            .iter()
            .all(|t| matches!(t.kind, TokKind::Ident(_)) || t.is_punct(':'))
}

impl FnShape {
    /// Problems that do not stop the rewrite but must be reported:
    /// parameters on `main` or on a test, and a second test attribute.
    pub(crate) fn problems<S: Copy>(&self, toks: &[Tok<S>], kind: Kind) -> Vec<Error<S>> {
        let mut errors = Vec::new();
        if !self.params_empty {
            let span = toks[self.params_idx].span;
            match kind {
                Kind::Main if self.name == "main" => errors.push(Error::new(
                    span,
                    "the `main` function cannot accept arguments",
                )),
                Kind::Main => {}
                Kind::Test => errors.push(Error::new(
                    span,
                    "`#[weir::test]` functions cannot accept arguments",
                )),
            }
        }
        if let (Kind::Test, Some(at)) = (kind, self.test_attr) {
            let path: String = match &toks[at + 1].kind {
                TokKind::Group { inner, .. } => inner.iter().map(Tok::describe).collect(),
                _ => String::new(),
            };
            errors.push(Error::new(
                toks[at].span,
                format!(
                    "`#[weir::test]` already marks the function as a test; \
                     remove the second test attribute `#[{path}]`"
                ),
            ));
        }
        errors
    }

    /// Whether the expansion should add `#[::core::prelude::v1::test]`: only
    /// for `#[weir::test]`, and not when that would add a second error
    /// (parameters) or a second test attribute.
    pub(crate) fn wants_test_attr(&self, kind: Kind) -> bool {
        kind == Kind::Test && self.params_empty && self.test_attr.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::lex;

    const FALLBACK: usize = usize::MAX;

    fn shape(src: &str, kind: Kind) -> Result<FnShape, Error<usize>> {
        fn_shape(&lex(src), kind, FALLBACK)
    }

    #[test]
    fn plain_async_main() {
        let s = shape("async fn main() { println!(\"hi\"); }", Kind::Main).unwrap();
        assert_eq!(
            s,
            FnShape {
                attrs_end: 0,
                async_idx: 0,
                fn_idx: 1,
                name: "main".into(),
                params_idx: 3,
                params_empty: true,
                body_idx: 4,
                test_attr: None,
            }
        );
        assert!(s
            .problems(&lex("async fn main() {}"), Kind::Main)
            .is_empty());
        assert!(!s.wants_test_attr(Kind::Main));
        assert!(s.wants_test_attr(Kind::Test));
    }

    #[test]
    fn attributes_visibility_and_return_type() {
        let src = "#[doc = \"Docs.\"] #[allow(unused)] pub(crate) async fn run() \
                   -> Result<(), Box<dyn std::error::Error>> { Ok(()) }";
        let toks = lex(src);
        let s = fn_shape(&toks, Kind::Main, FALLBACK).unwrap();
        assert_eq!(s.attrs_end, 4);
        assert!(toks[s.attrs_end].is_ident("pub"));
        assert!(toks[s.async_idx].is_ident("async"));
        assert_eq!(s.async_idx, 6);
        assert_eq!(s.fn_idx, 7);
        assert_eq!(s.name, "run");
        assert_eq!(s.params_idx, 9);
        assert_eq!(s.body_idx, toks.len() - 1);
    }

    #[test]
    fn generics_with_fn_bounds_and_where_clause() {
        let src = "async fn f<T: Into<u8>, F: Fn(u8) -> u8>(x: T, f: F) -> u8 \
                   where T: Copy { f(x.into()) }";
        let toks = lex(src);
        let s = fn_shape(&toks, Kind::Main, FALLBACK).unwrap();
        assert_eq!(s.name, "f");
        assert!(!s.params_empty);
        match &toks[s.params_idx].kind {
            TokKind::Group { delim, inner, .. } => {
                assert_eq!(*delim, Delim::Paren);
                assert!(inner[0].is_ident("x"));
            }
            other => panic!("params should be a group, got {other:?}"),
        }
        // A non-main fn may take parameters under #[weir::main].
        assert!(s.problems(&toks, Kind::Main).is_empty());
    }

    #[test]
    fn missing_async() {
        let e = shape("#[inline] pub fn main() {}", Kind::Main).unwrap_err();
        assert_eq!(
            e.msg,
            "the `async` keyword is missing from the function declaration"
        );
        assert_eq!(e.span, 3, "points at `fn`");
    }

    #[test]
    fn not_a_function() {
        let e = shape("struct S;", Kind::Main).unwrap_err();
        assert_eq!(
            e.msg,
            "`#[weir::main]` can only be applied to an `async fn`"
        );
        assert_eq!(e.span, 0);
        let e = shape("#[derive(Debug)]", Kind::Test).unwrap_err();
        assert_eq!(
            e.msg,
            "`#[weir::test]` can only be applied to an `async fn`"
        );
        assert_eq!(e.span, FALLBACK);
        let e = shape("", Kind::Test).unwrap_err();
        assert_eq!(e.span, FALLBACK);
    }

    #[test]
    fn missing_body() {
        let e = shape("async fn main();", Kind::Main).unwrap_err();
        assert_eq!(
            e.msg,
            "`#[weir::main]` needs a function with a body `{ ... }`"
        );
        assert_eq!(e.span, 4, "points at the `;`");
    }

    #[test]
    fn main_with_arguments() {
        let toks = lex("async fn main(argc: i32) {}");
        let s = fn_shape(&toks, Kind::Main, FALLBACK).unwrap();
        let errs = s.problems(&toks, Kind::Main);
        assert_eq!(
            errs,
            [Error::new(3, "the `main` function cannot accept arguments")]
        );
    }

    #[test]
    fn test_with_arguments() {
        let toks = lex("async fn it_works(x: u8) {}");
        let s = fn_shape(&toks, Kind::Test, FALLBACK).unwrap();
        assert_eq!(
            s.problems(&toks, Kind::Test),
            [Error::new(
                3,
                "`#[weir::test]` functions cannot accept arguments"
            )]
        );
        assert!(!s.wants_test_attr(Kind::Test));
    }

    #[test]
    fn second_test_attribute() {
        for (attr, shown) in [
            ("#[test]", "test"),
            ("#[::core::prelude::v1::test]", "::core::prelude::v1::test"),
            ("#[weir::test]", "weir::test"),
        ] {
            let src = format!("#[should_panic] {attr} async fn t() {{}}");
            let toks = lex(&src);
            let s = fn_shape(&toks, Kind::Test, FALLBACK).unwrap();
            assert_eq!(s.test_attr, Some(2), "{attr}");
            assert!(!s.wants_test_attr(Kind::Test));
            assert_eq!(
                s.problems(&toks, Kind::Test),
                [Error::new(
                    2,
                    format!(
                        "`#[weir::test]` already marks the function as a test; \
                         remove the second test attribute `#[{shown}]`"
                    )
                )]
            );
        }
        // Attributes that merely mention `test` are not test attributes.
        for attr in ["#[cfg(test)]", "#[test_case(1)]", "#[doc = \"test\"]"] {
            let s = shape(&format!("{attr} async fn t() {{}}"), Kind::Test).unwrap();
            assert_eq!(s.test_attr, None, "{attr}");
            assert!(s.wants_test_attr(Kind::Test));
        }
    }
}
