//! Entry macros for weir: `#[weir::main]` and `#[weir::test]`.
//!
//! Both turn an `async fn` into a plain `fn` that builds a weir runtime and
//! blocks on the original body. Use them through the `weir` crate
//! (`#[weir::main]`), not through this crate directly.
//!
//! # Arguments
//!
//! Both macros take the same optional, comma-separated `key = value`
//! arguments, in any order, each at most once:
//!
//! - `flavor = "current_thread"`, `"multi_thread"` or `"local"`: which runtime
//!   to build. `#[weir::main]` defaults to `multi_thread`, `#[weir::test]` to
//!   `current_thread`.
//!   `flavor = "local"` builds a current-thread runtime and runs the body
//!   inside a `LocalSet`, so `weir::task::spawn_local` works in it.
//! - `worker_threads = N`: the number of worker threads, a positive integer
//!   literal; only with the `multi_thread` flavor.
//! - `start_paused = true`: start with the clock paused (`Builder::start_paused`),
//!   for tests of timeouts and intervals; not with the `multi_thread` flavor.
//! - `crate = "path"`: the path to the weir crate, `::weir` by default (weir's
//!   own tests use `crate = "weir_runtime"`).
//!
//! # Expansion
//!
//! ```text
//! #[weir::main(worker_threads = 4)]
//! async fn main() -> Result<(), Error> {
//!     serve().await
//! }
//! ```
//!
//! becomes, in effect,
//!
//! ```text
//! fn main() -> Result<(), Error> {
//!     let body = async move { serve().await };
//!     let runtime = ::weir::runtime::Builder::new_multi_thread()
//!         .worker_threads(4)
//!         .enable_all()
//!         .build()
//!         .expect("weir: failed to build the runtime");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! The function keeps its attributes, visibility and return type, and the
//! body keeps its spans, so errors in it point at the user's code.
//! `#[weir::test]` also adds `#[::core::prelude::v1::test]`.
//!
//! A wrong argument or a function of the wrong shape is reported with
//! `compile_error!` at the offending token; the function is still emitted
//! (rewritten with default arguments where possible) so no follow-up errors,
//! such as a missing `main`, pile up.
#![warn(missing_docs)]

mod args;
mod expand;
mod item;
#[cfg(test)]
mod lex;
mod model;

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use args::{fallback_args, parse_args, Args, CratePath};
use expand::{body_pieces, item_plan, Out, Piece};
use item::{fn_shape, FnShape};
use model::{Delim, Error, Kind, Tok, TokKind};

/// Runs an `async fn` (usually `main`) on a weir runtime.
///
/// The function is rewritten into a synchronous one that builds a runtime
/// (multi-threaded unless `flavor = "current_thread"` is given) and blocks
/// on the original body. The function must be `async`; `main` must take no
/// parameters. The return type is kept, so `main` may return a `Result`.
///
/// Arguments: `flavor = "current_thread" | "multi_thread" | "local"` (default
/// `"multi_thread"`), `worker_threads = N` (multi-thread only),
/// `start_paused = true` (not multi-thread) and `crate = "path"` (default
/// `"::weir"`).
///
/// ```text
/// #[weir::main]
/// async fn main() {
///     println!("hello from weir");
/// }
///
/// #[weir::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Main, args, item)
}

/// Marks an `async fn` as a test that runs on a weir runtime.
///
/// Like [`macro@main`], but the runtime defaults to
/// `flavor = "current_thread"`, the function must take no parameters, and
/// `#[::core::prelude::v1::test]` is added, so other test attributes such as
/// `#[should_panic]` or `#[ignore]` can follow. Do not add `#[test]` as well.
///
/// Arguments: `flavor = "current_thread" | "multi_thread" | "local"` (default
/// `"current_thread"`), `worker_threads = N` (needs
/// `flavor = "multi_thread"`), `start_paused = true` (a paused clock, not with
/// `"multi_thread"`) and `crate = "path"` (default `"::weir"`).
///
/// ```text
/// #[weir::test]
/// async fn answers() {
///     assert_eq!(async { 42 }.await, 42);
/// }
///
/// #[weir::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn spreads_out() -> Result<(), Box<dyn std::error::Error>> {
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Test, args, item)
}

/// Expands either macro: the errors found, then the rewritten function, or
/// the original item when it cannot be rewritten.
fn entry(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut arg_toks = Vec::new();
    flatten_args(args, &mut arg_toks);
    let (trees, toks) = item_trees(item);

    let mut errors = Vec::new();
    let args = parse_args(&arg_toks, kind).unwrap_or_else(|e| {
        errors.push(e);
        fallback_args(&arg_toks, kind)
    });
    let body = match fn_shape(&toks, kind, Span::call_site()) {
        Ok(shape) => {
            errors.extend(shape.problems(&toks, kind));
            rewrite(&shape, kind, &args, &trees)
        }
        Err(e) => {
            errors.push(e);
            trees.into_iter().collect()
        }
    };

    let mut out: TokenStream = errors.iter().map(compile_error).collect();
    out.extend(body);
    out
}

/// The rewritten function, following [`item_plan`].
fn rewrite(shape: &FnShape, kind: Kind, args: &Args<Span>, trees: &[TokenTree]) -> TokenStream {
    let mut out = TokenStream::new();
    for step in item_plan(shape, kind, trees.len()) {
        match step {
            Out::Code(code) => out.extend(parse(code)),
            Out::Keep(i) => out.extend([trees[i].clone()]),
            Out::NewBody => {
                let old_body = &trees[shape.body_idx];
                let mut inner = TokenStream::new();
                for piece in body_pieces(args) {
                    match piece {
                        Piece::Code(code) => inner.extend(respan(parse(&code), Span::mixed_site())),
                        Piece::CratePath => inner.extend(crate_path_tokens(args)),
                        Piece::Body => inner.extend([old_body.clone()]),
                    }
                }
                let mut group = Group::new(Delimiter::Brace, inner);
                group.set_span(old_body.span());
                out.extend([TokenTree::Group(group)]);
            }
        }
    }
    out
}

/// Parses generated source text. The texts are fixed or built from
/// validated parts, so failing to lex is a bug in this crate.
fn parse(code: &str) -> TokenStream {
    code.parse()
        .unwrap_or_else(|e| panic!("weir-macros generated invalid tokens {code:?}: {e}"))
}

/// `stream` with every token's span set to `span`.
fn respan(stream: TokenStream, span: Span) -> TokenStream {
    stream
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut ng = Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                tt = TokenTree::Group(ng);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// The path to the weir crate, spanned at the `crate = "..."` literal when
/// one was given.
fn crate_path_tokens(args: &Args<Span>) -> TokenStream {
    let path = args
        .crate_path
        .clone()
        .unwrap_or_else(|| CratePath::default_at(Span::call_site()));
    let mut out = Vec::new();
    for (k, seg) in path.segments.iter().enumerate() {
        if k > 0 || path.leading_colons {
            out.extend(path_sep(path.span));
        }
        out.push(TokenTree::Ident(Ident::new(seg, path.span)));
    }
    out.into_iter().collect()
}

/// `::` with the given span.
fn path_sep(span: Span) -> [TokenTree; 2] {
    let mut first = Punct::new(':', Spacing::Joint);
    first.set_span(span);
    let mut second = Punct::new(':', Spacing::Alone);
    second.set_span(span);
    [TokenTree::Punct(first), TokenTree::Punct(second)]
}

/// `::core::compile_error!("msg");`, every token spanned at the error.
fn compile_error(e: &Error<Span>) -> TokenStream {
    let span = e.span;
    let mut msg = Literal::string(&e.msg);
    msg.set_span(span);
    let mut arg = Group::new(Delimiter::Parenthesis, TokenTree::Literal(msg).into());
    arg.set_span(span);
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(span);
    let mut semi = Punct::new(';', Spacing::Alone);
    semi.set_span(span);

    let mut out = Vec::new();
    out.extend(path_sep(span));
    out.push(TokenTree::Ident(Ident::new("core", span)));
    out.extend(path_sep(span));
    out.push(TokenTree::Ident(Ident::new("compile_error", span)));
    out.push(TokenTree::Punct(bang));
    out.push(TokenTree::Group(arg));
    out.push(TokenTree::Punct(semi));
    out.into_iter().collect()
}

/// Models the attribute arguments, looking through invisible groups (a
/// `macro_rules!` fragment such as `worker_threads = $n`).
fn flatten_args(stream: TokenStream, out: &mut Vec<Tok<Span>>) {
    for tt in stream {
        match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                flatten_args(g.stream(), out)
            }
            tt => out.push(to_model(&tt)),
        }
    }
}

/// The item's top-level token trees and their model. An invisible group
/// around the whole item, or around the body alone (a `$body:block`
/// fragment), is looked through.
fn item_trees(item: TokenStream) -> (Vec<TokenTree>, Vec<Tok<Span>>) {
    let mut trees: Vec<TokenTree> = item.into_iter().collect();
    if let [TokenTree::Group(g)] = trees.as_slice() {
        if g.delimiter() == Delimiter::None {
            trees = g.stream().into_iter().collect();
        }
    }
    for tt in &mut trees {
        if let TokenTree::Group(g) = tt {
            if g.delimiter() == Delimiter::None {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if let [TokenTree::Group(body)] = inner.as_slice() {
                    if body.delimiter() == Delimiter::Brace {
                        *tt = TokenTree::Group(body.clone());
                    }
                }
            }
        }
    }
    let toks = trees.iter().map(to_model).collect();
    (trees, toks)
}

/// Models one token tree. Only bracket groups (attribute contents) get
/// their inner tokens modelled, one level deep.
fn to_model(tt: &TokenTree) -> Tok<Span> {
    model_tree(tt, true)
}

fn model_tree(tt: &TokenTree, fill_brackets: bool) -> Tok<Span> {
    let kind = match tt {
        TokenTree::Ident(i) => TokKind::Ident(i.to_string()),
        TokenTree::Punct(p) => TokKind::Punct {
            ch: p.as_char(),
            joint: p.spacing() == Spacing::Joint,
        },
        TokenTree::Literal(l) => TokKind::Literal(l.to_string()),
        TokenTree::Group(g) => {
            let delim = match g.delimiter() {
                Delimiter::Parenthesis => Delim::Paren,
                Delimiter::Brace => Delim::Brace,
                Delimiter::Bracket => Delim::Bracket,
                Delimiter::None => Delim::None,
            };
            let stream = g.stream();
            let inner = if fill_brackets && delim == Delim::Bracket {
                stream
                    .clone()
                    .into_iter()
                    .map(|t| model_tree(&t, false))
                    .collect()
            } else {
                Vec::new()
            };
            TokKind::Group {
                delim,
                empty: stream.is_empty(),
                inner,
            }
        }
    };
    Tok {
        kind,
        span: tt.span(),
    }
}
