//! The `.npy` header: a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
//! parsed by a small cursor that never panics, whatever the bytes.

/// What the header dict says.
#[derive(Debug, PartialEq)]
pub(super) struct Header {
    /// The numpy dtype string, `<f4`.
    pub descr: String,
    /// True for column-major data.
    pub fortran_order: bool,
    /// The dimensions.
    pub shape: Vec<usize>,
}

/// Parses `{'descr': ..., 'fortran_order': ..., 'shape': (...), }`, keys in any order.
pub(super) fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let mut cursor = Cursor { rest: text.trim() };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    cursor.expect('{')?;
    while !cursor.eat('}') {
        let key = cursor.string()?;
        cursor.expect(':')?;
        match key {
            "descr" => descr = Some(cursor.string()?.to_string()),
            "fortran_order" => fortran_order = Some(cursor.boolean()?),
            "shape" => shape = Some(cursor.shape()?),
            other => return Err(format!("an unknown header key '{other}'")),
        }
        if !cursor.eat(',') {
            cursor.expect('}')?;
            break;
        }
    }
    if !cursor.rest.is_empty() {
        return Err("text after the header dict".into());
    }
    Ok(Header {
        descr: descr.ok_or("no 'descr' in the header")?,
        fortran_order: fortran_order.ok_or("no 'fortran_order' in the header")?,
        shape: shape.ok_or("no 'shape' in the header")?,
    })
}

/// A position in the header text; every method skips leading whitespace.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, symbol: char) -> bool {
        self.rest = self.rest.trim_start();
        match self.rest.strip_prefix(symbol) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, symbol: char) -> std::result::Result<(), String> {
        if self.eat(symbol) {
            Ok(())
        } else {
            Err(format!(
                "expected '{symbol}' in the header at '{}'",
                self.excerpt()
            ))
        }
    }

    fn excerpt(&self) -> String {
        self.rest.chars().take(20).collect()
    }

    fn string(&mut self) -> std::result::Result<&'a str, String> {
        self.rest = self.rest.trim_start();
        let quote = match self.rest.chars().next() {
            Some(quote @ ('\'' | '"')) => quote,
            _ => return Err(format!("expected a quoted string at '{}'", self.excerpt())),
        };
        let body = &self.rest[1..];
        let end = body.find(quote).ok_or("an unterminated string")?;
        self.rest = &body[end + 1..];
        Ok(&body[..end])
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        for (word, value) in [("True", true), ("False", false)] {
            if let Some(rest) = self.rest.trim_start().strip_prefix(word) {
                self.rest = rest;
                return Ok(value);
            }
        }
        Err(format!("expected True or False at '{}'", self.excerpt()))
    }

    fn shape(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect('(')?;
        let mut dims = Vec::new();
        while !self.eat(')') {
            self.rest = self.rest.trim_start();
            let digits = self.rest.len()
                - self
                    .rest
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            let dim = self.rest[..digits]
                .parse::<usize>()
                .map_err(|_| format!("expected a dimension at '{}'", self.excerpt()))?;
            self.rest = &self.rest[digits..];
            dims.push(dim);
            if !self.eat(',') {
                self.expect(')')?;
                break;
            }
        }
        Ok(dims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dicts_parse_in_any_key_order_with_either_quote() {
        let header =
            parse_header("{\"shape\": (), 'descr': '<i8', 'fortran_order': True}").unwrap();
        assert_eq!(
            header,
            Header {
                descr: "<i8".into(),
                fortran_order: true,
                shape: vec![],
            }
        );
        let header =
            parse_header("{'descr': '|b1', 'fortran_order': False, 'shape': (4, 0,), }  \n")
                .unwrap();
        assert_eq!(header.shape, vec![4, 0]);
    }

    #[test]
    fn malformed_dicts_say_what_is_wrong() {
        let error = parse_header("{'descr': '<f4', 'fortran_order': False}").unwrap_err();
        assert_eq!(error, "no 'shape' in the header");
        let error = parse_header("{'descr': '<f4', 'shape': (1 2)}").unwrap_err();
        assert!(error.contains("expected ')'"), "{error}");
    }
}
