//! Binding the graph inputs: each input's declared dtype with the shape the caller gives, checked
//! against the declared rank, fixed extents and named symbols.

use super::ValueType;
use crate::error::{Error, Result};
use crate::graph::{Dim, Graph, ValueInfo};
use std::collections::{BTreeMap, HashMap};

/// The name an unnamed dynamic extent carries; it binds to nothing.
const UNNAMED_SYMBOL: &str = "?";

/// The type of every graph input: its declared dtype (required) and its shape from
/// `input_shapes`, or from the declaration when every extent there is fixed.
pub(super) fn bind_inputs(
    graph: &Graph,
    input_shapes: &[(String, Vec<usize>)],
) -> Result<BTreeMap<String, ValueType>> {
    let mut given: HashMap<&str, &[usize]> = HashMap::new();
    for (name, shape) in input_shapes {
        if !graph.inputs.iter().any(|input| &input.name == name) {
            return Err(invalid_argument(format!(
                "'{name}' is not a graph input; the inputs are {:?}",
                graph
                    .inputs
                    .iter()
                    .map(|input| input.name.as_str())
                    .collect::<Vec<_>>()
            )));
        }
        if given.insert(name, shape).is_some() {
            return Err(invalid_argument(format!(
                "input '{name}' is given two shapes"
            )));
        }
    }
    let mut symbols: HashMap<&str, (usize, &str)> = HashMap::new();
    let mut types = BTreeMap::new();
    for input in &graph.inputs {
        let dtype = input.dtype.ok_or_else(|| Error::InvalidModel {
            location: format!("graph input '{}'", input.name),
            detail: "declares no element type".into(),
        })?;
        let shape = match given.get(input.name.as_str()) {
            Some(shape) => shape.to_vec(),
            None => declared_fixed_shape(input)?,
        };
        check_declared(input, &shape, &mut symbols)?;
        types.insert(input.name.clone(), ValueType::new(dtype, shape));
    }
    Ok(types)
}

/// The declared shape of an input that the caller gave no shape for; every extent must be fixed.
fn declared_fixed_shape(input: &ValueInfo) -> Result<Vec<usize>> {
    let fixed: Option<Vec<usize>> = input.shape.as_ref().and_then(|dims| {
        dims.iter()
            .map(|dim| match dim {
                Dim::Fixed(size) => Some(*size),
                Dim::Symbol(_) => None,
            })
            .collect()
    });
    fixed.ok_or_else(|| {
        invalid_argument(format!(
            "no shape given for input '{}' (declared {}); pass it in the input shapes",
            input.name,
            describe(input.shape.as_deref())
        ))
    })
}

/// Checks `shape` against `input`'s declaration, binding its named symbols in `symbols` (symbol →
/// size and the input that bound it first).
fn check_declared<'a>(
    input: &'a ValueInfo,
    shape: &[usize],
    symbols: &mut HashMap<&'a str, (usize, &'a str)>,
) -> Result<()> {
    let Some(declared) = &input.shape else {
        return Ok(());
    };
    let mismatch = || {
        invalid_argument(format!(
            "input '{}' is given shape {shape:?} but declares {}",
            input.name,
            describe(Some(declared))
        ))
    };
    if declared.len() != shape.len() {
        return Err(mismatch());
    }
    for (dim, &size) in declared.iter().zip(shape) {
        match dim {
            Dim::Fixed(fixed) if *fixed != size => return Err(mismatch()),
            Dim::Fixed(_) => {}
            Dim::Symbol(symbol) if symbol.is_empty() || symbol == UNNAMED_SYMBOL => {}
            Dim::Symbol(symbol) => {
                let (bound, first) = *symbols.entry(symbol).or_insert((size, &input.name));
                if bound != size {
                    return Err(invalid_argument(format!(
                        "symbol '{symbol}' is {bound} in input '{first}' but {size} in input '{}'",
                        input.name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A declared shape as `[batch, 3, 224, 224]`.
fn describe(shape: Option<&[Dim]>) -> String {
    let Some(dims) = shape else {
        return "no shape".into();
    };
    let dims: Vec<String> = dims
        .iter()
        .map(|dim| match dim {
            Dim::Fixed(size) => size.to_string(),
            Dim::Symbol(symbol) => symbol.clone(),
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

fn invalid_argument(detail: String) -> Error {
    Error::InvalidArgument {
        op: "input shapes",
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    fn input(name: &str, dims: Vec<Dim>) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            dtype: Some(DType::F32),
            shape: Some(dims),
        }
    }

    fn graph(inputs: Vec<ValueInfo>) -> Graph {
        Graph {
            inputs,
            ..Graph::default()
        }
    }

    fn symbol(name: &str) -> Dim {
        Dim::Symbol(name.into())
    }

    #[test]
    fn symbols_bind_once_across_inputs() {
        let g = graph(vec![
            input("a", vec![symbol("batch"), Dim::Fixed(3)]),
            input("b", vec![symbol("batch"), symbol("?")]),
        ]);
        let shapes = |a: usize, b: usize| vec![("a".into(), vec![a, 3]), ("b".into(), vec![b, 7])];
        let types = bind_inputs(&g, &shapes(2, 2)).unwrap();
        assert_eq!(types["b"], ValueType::new(DType::F32, vec![2, 7]));
        let error = bind_inputs(&g, &shapes(2, 4)).unwrap_err().to_string();
        assert!(
            error.contains("symbol 'batch' is 2 in input 'a' but 4 in input 'b'"),
            "{error}"
        );
    }

    #[test]
    fn unnamed_symbols_bind_nothing() {
        let g = graph(vec![
            input("a", vec![symbol("?")]),
            input("b", vec![symbol("?")]),
        ]);
        let shapes = vec![("a".into(), vec![2]), ("b".into(), vec![5])];
        assert!(bind_inputs(&g, &shapes).is_ok());
    }

    #[test]
    fn declared_fixed_dims_are_checked() {
        let g = graph(vec![input("x", vec![Dim::Fixed(1), Dim::Fixed(3)])]);
        let error = bind_inputs(&g, &[("x".into(), vec![1, 4])]).unwrap_err();
        assert!(error.to_string().contains("declares [1, 3]"), "{error}");
        assert!(bind_inputs(&g, &[("x".into(), vec![1, 3, 1])]).is_err());
        let types = bind_inputs(&g, &[]).unwrap();
        assert_eq!(types["x"].shape, [1, 3]);
    }

    #[test]
    fn missing_dtype_shape_or_input_is_an_error() {
        let mut untyped = input("x", vec![Dim::Fixed(2)]);
        untyped.dtype = None;
        let error = bind_inputs(&graph(vec![untyped]), &[]).unwrap_err();
        assert!(
            error.to_string().contains("declares no element type"),
            "{error}"
        );
        let dynamic = graph(vec![input("x", vec![symbol("n")])]);
        assert!(bind_inputs(&dynamic, &[]).is_err());
        assert!(bind_inputs(&dynamic, &[("y".into(), vec![1])]).is_err());
    }
}
