//! One conformance case: found on disk, its data sets read, run on one backend and classified.

use std::path::{Path, PathBuf};

use kiln::device::Gpu;
use kiln::graph::Graph;
use kiln::import::onnx::{load_onnx, parse_tensor_proto, SUPPORTED_OPS};
use kiln::runtime::{Backend, Plan};
use kiln::tensor::HostTensor;
use kiln::Error;

use crate::compare::{compare_output, Tolerance, DEFAULT_TOLERANCE};

/// A case folder: `model.onnx`, `ops.txt` (written by the build script) and `test_data_set_*/`.
pub struct Case {
    /// `suite/case`, as the committed lists name it.
    pub id: String,
    /// The suite (`node`, `pytorch-converted`, ...).
    pub suite: String,
    dir: PathBuf,
    /// Every op the model uses, `domain:op_type` (`:Add` for the default domain).
    pub ops: Vec<String>,
    tolerance: Tolerance,
}

/// How a case went on one backend.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Every data set matched.
    Passed,
    /// A wrong result or an error that is not `Unsupported`.
    Failed(String),
    /// kiln lacks something the case needs: `detail` is the bare reason (for grouping), `message`
    /// the full error.
    Unsupported { detail: String, message: String },
}

impl Outcome {
    fn of_error(context: &str, error: Error) -> Outcome {
        match error {
            Error::Unsupported { ref detail, .. } => Outcome::Unsupported {
                detail: detail.clone(),
                message: format!("{context}{error}"),
            },
            other => Outcome::Failed(format!("{context}{other}")),
        }
    }
}

/// The inputs and expected outputs of one `test_data_set_*` folder.
pub struct DataSet {
    inputs: Vec<(String, HostTensor)>,
    expected: Vec<HostTensor>,
}

/// A case read from disk, ready to run on any backend.
pub struct LoadedCase {
    graph: Graph,
    data_sets: Vec<DataSet>,
}

/// Every case under `root/<suite>/<case>/model.onnx`, sorted by id.
pub fn discover(root: &Path) -> std::io::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for suite_dir in sorted_subdirs(root)? {
        let suite = file_name(&suite_dir);
        for dir in sorted_subdirs(&suite_dir)? {
            if !dir.join("model.onnx").is_file() {
                continue;
            }
            let ops = std::fs::read_to_string(dir.join("ops.txt"))?
                .lines()
                .map(str::to_string)
                .collect();
            cases.push(Case {
                id: format!("{suite}/{}", file_name(&dir)),
                suite: suite.clone(),
                ops,
                tolerance: tolerance_of(&dir)?,
                dir,
            });
        }
    }
    Ok(cases)
}

fn sorted_subdirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The runner's rule: rtol and atol from the case's `data.json` where it has one, else the defaults.
fn tolerance_of(dir: &Path) -> std::io::Result<Tolerance> {
    let path = dir.join("data.json");
    if !path.is_file() {
        return Ok(DEFAULT_TOLERANCE);
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .map_err(|error| std::io::Error::other(format!("{}: {error}", path.display())))?;
    let field = |key: &str, default: f64| json.get(key).and_then(|v| v.as_f64()).unwrap_or(default);
    Ok(Tolerance {
        rtol: field("rtol", DEFAULT_TOLERANCE.rtol),
        atol: field("atol", DEFAULT_TOLERANCE.atol),
    })
}

impl Case {
    /// The ops of this case that kiln's importer does not convert.
    pub fn unsupported_ops(&self) -> Vec<&str> {
        self.ops
            .iter()
            .filter(|op| {
                let (domain, op_type) = op.split_once(':').unwrap_or(("", op));
                !matches!(domain, "" | "ai.onnx") || !SUPPORTED_OPS.contains(&op_type)
            })
            .map(String::as_str)
            .collect()
    }

    /// Reads the model and every data set; an `Err` outcome says why the case cannot run.
    pub fn load(&self) -> Result<LoadedCase, Outcome> {
        let graph = load_onnx(&self.dir.join("model.onnx"))
            .map_err(|error| Outcome::of_error("loading model.onnx: ", error))?;
        let mut data_sets = Vec::new();
        for set_dir in sorted_subdirs(&self.dir).map_err(|e| Outcome::Failed(e.to_string()))? {
            if file_name(&set_dir).starts_with("test_data_set_") {
                data_sets.push(read_data_set(&set_dir, &graph)?);
            }
        }
        if data_sets.is_empty() {
            return Err(Outcome::Failed("no test_data_set_* folder".into()));
        }
        Ok(LoadedCase { graph, data_sets })
    }

    /// Plans and runs every data set on `gpu`, or on the CPU backend when it is `None`, and
    /// compares the outputs.
    pub fn run(&self, loaded: &LoadedCase, gpu: Option<&Gpu>) -> Outcome {
        for (index, data_set) in loaded.data_sets.iter().enumerate() {
            let context = format!("data set {index}: ");
            let shapes: Vec<(String, Vec<usize>)> = data_set
                .inputs
                .iter()
                .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
                .collect();
            let backend = gpu.map_or(Backend::Cpu, Backend::Gpu);
            let outputs = Plan::new(&loaded.graph, &shapes, backend)
                .and_then(|mut plan| plan.run(&data_set.inputs));
            let outputs = match outputs {
                Ok(outputs) => outputs,
                Err(error) => return Outcome::of_error(&context, error),
            };
            if outputs.len() != data_set.expected.len() {
                return Outcome::Failed(format!(
                    "{context}{} outputs, expected {}",
                    outputs.len(),
                    data_set.expected.len()
                ));
            }
            for ((name, got), expected) in outputs.iter().zip(&data_set.expected) {
                if let Err(mismatch) = compare_output(name, got, expected, self.tolerance) {
                    return Outcome::Failed(format!("{context}{mismatch}"));
                }
            }
        }
        Outcome::Passed
    }
}

/// `input_N.pb` feeds graph input N (by its name when the file names a graph input, as the ONNX
/// runner feeds by position); `output_N.pb` is the expected graph output N.
fn read_data_set(dir: &Path, graph: &Graph) -> Result<DataSet, Outcome> {
    let mut inputs = Vec::new();
    for (index, tensor_name, tensor) in read_tensors(dir, "input")? {
        let declared = graph.inputs.iter().any(|input| input.name == tensor_name);
        let name = match graph.inputs.get(index) {
            _ if declared => tensor_name,
            Some(input) => input.name.clone(),
            None => {
                return Err(Outcome::Failed(format!(
                    "input_{index}.pb has no graph input to feed ({} declared)",
                    graph.inputs.len()
                )))
            }
        };
        inputs.push((name, tensor));
    }
    let expected = read_tensors(dir, "output")?
        .into_iter()
        .map(|(_, _, tensor)| tensor)
        .collect();
    Ok(DataSet { inputs, expected })
}

/// `<kind>_0.pb`, `<kind>_1.pb`, ... until one is missing.
fn read_tensors(dir: &Path, kind: &str) -> Result<Vec<(usize, String, HostTensor)>, Outcome> {
    let mut tensors = Vec::new();
    loop {
        let index = tensors.len();
        let path = dir.join(format!("{kind}_{index}.pb"));
        if !path.is_file() {
            return Ok(tensors);
        }
        let bytes = std::fs::read(&path).map_err(|e| Outcome::Failed(e.to_string()))?;
        let context = format!("reading {kind}_{index}.pb: ");
        let (name, tensor) =
            parse_tensor_proto(&bytes).map_err(|error| Outcome::of_error(&context, error))?;
        tensors.push((index, name, tensor));
    }
}
