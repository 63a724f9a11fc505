//! The `.cfg` half of a Darknet model: INI-like `[section]` headers followed by `key=value` lines.
//! Parsed as darknet's `read_cfg` does (every whitespace character is removed from a line, lines
//! starting with `#` or `;` are comments), but strictly: a line that is neither a header nor
//! `key=value`, a key given twice and a number that does not parse are errors, where darknet would
//! read `atoi`'s guess. Getters mark the keys they read, so a section can reject the keys nobody
//! read ([`Section::reject_unread`]) instead of silently computing something else.

use crate::error::{Error, Result};
use std::cell::Cell;

/// One `[kind]` section and its options, in file order.
#[derive(Debug)]
pub(super) struct Section {
    /// The header's name, without brackets (`convolutional`).
    pub kind: String,
    /// Position among the sections: 0 is `[net]`, so darknet's layer index is `index - 1`.
    pub index: usize,
    /// 1-based line of the header.
    pub line: usize,
    options: Vec<CfgOption>,
}

#[derive(Debug)]
struct CfgOption {
    key: String,
    value: String,
    line: usize,
    read: Cell<bool>,
}

/// Splits `text` into sections; the first must be `[net]` (or `[network]`).
pub(super) fn parse_cfg(text: &str) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    for (line_index, raw_line) in text.lines().enumerate() {
        let line = line_index + 1;
        let stripped: String = raw_line.chars().filter(|c| !c.is_whitespace()).collect();
        if stripped.is_empty() || stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if let Some(header) = stripped.strip_prefix('[') {
            let kind = header
                .strip_suffix(']')
                .filter(|kind| !kind.is_empty())
                .ok_or_else(|| {
                    cfg_error(line, format!("'{stripped}' is not a [section] header"))
                })?;
            sections.push(Section {
                kind: kind.to_string(),
                index: sections.len(),
                line,
                options: Vec::new(),
            });
            continue;
        }
        let section = sections
            .last_mut()
            .ok_or_else(|| cfg_error(line, "an option before the first [section]".into()))?;
        section.push_option(&stripped, line)?;
    }
    match sections.first() {
        Some(first) if first.kind == "net" || first.kind == "network" => Ok(sections),
        Some(first) => Err(first.invalid("the first section must be [net]".into())),
        None => Err(cfg_error(1, "no sections: the file is empty".into())),
    }
}

fn cfg_error(line: usize, detail: String) -> Error {
    Error::InvalidModel {
        location: format!("cfg line {line}"),
        detail,
    }
}

impl Section {
    fn push_option(&mut self, stripped: &str, line: usize) -> Result<()> {
        let (key, value) = stripped
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| self.invalid(format!("line {line}: '{stripped}' is not key=value")))?;
        if let Some(first) = self.options.iter().find(|option| option.key == key) {
            return Err(self.invalid(format!(
                "key '{key}' is given twice (lines {} and {line})",
                first.line
            )));
        }
        self.options.push(CfgOption {
            key: key.to_string(),
            value: value.to_string(),
            line,
            read: Cell::new(false),
        });
        Ok(())
    }

    /// `section N [kind] at line L` (with the layer index for layer sections), for errors.
    pub fn location(&self) -> String {
        match self.index {
            0 => format!("section 0 [{}] at line {}", self.kind, self.line),
            index => format!(
                "section {index} [{}] at line {} (layer {})",
                self.kind,
                self.line,
                index - 1
            ),
        }
    }

    /// An [`Error::InvalidModel`] at this section.
    pub fn invalid(&self, detail: String) -> Error {
        Error::InvalidModel {
            location: self.location(),
            detail,
        }
    }

    /// An [`Error::Unsupported`] at this section.
    pub fn unsupported(&self, detail: String) -> Error {
        Error::Unsupported {
            location: self.location(),
            detail,
        }
    }

    fn find(&self, key: &str) -> Option<&CfgOption> {
        let option = self.options.iter().find(|option| option.key == key)?;
        option.read.set(true);
        Some(option)
    }

    fn bad_value(&self, option: &CfgOption, expected: &str) -> Error {
        self.invalid(format!(
            "key '{}' (line {}): '{}' is not {expected}",
            option.key, option.line, option.value
        ))
    }

    /// The integer at `key`, or `default`; an error when it is missing without a default or does
    /// not parse.
    pub fn int(&self, key: &str, default: Option<i64>) -> Result<i64> {
        match (self.find(key), default) {
            (Some(option), _) => option
                .value
                .parse()
                .map_err(|_| self.bad_value(option, "an integer")),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(self.invalid(format!("the required key '{key}' is missing"))),
        }
    }

    /// The integer at `key` (or `default`), required to be at least `min`.
    pub fn count(&self, key: &str, default: Option<usize>, min: usize) -> Result<usize> {
        let value = self.int(key, default.map(|d| d as i64))?;
        usize::try_from(value)
            .ok()
            .filter(|&value| value >= min)
            .ok_or_else(|| self.invalid(format!("key '{key}' is {value}, expected at least {min}")))
    }

    /// The float at `key`, or `default`.
    pub fn float(&self, key: &str, default: f32) -> Result<f32> {
        match self.find(key) {
            Some(option) => option
                .value
                .parse::<f32>()
                .ok()
                .filter(|value| value.is_finite())
                .ok_or_else(|| self.bad_value(option, "a finite number")),
            None => Ok(default),
        }
    }

    /// The text at `key`, or `default`.
    pub fn text(&self, key: &str, default: &str) -> String {
        self.find(key)
            .map_or(default, |option| option.value.as_str())
            .to_string()
    }

    /// The comma-separated integers at `key`, if present.
    pub fn int_list(&self, key: &str) -> Result<Option<Vec<i64>>> {
        self.list(key, "a comma-separated list of integers", |item| {
            item.parse::<i64>().ok()
        })
    }

    /// The comma-separated finite floats at `key`, if present.
    pub fn float_list(&self, key: &str) -> Result<Option<Vec<f32>>> {
        self.list(key, "a comma-separated list of numbers", |item| {
            item.parse::<f32>().ok().filter(|value| value.is_finite())
        })
    }

    fn list<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>> {
        let Some(option) = self.find(key) else {
            return Ok(None);
        };
        let items: Option<Vec<T>> = option.value.split(',').map(parse).collect();
        items
            .map(Some)
            .ok_or_else(|| self.bad_value(option, expected))
    }

    /// An [`Error::Unsupported`] naming the first key that no getter read and that is not in
    /// `inert` (keys that only configure training): kiln would otherwise ignore something that
    /// changes what the layer computes.
    pub fn reject_unread(&self, inert: &[&str]) -> Result<()> {
        match self
            .options
            .iter()
            .find(|option| !option.read.get() && !inert.contains(&option.key.as_str()))
        {
            Some(option) => Err(self.unsupported(format!(
                "key '{}' (line {}) is not implemented for [{}]",
                option.key, option.line, self.kind
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cfg;
    use crate::error::Error;

    fn detail_of(error: Error) -> (String, String) {
        match error {
            Error::InvalidModel { location, detail } | Error::Unsupported { location, detail } => {
                (location, detail)
            }
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn sections_keys_whitespace_and_comments_parse_as_darknet_reads_them() {
        let text = "# comment\n[net]\nwidth = 416\n; other comment\n\n[yolo]\nanchors = 10,14,  23,27\nmask=0\n";
        let sections = parse_cfg(text).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(
            (
                sections[1].kind.as_str(),
                sections[1].index,
                sections[1].line
            ),
            ("yolo", 1, 6)
        );
        assert_eq!(sections[0].int("width", None).unwrap(), 416);
        assert_eq!(sections[0].int("height", Some(7)).unwrap(), 7);
        let anchors = sections[1].float_list("anchors").unwrap().unwrap();
        assert_eq!(anchors, vec![10.0, 14.0, 23.0, 27.0]);
        assert_eq!(sections[1].int_list("mask").unwrap(), Some(vec![0]));
        assert_eq!(
            sections[1].location(),
            "section 1 [yolo] at line 6 (layer 0)"
        );
    }

    #[test]
    fn unread_keys_are_rejected_unless_inert() {
        let sections = parse_cfg("[net]\n[maxpool]\nsize=2\nmystery=1\nstopbackward=1\n").unwrap();
        assert_eq!(sections[1].count("size", None, 1).unwrap(), 2);
        let (location, detail) =
            detail_of(sections[1].reject_unread(&["stopbackward"]).unwrap_err());
        assert_eq!(location, "section 1 [maxpool] at line 2 (layer 0)");
        assert!(detail.contains("'mystery' (line 4)"), "{detail}");
        assert!(sections[0].reject_unread(&[]).is_ok());
    }

    #[test]
    fn malformed_text_names_the_line() {
        let cases = [
            ("width=1\n[net]\n", "cfg line 1", "before the first"),
            (
                "[net]\nwidth\n",
                "section 0 [net] at line 1",
                "line 2: 'width' is not key=value",
            ),
            ("[net]\n[conv\n", "cfg line 2", "not a [section] header"),
            (
                "[net]\nwidth=1\nwidth=2\n",
                "section 0 [net] at line 1",
                "twice (lines 2 and 3)",
            ),
            (
                "[maxpool]\n",
                "section 0 [maxpool] at line 1",
                "must be [net]",
            ),
            ("# nothing\n", "cfg line 1", "empty"),
        ];
        for (text, expected_location, expected_detail) in cases {
            let (location, detail) = detail_of(parse_cfg(text).unwrap_err());
            assert_eq!(location, expected_location, "{text}");
            assert!(detail.contains(expected_detail), "{text}: {detail}");
        }
    }

    #[test]
    fn bad_and_missing_values_are_errors() {
        let sections = parse_cfg("[net]\nwidth=4x\nheight=-3\nanchors=1,,2\nscale=nan\n").unwrap();
        let net = &sections[0];
        let (_, detail) = detail_of(net.int("width", None).unwrap_err());
        assert!(
            detail.contains("key 'width' (line 2): '4x' is not an integer"),
            "{detail}"
        );
        let (_, detail) = detail_of(net.count("height", None, 1).unwrap_err());
        assert!(detail.contains("is -3, expected at least 1"), "{detail}");
        assert!(net.float_list("anchors").is_err());
        assert!(net.float("scale", 1.0).is_err());
        let (_, detail) = detail_of(net.int("channels", None).unwrap_err());
        assert!(
            detail.contains("required key 'channels' is missing"),
            "{detail}"
        );
        assert_eq!(net.float("absent", 0.5).unwrap(), 0.5);
    }
}
