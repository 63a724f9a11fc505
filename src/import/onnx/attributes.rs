//! Typed access to a node's attributes: each getter checks the attribute's declared type and
//! returns an [`Error::InvalidModel`] naming the node and the attribute when it is wrong, so the
//! op converters read `attrs.int_or("axis", 0)?` and never look at raw protobuf fields.

use super::proto::{AttributeProto, AttributeType, TensorProto};
use crate::error::{Error, Result};
use std::collections::HashSet;

/// The attributes of one node, with the node's location for errors.
pub(crate) struct Attributes<'a> {
    location: String,
    list: &'a [AttributeProto],
}

impl<'a> Attributes<'a> {
    /// Wraps `list`; an error if a name appears twice.
    pub(crate) fn new(location: String, list: &'a [AttributeProto]) -> Result<Self> {
        let mut seen = HashSet::new();
        for attribute in list {
            if !seen.insert(attribute.name.as_str()) {
                return Err(Error::InvalidModel {
                    location,
                    detail: format!("attribute '{}' is given twice", attribute.name),
                });
            }
        }
        Ok(Attributes { location, list })
    }

    /// The node's location (`node 'conv1' (Conv)`).
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// True when the node sets attribute `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.list.iter().any(|attribute| attribute.name == name)
    }

    /// The attribute `name`, checked to be of type `expected`.
    fn get(&self, name: &str, expected: AttributeType) -> Result<Option<&'a AttributeProto>> {
        let Some(attribute) = self.list.iter().find(|attribute| attribute.name == name) else {
            return Ok(None);
        };
        if attribute.r#type != expected as i32 {
            let actual = AttributeType::try_from(attribute.r#type).map_or_else(
                |_| format!("type code {}", attribute.r#type),
                |kind| format!("{kind:?}"),
            );
            return Err(self.invalid(name, format!("should be {expected:?}, is {actual}")));
        }
        Ok(Some(attribute))
    }

    /// An INT attribute.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .get(name, AttributeType::Int)?
            .map(|attribute| attribute.i))
    }

    /// An INT attribute or its default.
    pub(crate) fn int_or(&self, name: &str, default: i64) -> Result<i64> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    /// An INT attribute that must be 0 or 1, or its default.
    pub(crate) fn bool_or(&self, name: &str, default: bool) -> Result<bool> {
        match self.int(name)? {
            None => Ok(default),
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(other) => Err(self.invalid(name, format!("is {other}, expected 0 or 1"))),
        }
    }

    /// A non-negative INT attribute as `usize`, at least `min`, or its default.
    pub(crate) fn count_or(&self, name: &str, default: usize, min: usize) -> Result<usize> {
        match self.int(name)? {
            None => Ok(default),
            Some(value) => usize::try_from(value)
                .ok()
                .filter(|&value| value >= min)
                .ok_or_else(|| self.invalid(name, format!("is {value}, expected at least {min}"))),
        }
    }

    /// A FLOAT attribute.
    pub(crate) fn float(&self, name: &str) -> Result<Option<f32>> {
        Ok(self
            .get(name, AttributeType::Float)?
            .map(|attribute| attribute.f))
    }

    /// A FLOAT attribute or its default.
    pub(crate) fn float_or(&self, name: &str, default: f32) -> Result<f32> {
        Ok(self.float(name)?.unwrap_or(default))
    }

    /// A STRING attribute (UTF-8) or its default.
    pub(crate) fn string_or(&self, name: &str, default: &str) -> Result<String> {
        match self.get(name, AttributeType::String)? {
            None => Ok(default.to_string()),
            Some(attribute) => String::from_utf8(attribute.s.clone())
                .map_err(|_| self.invalid(name, "is not UTF-8".into())),
        }
    }

    /// An INTS attribute.
    pub(crate) fn ints(&self, name: &str) -> Result<Option<&'a [i64]>> {
        Ok(self
            .get(name, AttributeType::Ints)?
            .map(|attribute| attribute.ints.as_slice()))
    }

    /// An INTS attribute whose entries are all at least `min`, as `usize`s.
    pub(crate) fn counts(&self, name: &str, min: usize) -> Result<Option<Vec<usize>>> {
        let Some(values) = self.ints(name)? else {
            return Ok(None);
        };
        values
            .iter()
            .map(|&value| {
                usize::try_from(value)
                    .ok()
                    .filter(|&value| value >= min)
                    .ok_or_else(|| {
                        self.invalid(
                            name,
                            format!("holds {value}, expected values of at least {min}"),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A FLOATS attribute.
    pub(crate) fn floats(&self, name: &str) -> Result<Option<&'a [f32]>> {
        Ok(self
            .get(name, AttributeType::Floats)?
            .map(|attribute| attribute.floats.as_slice()))
    }

    /// A TENSOR attribute.
    pub(crate) fn tensor(&self, name: &str) -> Result<Option<&'a TensorProto>> {
        match self.get(name, AttributeType::Tensor)? {
            None => Ok(None),
            Some(attribute) => {
                attribute.t.as_ref().map(Some).ok_or_else(|| {
                    self.invalid(name, "is a TENSOR attribute without a tensor".into())
                })
            }
        }
    }

    /// An [`Error::InvalidModel`] about attribute `name`.
    pub(crate) fn invalid(&self, name: &str, detail: String) -> Error {
        Error::InvalidModel {
            location: self.location.clone(),
            detail: format!("attribute '{name}' {detail}"),
        }
    }

    /// An [`Error::Unsupported`] about attribute `name`.
    pub(crate) fn unsupported(&self, name: &str, detail: String) -> Error {
        Error::Unsupported {
            location: self.location.clone(),
            detail: format!("attribute '{name}' {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_attribute(name: &str, value: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Int as i32,
            i: value,
            ..Default::default()
        }
    }

    #[test]
    fn typed_getters_check_the_declared_type() {
        let list = [int_attribute("axis", -1), int_attribute("keepdims", 2)];
        let attrs = Attributes::new("node 'n' (Op)".into(), &list).unwrap();
        assert_eq!(attrs.int_or("axis", 0).unwrap(), -1);
        assert_eq!(attrs.int_or("missing", 5).unwrap(), 5);
        let wrong_type = attrs.float("axis").unwrap_err().to_string();
        assert!(
            wrong_type.contains("node 'n' (Op)") && wrong_type.contains("'axis'"),
            "{wrong_type}"
        );
        assert!(attrs.bool_or("keepdims", true).is_err());
        assert!(attrs.count_or("axis", 1, 0).is_err());
    }

    #[test]
    fn duplicate_names_are_invalid() {
        let list = [int_attribute("axis", 0), int_attribute("axis", 1)];
        assert!(Attributes::new("node 'n' (Op)".into(), &list).is_err());
    }
}
