//! A tiny lexer from source text to the token model, for the unit tests.
//!
//! It understands just enough Rust to write attribute arguments and function
//! items in tests: identifiers, integer/float literals, (raw/byte) string and
//! char literals, lifetimes, punctuation and nested groups. A token's span
//! is its index in its own token list (the top level or its group), so tests
//! can check which token an error points at.

use crate::model::{Delim, Tok, TokKind};

/// Lexes `src` into top-level token trees; every group's `inner` is filled.
///
/// Panics on unbalanced delimiters or unterminated literals: test input is
/// expected to be well formed at the token level.
pub(crate) fn lex(src: &str) -> Vec<Tok<usize>> {
    let chars: Vec<char> = src.chars().collect();
    let mut pos = 0;
    let toks = lex_until(&chars, &mut pos, None);
    assert_eq!(pos, chars.len(), "unbalanced closing delimiter in {src:?}");
    toks
}

fn lex_until(chars: &[char], pos: &mut usize, close: Option<char>) -> Vec<Tok<usize>> {
    let mut out = Vec::new();
    loop {
        while *pos < chars.len() && chars[*pos].is_whitespace() {
            *pos += 1;
        }
        let Some(&c) = chars.get(*pos) else {
            assert!(close.is_none(), "missing closing {close:?}");
            return out;
        };
        if Some(c) == close {
            *pos += 1;
            return out;
        }
        let span = out.len();
        let kind = match c {
            '(' | '[' | '{' => {
                let (delim, end) = match c {
                    '(' => (Delim::Paren, ')'),
                    '[' => (Delim::Bracket, ']'),
                    _ => (Delim::Brace, '}'),
                };
                *pos += 1;
                let inner = lex_until(chars, pos, Some(end));
                TokKind::Group {
                    delim,
                    empty: inner.is_empty(),
                    inner,
                }
            }
            ')' | ']' | '}' => panic!("unexpected closing {c:?}"),
            '"' => TokKind::Literal(take_string(chars, pos, 0)),
            'r' if starts_raw_string(chars, *pos + 1) => {
                TokKind::Literal(take_raw_string(chars, pos, 1))
            }
            'b' if chars.get(*pos + 1) == Some(&'"') => {
                TokKind::Literal(take_string(chars, pos, 1))
            }
            'b' if chars.get(*pos + 1) == Some(&'r') && starts_raw_string(chars, *pos + 2) => {
                TokKind::Literal(take_raw_string(chars, pos, 2))
            }
            '\'' if chars.get(*pos + 2) == Some(&'\'') => {
                let text: String = chars[*pos..*pos + 3].iter().collect();
                *pos += 3;
                TokKind::Literal(text)
            }
            c if c.is_ascii_digit() => {
                let start = *pos;
                while *pos < chars.len()
                    && (chars[*pos].is_ascii_alphanumeric()
                        || chars[*pos] == '_'
                        || (chars[*pos] == '.'
                            && chars.get(*pos + 1).is_some_and(char::is_ascii_digit)))
                {
                    *pos += 1;
                }
                TokKind::Literal(chars[start..*pos].iter().collect())
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = *pos;
                while *pos < chars.len() && (chars[*pos].is_alphanumeric() || chars[*pos] == '_') {
                    *pos += 1;
                }
                TokKind::Ident(chars[start..*pos].iter().collect())
            }
            c => {
                *pos += 1;
                let joint = chars
                    .get(*pos)
                    .is_some_and(|n| n.is_ascii_punctuation() && !"()[]{}\"".contains(*n));
                TokKind::Punct { ch: c, joint }
            }
        };
        out.push(Tok { kind, span });
    }
}

fn starts_raw_string(chars: &[char], mut at: usize) -> bool {
    while chars.get(at) == Some(&'#') {
        at += 1;
    }
    chars.get(at) == Some(&'"')
}

/// Takes `prefix` chars, then a `"`-delimited string with `\` escapes.
fn take_string(chars: &[char], pos: &mut usize, prefix: usize) -> String {
    let start = *pos;
    *pos += prefix + 1;
    loop {
        match chars.get(*pos) {
            Some('\\') => *pos += 2,
            Some('"') => break,
            Some(_) => *pos += 1,
            None => panic!("unterminated string literal"),
        }
    }
    *pos += 1;
    chars[start..*pos].iter().collect()
}

/// Takes `prefix` chars, then `#`* `"` ... `"` `#`*.
fn take_raw_string(chars: &[char], pos: &mut usize, prefix: usize) -> String {
    let start = *pos;
    *pos += prefix;
    let mut hashes = 0;
    while chars[*pos] == '#' {
        hashes += 1;
        *pos += 1;
    }
    *pos += 1;
    loop {
        assert!(*pos < chars.len(), "unterminated raw string literal");
        if chars[*pos] == '"' && (1..=hashes).all(|k| chars.get(*pos + k) == Some(&'#')) {
            *pos += 1 + hashes;
            break;
        }
        *pos += 1;
    }
    chars[start..*pos].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_attribute_arguments() {
        let toks = lex(r#"flavor = "multi_thread", worker_threads = 4usize"#);
        let kinds: Vec<_> = toks.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TokKind::Ident("flavor".into()),
                TokKind::Punct {
                    ch: '=',
                    joint: false
                },
                TokKind::Literal("\"multi_thread\"".into()),
                TokKind::Punct {
                    ch: ',',
                    joint: false
                },
                TokKind::Ident("worker_threads".into()),
                TokKind::Punct {
                    ch: '=',
                    joint: false
                },
                TokKind::Literal("4usize".into()),
            ]
        );
        assert_eq!(
            toks.iter().map(|t| t.span).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6]
        );
    }

    #[test]
    fn lexes_groups_raw_strings_and_arrows() {
        let toks = lex(r###"#[doc = r#"x"#] fn f() -> u8 { 1.5 }"###);
        assert_eq!(toks.len(), 9);
        match &toks[1].kind {
            TokKind::Group { delim, inner, .. } => {
                assert_eq!(*delim, Delim::Bracket);
                assert_eq!(inner[2].kind, TokKind::Literal("r#\"x\"#".into()));
            }
            other => panic!("expected a group, got {other:?}"),
        }
        assert_eq!(
            toks[5].kind,
            TokKind::Punct {
                ch: '-',
                joint: true
            }
        );
        assert!(toks[6].is_punct('>'));
        match &toks[8].kind {
            TokKind::Group { delim, inner, .. } => {
                assert_eq!(*delim, Delim::Brace);
                assert_eq!(inner[0].kind, TokKind::Literal("1.5".into()));
            }
            other => panic!("expected a group, got {other:?}"),
        }
    }
}
