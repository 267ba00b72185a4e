//! A small, plain-Rust model of the token trees the macros look at.
//!
//! `proc_macro` types can only be used while a macro is being expanded, so
//! the argument parser and the function-shape analysis work on this model
//! instead. The span type is generic: the macro entry points use
//! `proc_macro::Span`, the unit tests use token indices.

/// The delimiter of a [`TokKind::Group`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delim {
    /// `( ... )`
    Paren,
    /// `{ ... }`
    Brace,
    /// `[ ... ]`
    Bracket,
    /// An invisible delimiter (produced by `macro_rules!` fragments).
    None,
}

/// What kind of token a [`Tok`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokKind<S> {
    /// An identifier or keyword, e.g. `fn`, `async`, `flavor`.
    Ident(String),
    /// A single punctuation character; `joint` is true when the next
    /// character belongs to the same operator (the `-` of `->`).
    Punct {
        /// The character.
        ch: char,
        /// Whether the next token is glued to this one.
        joint: bool,
    },
    /// A literal, kept as its source text (`"multi_thread"`, `4`, `4usize`).
    Literal(String),
    /// A delimited group.
    Group {
        /// The delimiter.
        delim: Delim,
        /// Whether the group has no tokens inside.
        empty: bool,
        /// The tokens inside. Only filled where the analysis needs them
        /// (bracket groups, i.e. attribute contents); empty otherwise.
        inner: Vec<Tok<S>>,
    },
}

/// One token tree of the model, with the span of the original token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tok<S> {
    /// What the token is.
    pub(crate) kind: TokKind<S>,
    /// Where the token came from.
    pub(crate) span: S,
}

impl<S> Tok<S> {
    /// Whether this token is the identifier `name`.
    pub(crate) fn is_ident(&self, name: &str) -> bool {
        matches!(&self.kind, TokKind::Ident(i) if i == name)
    }

    /// Whether this token is the punctuation character `ch`.
    pub(crate) fn is_punct(&self, ch: char) -> bool {
        matches!(self.kind, TokKind::Punct { ch: c, .. } if c == ch)
    }

    /// A short rendering of the token for error messages: the identifier,
    /// punctuation or literal text, or the delimiters of a group.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            TokKind::Ident(i) => i.clone(),
            TokKind::Punct { ch, .. } => ch.to_string(),
            TokKind::Literal(l) => l.clone(),
            TokKind::Group { delim, .. } => match delim {
                Delim::Paren => "( ... )".to_owned(),
                Delim::Brace => "{ ... }".to_owned(),
                Delim::Bracket => "[ ... ]".to_owned(),
                Delim::None => "a macro fragment".to_owned(),
            },
        }
    }
}

/// A compile error found while reading the macro input: a message and the
/// span of the token it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Error<S> {
    /// The message shown to the user.
    pub(crate) msg: String,
    /// The token the message points at.
    pub(crate) span: S,
}

impl<S> Error<S> {
    /// An error with message `msg` pointing at `span`.
    pub(crate) fn new(span: S, msg: impl Into<String>) -> Self {
        Error {
            msg: msg.into(),
            span,
        }
    }
}

/// Which macro is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[weir::main]`
    Main,
    /// `#[weir::test]`
    Test,
}

impl Kind {
    /// The attribute as the user writes it, for messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[weir::main]",
            Kind::Test => "#[weir::test]",
        }
    }
}
