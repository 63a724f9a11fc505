//! The inputs of `kiln run`: read from `--input` files and checked against the model's
//! declarations, or drawn at random (seeded) with symbolic dimensions bound by `--dim`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kiln::check::SeededRng;
use kiln::graph::{Dim, Graph, ValueInfo};
use kiln::io::tensor_file::read_tensor_file;
use kiln::tensor::{DType, HostTensor, TensorData};

use super::{invalid, RunArgs};

/// One tensor per graph input: read from its `--input` file, or random with the declared shape.
pub(super) fn build_inputs(
    graph: &Graph,
    args: &RunArgs,
) -> kiln::Result<Vec<(String, HostTensor)>> {
    let declared: Vec<&str> = graph
        .inputs
        .iter()
        .map(|input| input.name.as_str())
        .collect();
    let files: BTreeMap<&str, &Path> = args
        .inputs
        .iter()
        .map(|(name, path)| (name.as_str(), path.as_path()))
        .collect();
    if let Some(unknown) = files.keys().find(|name| !declared.contains(name)) {
        return Err(invalid(format!(
            "--input {unknown}: the model has no input of that name (its inputs: {})",
            declared.join(", ")
        )));
    }
    let dims: BTreeMap<&str, usize> = args
        .dims
        .iter()
        .map(|(name, value)| (name.as_str(), *value))
        .collect();
    let mut used_dims = BTreeSet::new();
    let mut rng = SeededRng::new(args.seed);
    let mut inputs = Vec::new();
    for input in &graph.inputs {
        let tensor = match files.get(input.name.as_str()) {
            Some(path) => {
                let tensor = read_tensor_file(path)?;
                check_declared(input, &tensor, path)?;
                tensor
            }
            None => {
                let shape = bind_shape(input, &dims, &mut used_dims)?;
                let dtype = input.dtype.unwrap_or(DType::F32);
                let what = format!("random input '{}'", input.name);
                let bytes = kiln::limits::random_input_bytes(&shape, dtype, &what)?;
                random_tensor(dtype, &shape, bytes / dtype.size_bytes(), &mut rng)?
            }
        };
        inputs.push((input.name.clone(), tensor));
    }
    for name in dims.keys().filter(|name| !used_dims.contains(*name)) {
        println!("note: --dim {name} binds no dimension of a random input");
    }
    Ok(inputs)
}

/// Checks a file's tensor against the input's declared dtype and fixed dimensions.
fn check_declared(input: &ValueInfo, tensor: &HostTensor, path: &Path) -> kiln::Result<()> {
    let dtype_ok = input.dtype.is_none_or(|dtype| dtype == tensor.dtype());
    let shape_ok = input.shape.as_ref().is_none_or(|dims| {
        dims.len() == tensor.shape().len()
            && dims
                .iter()
                .zip(tensor.shape())
                .all(|(dim, &extent)| match dim {
                    Dim::Fixed(fixed) => *fixed == extent,
                    Dim::Symbol(_) => true,
                })
    });
    if dtype_ok && shape_ok {
        return Ok(());
    }
    Err(invalid(format!(
        "--input {}={}: the file holds {} {:?}, the model declares {}",
        input.name,
        path.display(),
        tensor.dtype(),
        tensor.shape(),
        describe(input)
    )))
}

fn describe(input: &ValueInfo) -> String {
    let dtype = input
        .dtype
        .map_or("any dtype".to_string(), |d| d.to_string());
    let shape = input
        .shape
        .as_ref()
        .map_or("any shape".to_string(), |dims| {
            let dims: Vec<String> = dims
                .iter()
                .map(|dim| match dim {
                    Dim::Fixed(extent) => extent.to_string(),
                    Dim::Symbol(name) => name.clone(),
                })
                .collect();
            format!("[{}]", dims.join(", "))
        });
    format!("{dtype} {shape}")
}

/// The shape of a random input: fixed dims as declared, symbols from `--dim`, and batch-like
/// symbols (the first dim, an unnamed one, or one named like `batch`) 1 with a printed note.
fn bind_shape<'a>(
    input: &ValueInfo,
    dims: &BTreeMap<&'a str, usize>,
    used: &mut BTreeSet<&'a str>,
) -> kiln::Result<Vec<usize>> {
    let declared = input.shape.as_ref().ok_or_else(|| {
        invalid(format!(
            "input '{}' declares no shape: give it with --input {}=FILE.npy",
            input.name, input.name
        ))
    })?;
    let mut shape = Vec::with_capacity(declared.len());
    for (position, dim) in declared.iter().enumerate() {
        let extent = match dim {
            Dim::Fixed(extent) => *extent,
            Dim::Symbol(symbol) => {
                if let Some((&name, &value)) = dims.get_key_value(symbol.as_str()) {
                    used.insert(name);
                    value
                } else if position == 0 || symbol == "?" || symbol.to_lowercase().contains("batch")
                {
                    println!(
                        "note: input '{}' dimension {position} ('{symbol}') set to 1 (bind it with --dim {symbol}=N)",
                        input.name
                    );
                    1
                } else {
                    return Err(invalid(format!(
                        "input '{}' dimension {position} is the symbol '{symbol}': bind it with --dim {symbol}=N",
                        input.name
                    )));
                }
            }
        };
        shape.push(extent);
    }
    Ok(shape)
}

/// `count` (the element count of `shape`, checked against kiln's caps by the caller) seeded
/// random values: floats uniform in [-1, 1), integers in [0, 3] (valid as small indices).
fn random_tensor(
    dtype: DType,
    shape: &[usize],
    count: usize,
    rng: &mut SeededRng,
) -> kiln::Result<HostTensor> {
    let ints = |rng: &mut SeededRng| rng.int_vec(count, 0, 3);
    let data = match dtype {
        DType::F32 => TensorData::F32(rng.uniform_vec(count, -1.0, 1.0)),
        DType::F16 => TensorData::F16(
            rng.uniform_vec(count, -1.0, 1.0)
                .into_iter()
                .map(half::f16::from_f32)
                .collect(),
        ),
        DType::I8 => TensorData::I8(ints(rng).into_iter().map(|v| v as i8).collect()),
        DType::U8 => TensorData::U8(ints(rng).into_iter().map(|v| v as u8).collect()),
        DType::I32 => TensorData::I32(ints(rng)),
        DType::I64 => TensorData::I64(ints(rng).into_iter().map(i64::from).collect()),
        DType::Bool => TensorData::Bool(ints(rng).into_iter().map(|v| v % 2 == 1).collect()),
    };
    HostTensor::new(shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(shape: Vec<Dim>) -> ValueInfo {
        ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some(shape),
        }
    }

    #[test]
    fn symbols_bind_from_dims_or_default_to_one_when_batch_like() {
        let x = input(vec![
            Dim::Symbol("N".into()),
            Dim::Fixed(3),
            Dim::Symbol("height".into()),
        ]);
        let mut used = BTreeSet::new();
        let dims = BTreeMap::from([("height", 8)]);
        assert_eq!(bind_shape(&x, &dims, &mut used).unwrap(), vec![1, 3, 8]);
        assert!(used.contains("height"));
        let error = bind_shape(&x, &BTreeMap::new(), &mut used).unwrap_err();
        assert!(error.to_string().contains("--dim height=N"), "{error}");
    }

    #[test]
    fn files_must_match_the_declared_input() {
        let x = input(vec![Dim::Symbol("N".into()), Dim::Fixed(3)]);
        let fits = HostTensor::from_f32(&[2, 3], vec![0.0; 6]).unwrap();
        assert!(check_declared(&x, &fits, Path::new("x.npy")).is_ok());
        let wrong_shape = HostTensor::from_f32(&[2, 4], vec![0.0; 8]).unwrap();
        let error = check_declared(&x, &wrong_shape, Path::new("x.npy")).unwrap_err();
        assert!(error.to_string().contains("declares f32 [N, 3]"), "{error}");
        let wrong_dtype = HostTensor::from_i64(&[2, 3], vec![0; 6]).unwrap();
        assert!(check_declared(&x, &wrong_dtype, Path::new("x.npy")).is_err());
    }

    #[test]
    fn oversized_random_inputs_are_errors_before_allocation() {
        let graph = Graph {
            inputs: vec![input(vec![Dim::Fixed(1_000_000), Dim::Symbol("n".into())])],
            ..Graph::default()
        };
        let args = |dims: Vec<(String, usize)>| RunArgs {
            model: "m.onnx".into(),
            inputs: Vec::new(),
            dims,
            cpu: true,
            compare_cpu: false,
            output_dir: None,
            seed: 0,
        };
        let error = build_inputs(&graph, &args(vec![("n".into(), 1_000_000)])).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("random input 'x'"), "{message}");
        assert!(message.contains("KILN_MAX_RANDOM_INPUT_BYTES"), "{message}");
        let fits = build_inputs(&graph, &args(vec![("n".into(), 2)])).unwrap();
        assert_eq!(fits[0].1.shape(), &[1_000_000, 2]);
    }

    #[test]
    fn random_inputs_are_seeded_and_in_range() {
        let first = random_tensor(DType::F32, &[4, 5], 20, &mut SeededRng::new(1)).unwrap();
        let again = random_tensor(DType::F32, &[4, 5], 20, &mut SeededRng::new(1)).unwrap();
        assert_eq!(first, again);
        assert!(first.to_f64_vec().iter().all(|v| (-1.0..1.0).contains(v)));
        let indices = random_tensor(DType::I64, &[50], 50, &mut SeededRng::new(1)).unwrap();
        assert!(indices.to_f64_vec().iter().all(|v| (0.0..=3.0).contains(v)));
    }
}
