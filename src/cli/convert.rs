//! `kiln convert IN OUT`: converts a model between `.onnx`, `.kiln` and (as input only) Darknet
//! `.cfg`, by the files' extensions. A `.kiln` output records the source's SHA-256 and the recipe;
//! a `.kiln` input keeps its own provenance. `--pack q8|q4` packs every weight that can be
//! packed first. An ONNX output writes packed weights as QDQ (int8/uint8, and int4/uint4 from
//! opset 21); block-sparse and N:M weights, and Q4 below `--opset 21`, are written dense.
//! `--lower-qdq` writes the graph with its QDQ patterns lowered to integer ops (an ONNX output
//! writes those in standard ops again), so that another engine can run kiln's integer graph.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiln::format::{load_kiln, save_kiln, Provenance};
use kiln::graph::packing::{pack_weights, Packing};
use kiln::graph::passes::{eliminate_dead_nodes, lower_qdq_report};
use kiln::graph::Graph;
use kiln::import::onnx::ExportOptions;
use kiln::import::{darknet, darknet_weights, onnx, ModelKind};
use kiln::tensor::{Q4GroupSize, Q8Scheme};
use kiln::Error;

/// Arguments of `kiln convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// The model to read: `.onnx`, `.kiln` or a Darknet `.cfg` (its `.weights` beside it).
    pub input: PathBuf,
    /// The file to write: `.kiln` or `.onnx`.
    pub output: PathBuf,
    /// The compression recipe to record in a `.kiln` output's provenance, as JSON.
    #[arg(long, value_name = "JSON")]
    pub recipe: Option<String>,
    /// Packs every MatMul/Gemm/Conv f32 weight first: `q8` (int8, symmetric, per output
    /// channel) or `q4` (int4, symmetric, groups of 32 along K).
    #[arg(long, value_name = "LAYOUT", value_parser = ["q8", "q4"])]
    pub pack: Option<String>,
    /// The ONNX opset to write (default: the latest the graph needs, 21 with Q4 weights).
    #[arg(long)]
    pub opset: Option<i64>,
    /// Lowers the QDQ patterns to integer ops first (as a Plan does), printing which nodes run
    /// in integers and why the others stay float.
    #[arg(long)]
    pub lower_qdq: bool,
}

/// The packing `--pack` names.
fn packing(name: &str) -> Packing {
    match name {
        "q4" => Packing::Q4 {
            group_size: Q4GroupSize::G32,
            symmetric: true,
        },
        _ => Packing::Q8 {
            per_channel: true,
            scheme: Q8Scheme::Symmetric,
            unsigned: false,
        },
    }
}

/// Reads `path` with the provenance a `.kiln` file of it records.
pub fn read_with_provenance(path: &Path) -> kiln::Result<(Graph, Provenance)> {
    let null = serde_json::Value::Null;
    match ModelKind::of(path)? {
        ModelKind::Onnx => Ok((
            onnx::load_onnx(path)?,
            Provenance::from_sources(&[path], null)?,
        )),
        ModelKind::Darknet => {
            let weights = darknet_weights(path)?;
            let graph = darknet::load_darknet(path, &weights)?.graph;
            Ok((graph, Provenance::from_sources(&[path, &weights], null)?))
        }
        ModelKind::Kiln => {
            let model = load_kiln(path)?;
            let provenance = Provenance {
                kiln_version: env!("CARGO_PKG_VERSION").into(),
                ..model.provenance
            };
            Ok((model.graph, provenance))
        }
    }
}

/// Runs `kiln convert`.
pub fn execute(args: ConvertArgs) -> kiln::Result<ExitCode> {
    let output_kind = ModelKind::of(&args.output)?;
    let (mut graph, mut provenance) = read_with_provenance(&args.input)?;
    if let Some(recipe) = &args.recipe {
        provenance.recipe =
            serde_json::from_str(recipe).map_err(|error| Error::InvalidArgument {
                op: "--recipe",
                detail: format!("not JSON: {error}"),
            })?;
    }
    if let Some(name) = &args.pack {
        let packed = pack_weights(&mut graph, &packing(name))?;
        log::info!("packed {} weights as {name}", packed.len());
        if provenance.recipe.is_null() {
            provenance.recipe = serde_json::json!({ "pack": name });
        }
    }
    if args.lower_qdq {
        let report = lower_qdq_report(&mut graph)?;
        eliminate_dead_nodes(&mut graph)?;
        println!("lowered to integer ops: {}", report.lowered.join(", "));
        for (node, reason) in &report.kept_float {
            println!("kept float: {node}: {reason}");
        }
    }
    match output_kind {
        ModelKind::Kiln => save_kiln(&graph, &provenance, &args.output)?,
        ModelKind::Onnx => {
            let options = ExportOptions { opset: args.opset };
            onnx::save_onnx_with(&graph, &args.output, &options)?;
        }
        ModelKind::Darknet => {
            return Err(Error::Unsupported {
                location: args.output.display().to_string(),
                detail: "kiln convert writes .kiln or .onnx, not Darknet".into(),
            })
        }
    }
    let bytes = std::fs::metadata(&args.output)
        .map_err(|error| Error::io(&args.output, error))?
        .len();
    println!(
        "wrote {} ({bytes} bytes): {} nodes, {} weights ({} packed)",
        args.output.display(),
        graph.nodes.len(),
        graph.initializers.len() + graph.packed_weights.len(),
        graph.packed_weights.len()
    );
    Ok(ExitCode::SUCCESS)
}
