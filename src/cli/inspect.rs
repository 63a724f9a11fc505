//! `kiln inspect MODEL`: every node's weights with their precision, layout, shape and bytes, and
//! the totals, for `.onnx`, `.kiln` and Darknet `.cfg` alike; for `.kiln` also the provenance.

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::format::{inspect::format_table, load_kiln};
use kiln::import::{load_model, ModelKind};

/// Arguments of `kiln inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The model: `.onnx`, `.kiln` or a Darknet `.cfg`.
    pub model: PathBuf,
}

/// Runs `kiln inspect`.
pub fn execute(args: InspectArgs) -> kiln::Result<ExitCode> {
    let graph = if ModelKind::of(&args.model)? == ModelKind::Kiln {
        let model = load_kiln(&args.model)?;
        let provenance = &model.provenance;
        println!(
            ".kiln format version {}, written by kiln {}",
            model.format_version, provenance.kiln_version
        );
        println!(
            "source: {} (sha256 {})",
            provenance.source_file.as_deref().unwrap_or("none"),
            provenance.source_sha256.as_deref().unwrap_or("none")
        );
        println!("recipe: {}\n", provenance.recipe);
        model.graph
    } else {
        load_model(&args.model)?
    };
    println!(
        "model '{}': {} nodes, {} inputs, {} outputs\n",
        graph.name,
        graph.nodes.len(),
        graph.inputs.len(),
        graph.outputs.len()
    );
    print!("{}", format_table(&graph));
    Ok(ExitCode::SUCCESS)
}
