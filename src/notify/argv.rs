//! Splitting a configured command line into argv the way keepalived does: words separated by
//! blanks, double or single quotes group words, a backslash escapes the next character. No
//! shell is involved, so nothing in a VRRP instance name can be interpreted by one.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("unterminated {0} quote in command")]
    UnterminatedQuote(char),
    #[error("empty command")]
    Empty,
}

pub fn split_command(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(SplitError::UnterminatedQuote(q));
    }
    if in_word {
        words.push(current);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_blanks_and_keeps_quoted_words_together() {
        assert_eq!(
            split_command(r#"/bin/fault.sh "VG 1"  'a b' c\ d"#).unwrap(),
            ["/bin/fault.sh", "VG 1", "a b", "c d"]
        );
    }

    #[test]
    fn rejects_unterminated_quotes_and_empty_commands() {
        assert_eq!(
            split_command("/x \"a"),
            Err(SplitError::UnterminatedQuote('"'))
        );
        assert_eq!(split_command("   "), Err(SplitError::Empty));
    }

    #[test]
    fn empty_quoted_word_is_an_argument() {
        assert_eq!(split_command(r#"/x """#).unwrap(), ["/x", ""]);
    }
}
