//! Class names: a names file (one per line, as Darknet's `coco.names`), or a model's `names`
//! metadata, which Ultralytics writes as a Python dict literal (`{0: 'person', 1: 'bicycle'}`);
//! JSON lists and objects with integer keys are read too.

use std::path::Path;

use crate::error::{Error, Result};

/// Class names by class index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassNames {
    /// The names, index = class.
    pub names: Vec<String>,
}

fn bad(detail: String) -> Error {
    Error::InvalidArgument {
        op: "class names",
        detail,
    }
}

impl ClassNames {
    /// Reads a names file: one name per line, surrounding spaces and trailing empty lines dropped.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?;
        let mut names: Vec<String> = text.lines().map(|line| line.trim().to_string()).collect();
        while names.last().is_some_and(String::is_empty) {
            names.pop();
        }
        Ok(ClassNames { names })
    }

    /// Parses `names` metadata: `{0: 'a', 1: "b"}` (keys may be quoted, in any order, but must
    /// cover 0..n) or `['a', 'b']`.
    pub fn parse_metadata(text: &str) -> Result<Self> {
        let mut scanner = Scanner {
            chars: text.trim().chars().collect(),
            at: 0,
        };
        let names = match scanner.peek() {
            Some('{') => scanner.dict()?,
            Some('[') => scanner.list()?,
            _ => return Err(bad(format!("'{text}' is neither a dict nor a list"))),
        };
        scanner.skip_spaces();
        if scanner.at != scanner.chars.len() {
            return Err(bad(format!("unexpected text after the names in '{text}'")));
        }
        Ok(ClassNames { names })
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of `class`, or `class <index>` when there is none.
    pub fn name(&self, class: usize) -> String {
        self.names
            .get(class)
            .cloned()
            .unwrap_or_else(|| format!("class {class}"))
    }
}

/// A cursor over the metadata text.
struct Scanner {
    chars: Vec<char>,
    at: usize,
}

impl Scanner {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_spaces();
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, wanted: char) -> Result<()> {
        match self.peek() {
            Some(c) if c == wanted => {
                self.at += 1;
                Ok(())
            }
            other => Err(bad(format!(
                "expected '{wanted}' at character {}, found {other:?}",
                self.at
            ))),
        }
    }

    fn string(&mut self) -> Result<String> {
        let quote = match self.peek() {
            Some(c @ ('\'' | '"')) => c,
            other => return Err(bad(format!("expected a quoted name, found {other:?}"))),
        };
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.chars.get(self.at).copied() {
                None => return Err(bad("a name's closing quote is missing".into())),
                Some('\\') => {
                    let escaped = self.chars.get(self.at + 1).copied();
                    text.push(escaped.ok_or_else(|| bad("text ends in a backslash".into()))?);
                    self.at += 2;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn key(&mut self) -> Result<usize> {
        let digits = if matches!(self.peek(), Some('\'' | '"')) {
            self.string()?
        } else {
            let start = self.at;
            while self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
                self.at += 1;
            }
            self.chars[start..self.at].iter().collect()
        };
        digits
            .trim()
            .parse()
            .map_err(|_| bad(format!("'{digits}' is not a class index")))
    }

    /// Items separated by commas (a trailing comma allowed) up to `close`.
    fn items<T>(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(items);
            }
            items.push(item(self)?);
            if self.peek() == Some(',') {
                self.at += 1;
            } else {
                self.expect(close)?;
                return Ok(items);
            }
        }
    }

    fn list(&mut self) -> Result<Vec<String>> {
        self.expect('[')?;
        self.items(']', Scanner::string)
    }

    fn dict(&mut self) -> Result<Vec<String>> {
        self.expect('{')?;
        let entries = self.items('}', |scanner| {
            let key = scanner.key()?;
            scanner.expect(':')?;
            Ok((key, scanner.string()?))
        })?;
        let count = entries.len();
        let mut names = vec![None; count];
        for (key, name) in entries {
            let slot = names
                .get_mut(key)
                .ok_or_else(|| bad(format!("class {key} is beyond the {count} names")))?;
            if slot.replace(name).is_some() {
                return Err(bad(format!("class {key} is named twice")));
            }
        }
        names
            .into_iter()
            .enumerate()
            .map(|(class, name)| name.ok_or_else(|| bad(format!("class {class} has no name"))))
            .collect()
    }
}
