//! Parsing of the attribute arguments:
//! `flavor = "..."`, `worker_threads = N`, `start_paused = bool` and `crate = "path"`.

use crate::model::{Error, Kind, Tok, TokKind};

/// The argument names accepted by both macros, in the order they are listed
/// in messages.
pub(crate) const VALID_ARGS: &str = "`flavor`, `worker_threads`, `start_paused` and `crate`";

/// Which runtime the expansion builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`
    CurrentThread,
    /// `Builder::new_multi_thread()`
    MultiThread,
    /// `Builder::new_current_thread()`, the body run inside a `LocalSet` so that
    /// `spawn_local` works in it.
    Local,
}

impl Flavor {
    /// The flavor used when no `flavor` argument is given.
    pub(crate) fn default_for(kind: Kind) -> Self {
        match kind {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }

    /// The string the user writes for this flavor.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
            Flavor::Local => "local",
        }
    }

    /// The `Builder` constructor suffix: `new_{builder}()`.
    pub(crate) fn builder(self) -> &'static str {
        match self {
            Flavor::CurrentThread | Flavor::Local => "current_thread",
            Flavor::MultiThread => "multi_thread",
        }
    }
}

/// A path to the weir crate, from `crate = "..."`, e.g. `::weir` or
/// `weir_runtime`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CratePath<S> {
    /// Whether the path starts with `::`.
    pub(crate) leading_colons: bool,
    /// The identifiers between the `::`s; never empty, all ASCII identifiers.
    pub(crate) segments: Vec<String>,
    /// The span of the string literal the path came from, or of the call site
    /// for the default path.
    pub(crate) span: S,
}

impl<S> CratePath<S> {
    /// The default path, `::weir`.
    pub(crate) fn default_at(span: S) -> Self {
        CratePath {
            leading_colons: true,
            segments: vec!["weir".to_owned()],
            span,
        }
    }

    /// The path as Rust source, e.g. `::weir` or `weir_runtime`. (The macro
    /// builds the path's tokens directly; this is for the tests.)
    #[cfg(test)]
    pub(crate) fn render(&self) -> String {
        let joined = self.segments.join("::");
        if self.leading_colons {
            format!("::{joined}")
        } else {
            joined
        }
    }
}

/// The parsed attribute arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Args<S> {
    /// The runtime flavor, explicit or defaulted.
    pub(crate) flavor: Flavor,
    /// `worker_threads = N`, if given (only ever with the multi-thread flavor).
    pub(crate) worker_threads: Option<usize>,
    /// `start_paused = true`: the runtime starts with its clock paused (never with the
    /// multi-thread flavor).
    pub(crate) start_paused: bool,
    /// `crate = "path"`, if given.
    pub(crate) crate_path: Option<CratePath<S>>,
}

impl<S> Args<S> {
    /// The arguments used when none are given.
    pub(crate) fn defaults(kind: Kind) -> Self {
        Args {
            flavor: Flavor::default_for(kind),
            worker_threads: None,
            start_paused: false,
            crate_path: None,
        }
    }
}

/// Parses the arguments of `#[weir::main(...)]` / `#[weir::test(...)]`.
///
/// Grammar: `( key "=" value ),*` with an optional trailing comma, where each
/// value is exactly one literal token and each key appears at most once.
pub(crate) fn parse_args<S: Copy>(toks: &[Tok<S>], kind: Kind) -> Result<Args<S>, Error<S>> {
    let mut flavor: Option<(Flavor, S)> = None;
    let mut worker_threads: Option<(usize, S)> = None;
    let mut start_paused: Option<(bool, S)> = None;
    let mut crate_path: Option<CratePath<S>> = None;

    let mut i = 0;
    while i < toks.len() {
        // The key.
        let key_tok = &toks[i];
        let key = match &key_tok.kind {
            TokKind::Ident(k) => k.as_str(),
            _ => {
                return Err(Error::new(
                    key_tok.span,
                    format!(
                        "expected an argument name, found `{}`; valid arguments are {VALID_ARGS}",
                        key_tok.describe()
                    ),
                ))
            }
        };
        if !matches!(key, "flavor" | "worker_threads" | "start_paused" | "crate") {
            let hint = match key {
                "current_thread" | "multi_thread" => {
                    format!(" (did you mean `flavor = \"{key}\"`?)")
                }
                _ => String::new(),
            };
            return Err(Error::new(
                key_tok.span,
                format!(
                    "unknown argument `{key}` for `{}`{hint}; valid arguments are {VALID_ARGS}",
                    kind.attr()
                ),
            ));
        }
        let already = match key {
            "flavor" => flavor.is_some(),
            "worker_threads" => worker_threads.is_some(),
            "start_paused" => start_paused.is_some(),
            _ => crate_path.is_some(),
        };
        if already {
            return Err(Error::new(
                key_tok.span,
                format!("duplicate argument `{key}`; each argument may be given only once"),
            ));
        }

        // The `=`.
        let eq = match toks.get(i + 1) {
            Some(t) if t.is_punct('=') => t,
            Some(t) => {
                return Err(Error::new(
                    t.span,
                    format!(
                    "expected `=` after `{key}`, found `{}`; arguments are written `key = value`",
                    t.describe()
                ),
                ))
            }
            None => {
                return Err(Error::new(
                    key_tok.span,
                    format!(
                        "expected `= value` after `{key}`; arguments are written `key = value`"
                    ),
                ))
            }
        };

        // The value.
        let Some(value) = toks.get(i + 2) else {
            return Err(Error::new(
                eq.span,
                format!("expected a value after `{key} =`"),
            ));
        };
        let mut next = i + 3;
        match key {
            "flavor" => flavor = Some((parse_flavor(value)?, key_tok.span)),
            "worker_threads" => {
                // A leading `-` is reported as part of the value.
                let shown = match (&value.kind, toks.get(i + 3)) {
                    (
                        TokKind::Punct { ch: '-', .. },
                        Some(
                            lit @ Tok {
                                kind: TokKind::Literal(_),
                                ..
                            },
                        ),
                    ) => {
                        next += 1;
                        format!("-{}", lit.describe())
                    }
                    _ => value.describe(),
                };
                let n = parse_worker_threads(value, &shown)?;
                worker_threads = Some((n, key_tok.span));
            }
            "start_paused" => start_paused = Some((parse_bool(key, value)?, key_tok.span)),
            _ => crate_path = Some(parse_crate_path(value)?),
        }

        // The separator.
        match toks.get(next) {
            None => {}
            Some(t) if t.is_punct(',') => next += 1,
            Some(t) => {
                return Err(Error::new(
                    t.span,
                    format!(
                        "expected `,` after the value of `{key}`, found `{}`; each argument value must be a single literal",
                        t.describe()
                    ),
                ))
            }
        }
        i = next;
    }

    let flavor_value = flavor.map_or(Flavor::default_for(kind), |(f, _)| f);
    if let Some((_, wt_span)) = worker_threads {
        if flavor_value != Flavor::MultiThread {
            let msg = if flavor.is_some() {
                format!(
                    "`worker_threads` can only be used with `flavor = \"multi_thread\"`, \
                     but `flavor = \"{}\"` was given",
                    flavor_value.name()
                )
            } else {
                format!(
                    "`worker_threads` can only be used with `flavor = \"multi_thread\"`; \
                     `{}` uses the `current_thread` flavor by default, \
                     add `flavor = \"multi_thread\"`",
                    kind.attr()
                )
            };
            return Err(Error::new(wt_span, msg));
        }
    }
    if let Some((true, sp_span)) = start_paused {
        if flavor_value == Flavor::MultiThread {
            return Err(Error::new(
                sp_span,
                "`start_paused = true` needs `flavor = \"current_thread\"` or \
                 `flavor = \"local\"`: a paused clock runs on one thread",
            ));
        }
    }
    Ok(Args {
        flavor: flavor_value,
        worker_threads: worker_threads.map(|(n, _)| n),
        start_paused: start_paused.is_some_and(|(b, _)| b),
        crate_path,
    })
}

/// The arguments to expand with after [`parse_args`] failed: the defaults,
/// but with the first well-formed `crate = "path"` kept, so that a bad
/// argument does not also cause "unresolved `::weir`" errors in crates that
/// reach weir under another name.
pub(crate) fn fallback_args<S: Copy>(toks: &[Tok<S>], kind: Kind) -> Args<S> {
    let crate_path = toks.windows(3).find_map(|w| match w {
        [key, eq, value] if key.is_ident("crate") && eq.is_punct('=') => {
            parse_crate_path(value).ok()
        }
        _ => None,
    });
    Args {
        crate_path,
        ..Args::defaults(kind)
    }
}

fn parse_bool<S: Copy>(key: &str, value: &Tok<S>) -> Result<bool, Error<S>> {
    match &value.kind {
        TokKind::Ident(b) if b == "true" => Ok(true),
        TokKind::Ident(b) if b == "false" => Ok(false),
        _ => Err(Error::new(
            value.span,
            format!(
                "`{key}` must be `true` or `false`, found `{}`",
                value.describe()
            ),
        )),
    }
}

fn parse_flavor<S: Copy>(value: &Tok<S>) -> Result<Flavor, Error<S>> {
    let Some(s) = string_literal(value) else {
        return Err(Error::new(
            value.span,
            format!(
                "`flavor` must be a string literal, `flavor = \"current_thread\"`, \
                 `flavor = \"multi_thread\"` or `flavor = \"local\"`, found `{}`",
                value.describe()
            ),
        ));
    };
    match s.as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        "local" => Ok(Flavor::Local),
        _ => Err(Error::new(
            value.span,
            format!(
                "unknown flavor `{}`; expected `\"current_thread\"`, `\"multi_thread\"` \
                 or `\"local\"`",
                value.describe()
            ),
        )),
    }
}

fn parse_worker_threads<S: Copy>(value: &Tok<S>, shown: &str) -> Result<usize, Error<S>> {
    let not_integer = || {
        Error::new(
            value.span,
            format!(
                "`worker_threads` must be a positive integer literal such as \
                 `worker_threads = 4`, found `{shown}`"
            ),
        )
    };
    let TokKind::Literal(text) = &value.kind else {
        return Err(not_integer());
    };
    match integer_literal(text) {
        Some(Ok(0)) => Err(Error::new(
            value.span,
            "`worker_threads` must be at least 1, found `0`",
        )),
        Some(Ok(n)) => Ok(n),
        Some(Err(())) => Err(Error::new(
            value.span,
            format!("`worker_threads = {text}` is too large"),
        )),
        None => Err(not_integer()),
    }
}

fn parse_crate_path<S: Copy>(value: &Tok<S>) -> Result<CratePath<S>, Error<S>> {
    let Some(s) = string_literal(value) else {
        return Err(Error::new(
            value.span,
            format!(
                "`crate` must be a string literal holding a path, such as \
                 `crate = \"weir\"`, found `{}`",
                value.describe()
            ),
        ));
    };
    parse_path(&s, value.span).ok_or_else(|| {
        Error::new(
            value.span,
            format!(
                "`crate = {}` is not a valid path; expected a path such as \
                 `\"weir\"`, `\"::weir\"` or `\"weir_runtime\"`",
                value.describe()
            ),
        )
    })
}

/// Parses `s` as a simple path: an optional leading `::`, then ASCII
/// identifiers separated by `::` (whitespace around them allowed).
fn parse_path<S>(s: &str, span: S) -> Option<CratePath<S>> {
    let s = s.trim();
    let (leading_colons, rest) = match s.strip_prefix("::") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut segments = Vec::new();
    for seg in rest.split("::") {
        let seg = seg.trim();
        let mut chars = seg.chars();
        let first = chars.next()?;
        let ident_start = first.is_ascii_alphabetic() || first == '_';
        let ident_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident_start || !ident_rest || seg == "_" {
            return None;
        }
        segments.push(seg.to_owned());
    }
    Some(CratePath {
        leading_colons,
        segments,
        span,
    })
}

/// The contents of a (raw) string literal token, or `None` if the token is
/// not a string literal. Escapes are processed for `\\`, `\"`, `\n`, `\t`,
/// `\r`, `\0` and `\'`; any other escape makes the literal unusable here.
fn string_literal<S>(tok: &Tok<S>) -> Option<String> {
    let TokKind::Literal(text) = &tok.kind else {
        return None;
    };
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw.get(hashes..raw.len().checked_sub(hashes)?)?;
        let inner = body.strip_prefix('"')?.strip_suffix('"')?;
        return Some(inner.to_owned());
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            _ => return None,
        });
    }
    Some(out)
}

/// The value of an integer literal token's text: `None` if it is not an
/// integer literal, `Some(Err(()))` if it does not fit in `usize`.
///
/// Accepts decimal, `0x`, `0o` and `0b` forms, `_` separators and an integer
/// type suffix (`4usize`, `0x10_u32`).
fn integer_literal(text: &str) -> Option<Result<usize, ()>> {
    const SUFFIXES: [&str; 12] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    let (radix, body) = if let Some(b) = text.strip_prefix("0x") {
        (16, b)
    } else if let Some(b) = text.strip_prefix("0o") {
        (8, b)
    } else if let Some(b) = text.strip_prefix("0b") {
        (2, b)
    } else {
        (10, text)
    };
    let body = SUFFIXES
        .iter()
        .find_map(|suf| body.strip_suffix(suf))
        .unwrap_or(body);
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(usize::from_str_radix(&digits, radix).map_err(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::lex;

    fn parse(src: &str, kind: Kind) -> Result<Args<usize>, Error<usize>> {
        parse_args(&lex(src), kind)
    }

    fn err(src: &str, kind: Kind) -> Error<usize> {
        match parse(src, kind) {
            Ok(args) => panic!("expected an error for {src:?}, got {args:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn defaults_without_arguments() {
        let main = parse("", Kind::Main).unwrap();
        assert_eq!(main, Args::defaults(Kind::Main));
        assert_eq!(main.flavor, Flavor::MultiThread);
        assert_eq!(main.worker_threads, None);
        assert_eq!(main.crate_path, None);

        let test = parse("", Kind::Test).unwrap();
        assert_eq!(test.flavor, Flavor::CurrentThread);
        assert_eq!(test.worker_threads, None);
    }

    #[test]
    fn all_arguments_in_any_order_with_trailing_comma() {
        let a = parse(
            r#"worker_threads = 4, crate = "weir_runtime", flavor = "multi_thread","#,
            Kind::Test,
        )
        .unwrap();
        assert_eq!(a.flavor, Flavor::MultiThread);
        assert_eq!(a.worker_threads, Some(4));
        let path = a.crate_path.unwrap();
        assert!(!path.leading_colons);
        assert_eq!(path.segments, ["weir_runtime"]);
        assert_eq!(path.span, 6, "the path carries the literal's span");
        assert_eq!(path.render(), "weir_runtime");
    }

    #[test]
    fn flavor_values() {
        let a = parse(r#"flavor = "current_thread""#, Kind::Main).unwrap();
        assert_eq!(a.flavor, Flavor::CurrentThread);
        let a = parse(r#"flavor = r"multi_thread""#, Kind::Test).unwrap();
        assert_eq!(a.flavor, Flavor::MultiThread);
        let a = parse(r##"flavor = r#"current_thread"#"##, Kind::Main).unwrap();
        assert_eq!(a.flavor, Flavor::CurrentThread);
    }

    #[test]
    fn worker_thread_literal_forms() {
        for (src, n) in [
            ("1", 1),
            ("16usize", 16),
            ("1_000", 1000),
            ("0x10", 16),
            ("0b11_u8", 3),
            ("0o17", 15),
        ] {
            let a = parse(&format!("worker_threads = {src}"), Kind::Main).unwrap();
            assert_eq!(a.worker_threads, Some(n), "{src}");
        }
    }

    #[test]
    fn crate_paths() {
        let a = parse(r#"crate = "::weir""#, Kind::Main).unwrap();
        assert_eq!(a.crate_path.unwrap().render(), "::weir");
        let a = parse(r#"crate = " my :: re_export::weir ""#, Kind::Main).unwrap();
        let p = a.crate_path.unwrap();
        assert_eq!(p.segments, ["my", "re_export", "weir"]);
        assert_eq!(p.render(), "my::re_export::weir");
        let a = parse(r#"crate = "crate""#, Kind::Test).unwrap();
        assert_eq!(a.crate_path.unwrap().render(), "crate");
        assert_eq!(CratePath::default_at(0).render(), "::weir");
    }

    #[test]
    fn unknown_argument_lists_valid_ones() {
        let e = err(
            r#"flavor = "multi_thread", unhandled_panic = true"#,
            Kind::Main,
        );
        assert_eq!(
            e.msg,
            "unknown argument `unhandled_panic` for `#[weir::main]`; \
             valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`"
        );
        assert_eq!(e.span, 4);
    }

    #[test]
    fn start_paused_and_local_flavor() {
        let a = parse("start_paused = true", Kind::Test).unwrap();
        assert!(a.start_paused);
        assert_eq!(a.flavor, Flavor::CurrentThread);
        let a = parse(r#"flavor = "local", start_paused = false"#, Kind::Main).unwrap();
        assert_eq!(a.flavor, Flavor::Local);
        assert!(!a.start_paused);
        // `false` is allowed with every flavor; `true` is not with multi_thread.
        assert!(parse(
            r#"flavor = "multi_thread", start_paused = false"#,
            Kind::Test
        )
        .is_ok());
        let e = err(
            r#"flavor = "multi_thread", start_paused = true"#,
            Kind::Test,
        );
        assert!(
            e.msg.starts_with("`start_paused = true` needs"),
            "{}",
            e.msg
        );
        assert_eq!(e.span, 4);
        // `#[weir::main]` defaults to multi_thread.
        assert!(err("start_paused = true", Kind::Main)
            .msg
            .contains("current_thread"));
        let e = err(r#"start_paused = "yes""#, Kind::Test);
        assert_eq!(
            e.msg,
            "`start_paused` must be `true` or `false`, found `\"yes\"`"
        );
        let e = err(r#"flavor = "local", worker_threads = 2"#, Kind::Test);
        assert!(
            e.msg.contains("but `flavor = \"local\"` was given"),
            "{}",
            e.msg
        );
        let e = err("start_paused = true, start_paused = true", Kind::Test);
        assert!(
            e.msg.starts_with("duplicate argument `start_paused`"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn bare_flavor_name_gets_a_hint() {
        let e = err("multi_thread", Kind::Test);
        assert_eq!(
            e.msg,
            "unknown argument `multi_thread` for `#[weir::test]` \
             (did you mean `flavor = \"multi_thread\"`?); \
             valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`"
        );
        assert_eq!(e.span, 0);
    }

    #[test]
    fn unknown_flavor() {
        let e = err(r#"flavor = "multi-thread""#, Kind::Main);
        assert_eq!(
            e.msg,
            "unknown flavor `\"multi-thread\"`; expected `\"current_thread\"`, `\"multi_thread\"` \
             or `\"local\"`"
        );
        assert_eq!(e.span, 2);
    }

    #[test]
    fn flavor_must_be_a_string() {
        let e = err("flavor = multi_thread", Kind::Main);
        assert_eq!(
            e.msg,
            "`flavor` must be a string literal, `flavor = \"current_thread\"`, \
             `flavor = \"multi_thread\"` or `flavor = \"local\"`, found `multi_thread`"
        );
        assert_eq!(e.span, 2);
        let e = err(r#"flavor = b"multi_thread""#, Kind::Main);
        assert!(e.msg.ends_with("found `b\"multi_thread\"`"), "{}", e.msg);
    }

    #[test]
    fn worker_threads_zero() {
        let e = err("worker_threads = 0", Kind::Main);
        assert_eq!(e.msg, "`worker_threads` must be at least 1, found `0`");
        assert_eq!(e.span, 2);
        let e = err("worker_threads = 0x0_usize", Kind::Main);
        assert_eq!(e.msg, "`worker_threads` must be at least 1, found `0`");
    }

    #[test]
    fn worker_threads_not_an_integer() {
        for (src, shown, span) in [
            (r#"worker_threads = "4""#, "\"4\"", 2),
            ("worker_threads = 4.0", "4.0", 2),
            ("worker_threads = 2.5e3", "2.5e3", 2),
            ("worker_threads = four", "four", 2),
            ("worker_threads = -1", "-1", 2),
            ("worker_threads = 4u8x", "4u8x", 2),
        ] {
            let e = err(src, Kind::Main);
            assert_eq!(
                e.msg,
                format!(
                    "`worker_threads` must be a positive integer literal such as \
                     `worker_threads = 4`, found `{shown}`"
                ),
                "{src}"
            );
            assert_eq!(e.span, span, "{src}");
        }
    }

    #[test]
    fn worker_threads_too_large() {
        let e = err(
            "worker_threads = 1000000000000000000000000000000000000000",
            Kind::Main,
        );
        assert_eq!(
            e.msg,
            "`worker_threads = 1000000000000000000000000000000000000000` is too large"
        );
    }

    #[test]
    fn worker_threads_with_current_thread() {
        let e = err(
            r#"flavor = "current_thread", worker_threads = 2"#,
            Kind::Main,
        );
        assert_eq!(
            e.msg,
            "`worker_threads` can only be used with `flavor = \"multi_thread\"`, \
             but `flavor = \"current_thread\"` was given"
        );
        assert_eq!(e.span, 4, "points at `worker_threads`");

        // Same when the flavor comes after.
        let e = err(
            r#"worker_threads = 2, flavor = "current_thread""#,
            Kind::Test,
        );
        assert_eq!(e.span, 0);
        assert!(e
            .msg
            .contains("but `flavor = \"current_thread\"` was given"));

        // A test defaults to current_thread.
        let e = err("worker_threads = 2", Kind::Test);
        assert_eq!(
            e.msg,
            "`worker_threads` can only be used with `flavor = \"multi_thread\"`; \
             `#[weir::test]` uses the `current_thread` flavor by default, \
             add `flavor = \"multi_thread\"`"
        );
        assert_eq!(e.span, 0);

        // ...while main defaults to multi_thread.
        let a = parse("worker_threads = 2", Kind::Main).unwrap();
        assert_eq!(a.flavor, Flavor::MultiThread);
        assert_eq!(a.worker_threads, Some(2));
    }

    #[test]
    fn duplicate_arguments() {
        for (src, key, span) in [
            (
                r#"flavor = "multi_thread", flavor = "current_thread""#,
                "flavor",
                4,
            ),
            (
                "worker_threads = 1, worker_threads = 1",
                "worker_threads",
                4,
            ),
            (
                r#"crate = "a", flavor = "multi_thread", crate = "b""#,
                "crate",
                8,
            ),
        ] {
            let e = err(src, Kind::Main);
            assert_eq!(
                e.msg,
                format!("duplicate argument `{key}`; each argument may be given only once")
            );
            assert_eq!(e.span, span, "{src}");
        }
    }

    #[test]
    fn malformed_syntax() {
        let cases: [(&str, &str, usize); 8] = [
            (
                "flavor",
                "expected `= value` after `flavor`; arguments are written `key = value`",
                0,
            ),
            (
                r#"flavor: "multi_thread""#,
                "expected `=` after `flavor`, found `:`; arguments are written `key = value`",
                1,
            ),
            (
                "worker_threads =",
                "expected a value after `worker_threads =`",
                1,
            ),
            (
                r#"flavor = "multi_thread" worker_threads = 2"#,
                "expected `,` after the value of `flavor`, found `worker_threads`; \
                 each argument value must be a single literal",
                3,
            ),
            (
                r#""multi_thread""#,
                "expected an argument name, found `\"multi_thread\"`; \
                 valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`",
                0,
            ),
            (
                r#", flavor = "multi_thread""#,
                "expected an argument name, found `,`; \
                 valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`",
                0,
            ),
            (
                "worker_threads = 2,,",
                "expected an argument name, found `,`; \
                 valid arguments are `flavor`, `worker_threads`, `start_paused` and `crate`",
                4,
            ),
            (
                "worker_threads = 2 + 1",
                "expected `,` after the value of `worker_threads`, found `+`; \
                 each argument value must be a single literal",
                3,
            ),
        ];
        for (src, msg, span) in cases {
            let e = err(src, Kind::Main);
            assert_eq!(e.msg, msg, "{src}");
            assert_eq!(e.span, span, "{src}");
        }
    }

    #[test]
    fn group_value_is_rejected() {
        let e = err("worker_threads = (4)", Kind::Main);
        assert_eq!(
            e.msg,
            "`worker_threads` must be a positive integer literal such as \
             `worker_threads = 4`, found `( ... )`"
        );
    }

    #[test]
    fn fallback_keeps_a_valid_crate_path() {
        let toks = lex(r#"crate = "weir_runtime", flavor = "bogus""#);
        assert!(parse_args(&toks, Kind::Test).is_err());
        let a = fallback_args(&toks, Kind::Test);
        assert_eq!(a.flavor, Flavor::CurrentThread);
        assert_eq!(a.worker_threads, None);
        let p = a.crate_path.unwrap();
        assert_eq!(p.render(), "weir_runtime");
        assert_eq!(p.span, 2);

        let toks = lex(r#"worker_threads = 0, crate = "a::b""#);
        let a = fallback_args(&toks, Kind::Main);
        assert_eq!(a.flavor, Flavor::MultiThread);
        assert_eq!(a.crate_path.unwrap().render(), "a::b");

        // Nothing usable: plain defaults.
        for src in [r#"crate = "no path""#, "crate = 3", "crate", "flavor = 1"] {
            let a = fallback_args(&lex(src), Kind::Main);
            assert_eq!(a, Args::defaults(Kind::Main), "{src}");
        }
    }

    #[test]
    fn invalid_crate_paths() {
        for bad in [
            r#""""#,
            r#""::""#,
            r#""weir::""#,
            r#""weir::::rt""#,
            r#""1weir""#,
            r#""weir-runtime""#,
            r#""_""#,
            r#""wëir""#,
            r#""weir::runtime::<T>""#,
        ] {
            let e = err(&format!("crate = {bad}"), Kind::Main);
            assert_eq!(
                e.msg,
                format!(
                    "`crate = {bad}` is not a valid path; expected a path such as \
                     `\"weir\"`, `\"::weir\"` or `\"weir_runtime\"`"
                )
            );
            assert_eq!(e.span, 2);
        }
        let e = err("crate = weir", Kind::Main);
        assert_eq!(
            e.msg,
            "`crate` must be a string literal holding a path, such as `crate = \"weir\"`, \
             found `weir`"
        );
    }
}
